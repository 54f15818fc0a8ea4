#pragma once
// The Store contract suite's fixture: every TEST_P(StoreContract, …) and TEST_P(StoreOutbox, …) runs
// against each implementation in store_factories() — SQLite on a file and the in-memory fake today.
// A new Store (PostgreSQL) joins by adding one factory there.

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/store.hpp"
#include "tests/support/support.hpp"

namespace hookyard::test {

struct StoreFactory {
    std::string name;  // the test-name suffix: letters, digits and _
    // Opens the store kept in `dir`; opening the same dir again sees the same data (a "restart").
    std::function<std::unique_ptr<storage::Store>(const std::string& dir)> open;
};

// The implementations the contract runs against.
std::vector<StoreFactory> store_factories();

class StoreContract : public ::testing::TestWithParam<StoreFactory> {
protected:
    std::unique_ptr<storage::Store> open() {
        auto s = GetParam().open(m_dir.path());
        EXPECT_TRUE(s) << "opening the " << GetParam().name << " store failed";
        return s;
    }
    TempDir m_dir;
};

// A build of rule 0 of acme/web (image docker.io/acme/web) for `ref`, pushing `tags`.
inline storage::NewBuild web_build(const std::string& ref, std::vector<std::string> tags = {}) {
    storage::NewBuild b;
    b.repository = "acme/web";
    b.ref = ref;
    b.image = "docker.io/acme/web";
    b.tags = std::move(tags);
    return b;
}

// The scheduler's and the dispatcher's side of the contract (outbox_test.cpp).
class StoreOutbox : public StoreContract {};

}  // namespace hookyard::test
