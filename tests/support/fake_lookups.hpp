#pragma once
// The in-memory store's lookups for the stage runner (Store::last_succeeded, Store::last_pusher): the same
// answers the SQLite store's queries give, on maps.

#include <optional>
#include <string>

#include "storage/store.hpp"

namespace hookyard::test {

// `Data` is FakeStoreData (builds); the caller holds its mutex.
template <class Data>
std::optional<storage::Build> fake_last_succeeded(const Data& d, const std::string& repository, std::size_t rule,
                                                  const std::string& ref) {
    const storage::Build* best = nullptr;
    for (const auto& [id, b] : d.builds) {
        const bool match = b.state == storage::BuildState::succeeded && !b.commit.empty() &&
                           b.repository == repository && b.rule == rule && b.ref == ref;
        // Builds iterate in id order: on equal finish times the newer build wins, as in the SQLite store.
        if (match && (best == nullptr || b.finished_at >= best->finished_at)) best = &b;
    }
    return best ? std::optional<storage::Build>(*best) : std::nullopt;
}

// `Data` is FakeStoreData (builds, last_push); the caller holds its mutex.
template <class Data>
std::optional<storage::Build> fake_last_pusher(const Data& d, const std::string& image) {
    const auto it = d.last_push.find(image);
    if (it == d.last_push.end()) return std::nullopt;
    const auto b = d.builds.find(it->second);
    return b == d.builds.end() ? std::nullopt : std::optional<storage::Build>(b->second);
}

}  // namespace hookyard::test
