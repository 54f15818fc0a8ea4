// The factories of the Store contract suite, and its instantiation for every fixture.

#include "tests/unit/storage/store_contract.hpp"

#include <map>
#include <mutex>

#include "tests/support/fake_store.hpp"
#include "tests/support/postgres_server.hpp"

namespace hookyard::test {
namespace {

// The PostgreSQL store of `dir`: one database per directory (a fresh one per test), on the server this
// test process shares. A missing or broken PostgreSQL fails the test: the suite must not pass by skipping.
std::unique_ptr<storage::Store> open_postgres(const std::string& dir) {
    static std::mutex mutex;
    static std::map<std::string, std::string> databases;
    std::string error;
    PostgresServer* server = PostgresServer::shared(&error);
    if (server == nullptr) {
        ADD_FAILURE() << "no PostgreSQL server for the contract suite: " << error;
        return nullptr;
    }
    std::string name;
    {
        std::lock_guard lock(mutex);
        auto [it, added] = databases.emplace(dir, "");
        if (added) it->second = server->new_database("contract", &error);
        name = it->second;
        if (name.empty()) {
            ADD_FAILURE() << error;
            return nullptr;
        }
    }
    auto s = storage::open_store(server->url(name));
    if (!s) ADD_FAILURE() << s.error().message;
    return s ? std::move(*s) : nullptr;
}

}  // namespace

std::vector<StoreFactory> store_factories() {
    static FakeStoreFactory fakes;
    return {
        {"sqlite",
         [](const std::string& dir) -> std::unique_ptr<storage::Store> {
             auto s = storage::make_sqlite_store(dir + "/hookyard.db");
             if (!s) ADD_FAILURE() << s.error().message;
             return s ? std::move(*s) : nullptr;
         }},
        {"fake", [](const std::string& dir) { return fakes.open(dir); }},
        {"postgresql", open_postgres},
    };
}

namespace {
std::string factory_name(const ::testing::TestParamInfo<StoreFactory>& info) { return info.param.name; }
}  // namespace

INSTANTIATE_TEST_SUITE_P(Stores, StoreContract, ::testing::ValuesIn(store_factories()), factory_name);
INSTANTIATE_TEST_SUITE_P(Stores, StoreOutbox, ::testing::ValuesIn(store_factories()), factory_name);

}  // namespace hookyard::test
