#pragma once
// An in-memory Store for unit tests: the same contract as the SQLite store (tests/unit/storage runs one
// contract suite against both), no files, no fsync. accept_delivery() answers on the caller's thread.
// Stores made by one FakeStoreFactory for the same key share their data, so "reopening" keeps it, as a
// database file would.

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "storage/store.hpp"

namespace hookyard::test {

// The data of one fake database; opaque to callers.
struct FakeStoreData;

// A Store kept in memory. Thread-safe (one mutex).
std::unique_ptr<storage::Store> make_fake_store(std::shared_ptr<FakeStoreData> data = nullptr);

// Opens fake stores by key (a directory in the contract suite): the same key, the same data.
class FakeStoreFactory {
public:
    std::unique_ptr<storage::Store> open(const std::filesystem::path& key);

private:
    std::mutex m_mutex;
    std::map<std::filesystem::path, std::shared_ptr<FakeStoreData>> m_data;
};

// Store::accept_delivery() for tests that may block: waits for the commit.
util::Result<storage::AcceptOutcome> accept_sync(storage::Store& store, storage::Delivery delivery,
                                                 std::vector<storage::NewBuild> builds);

}  // namespace hookyard::test
