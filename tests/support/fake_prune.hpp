#pragma once
// The in-memory store's retention (FakeStore::prune): the same choice the SQLite store makes, on maps.

#include <map>
#include <set>
#include <tuple>

#include "storage/store.hpp"

namespace hookyard::test {

// `Data` is FakeStoreData (builds, deliveries, logs, notifications, callbacks); the caller holds its mutex.
template <class Data>
storage::PruneResult fake_prune(Data& d, const storage::PrunePolicy& p) {
    std::map<std::tuple<std::string, std::size_t, std::string>, storage::BuildId> last_ok;
    std::map<std::pair<std::string, std::size_t>, int> seen;  // newer builds per repository+rule so far
    for (const auto& [id, b] : d.builds) {
        if (b.state == storage::BuildState::succeeded) last_ok[{b.repository, b.rule, b.ref}] = id;
    }
    std::set<storage::BuildId> keep;
    for (const auto& [key, id] : last_ok) keep.insert(id);
    storage::PruneResult r;
    for (auto it = d.builds.rbegin(); it != d.builds.rend(); ++it) {
        const auto& b = it->second;
        const bool young = ++seen[{b.repository, b.rule}] <= p.keep_per_rule || b.created_at >= p.builds_before;
        if (young || keep.count(b.id) > 0 || !storage::is_terminal(b.state)) continue;
        ++r.builds;
        r.rows += 1 + static_cast<std::int64_t>(d.logs.count(b.id) + d.callbacks[b.id].size());
    }
    for (const auto& [id, del] : d.deliveries) r.deliveries += del.first.received_at < p.deliveries_before ? 1 : 0;
    r.rows += r.deliveries;
    if (p.dry_run) return r;
    seen.clear();
    for (auto it = d.builds.rbegin(); it != d.builds.rend();) {
        const auto& b = it->second;
        const bool young = ++seen[{b.repository, b.rule}] <= p.keep_per_rule || b.created_at >= p.builds_before;
        if (young || keep.count(b.id) > 0 || !storage::is_terminal(b.state)) {
            ++it;
            continue;
        }
        const auto id = b.id;
        d.logs.erase(id);
        d.callbacks.erase(id);
        std::erase_if(d.notifications, [id](const auto& kv) { return kv.second.build_id == id; });
        it = std::make_reverse_iterator(d.builds.erase(std::next(it).base()));
    }
    std::erase_if(d.deliveries, [&](const auto& kv) { return kv.second.first.received_at < p.deliveries_before; });
    return r;
}

}  // namespace hookyard::test
