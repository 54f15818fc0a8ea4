#pragma once
// The in-memory store's retention, leases, listing and counts: the same answers the SQLite store gives, on maps.

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
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

// Store::list_builds on the builds map.
inline std::vector<storage::Build> fake_list(const std::map<storage::BuildId, storage::Build>& builds,
                                             const storage::BuildFilter& f) {
    std::vector<storage::Build> out;
    const auto limit = static_cast<std::size_t>(std::clamp(f.limit, 1, 500));
    for (auto it = builds.rbegin(); it != builds.rend() && out.size() < limit; ++it) {
        const storage::Build& b = it->second;
        if (f.repository && b.repository != *f.repository) continue;
        if (f.state && b.state != *f.state) continue;
        if (f.rule && b.rule != *f.rule) continue;
        if (f.ref && b.ref != *f.ref) continue;
        if (f.before_id > 0 && b.id >= f.before_id) continue;
        out.push_back(b);
    }
    return out;
}

// Store::stats, counted (the fake is small).
template <class Data>
storage::StoreStats fake_stats(const Data& d) {
    storage::StoreStats s;
    for (const auto& [id, b] : d.builds) ++s.builds_by_state[b.state];
    s.deliveries = static_cast<std::int64_t>(d.deliveries.size());
    return s;
}

// Store::acquire_lease (`ttl` set) or release_lease (nullopt) on a map name → (holder, expiry); the
// caller holds the store's mutex. True when `holder` holds the lease afterwards.
inline bool fake_lease(std::map<std::string, std::pair<std::string, storage::TimeMs>>& leases, const std::string& name,
                       const std::string& holder, std::optional<std::chrono::milliseconds> ttl) {
    const storage::TimeMs now = storage::now_ms();
    auto it = leases.find(name);
    const bool mine = it != leases.end() && it->second.first == holder;
    if (!ttl) {
        if (mine) leases.erase(it);
        return false;
    }
    if (it != leases.end() && !mine && it->second.second > now) return false;
    leases[name] = {holder, now + ttl->count()};
    return true;
}

}  // namespace hookyard::test
