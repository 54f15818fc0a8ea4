// The factories of the Store contract suite, and its instantiation for every fixture.

#include "tests/unit/storage/store_contract.hpp"

#include "tests/support/fake_store.hpp"

namespace hookyard::test {

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
    };
}

namespace {
std::string factory_name(const ::testing::TestParamInfo<StoreFactory>& info) { return info.param.name; }
}  // namespace

INSTANTIATE_TEST_SUITE_P(Stores, StoreContract, ::testing::ValuesIn(store_factories()), factory_name);
INSTANTIATE_TEST_SUITE_P(Stores, StoreOutbox, ::testing::ValuesIn(store_factories()), factory_name);

}  // namespace hookyard::test
