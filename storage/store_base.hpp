#pragma once
// What both Store implementations hold beside their SQL: a write connection (the group-commit thread and
// the synchronous writes, under m_write_mutex) and a read connection (under m_read_mutex), the event
// planner, the counters /metrics reads, the group-commit queue of accepts and this instance's cluster
// identity. Internal to storage/.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "storage/build_state.hpp"
#include "storage/group_commit.hpp"
#include "storage/store.hpp"

namespace hookyard::storage {

template <class Connection>
class StoreBase : public Store {
public:
    void set_event_planner(EventPlanner planner) final {
        std::lock_guard lock(m_write_mutex);
        m_planner = std::move(planner);
    }
    void set_cluster(const ClusterIdentity& identity) final {
        std::lock_guard lock(m_write_mutex);
        m_cluster = identity;
    }
    void accept_delivery(Delivery delivery, std::vector<NewBuild> builds, AcceptCallback done) final {
        m_accepts.submit(PendingAccept{std::move(delivery), std::move(builds), std::move(done)});
    }
    void flush() final { m_accepts.flush(); }
    util::Result<StoreStats> stats() final {
        std::lock_guard lock(m_counts_mutex);
        return m_counts;
    }
    // Reads the counters for stats(); the store's factory calls it once the store is complete.
    void load_counts() {
        std::lock_guard lock(m_write_mutex);
        refresh_counts();
    }

    // Public so that the stores can inherit it (the class is abstract: only they construct it).
    StoreBase(std::unique_ptr<Connection> writer, std::unique_ptr<Connection> reader)
        : m_write(std::move(writer)),
          m_read(std::move(reader)),
          m_accepts([this](const std::vector<PendingAccept>& batch) { return commit_accepts(batch); }) {}

protected:
    // One group commit of accepts, on the queue's thread. The queue outlives the derived class: its
    // destructor must flush() first, so that no batch reaches this after it is gone.
    virtual std::vector<util::Result<AcceptOutcome>> commit_accepts(const std::vector<PendingAccept>& batch) = 0;
    // Re-reads the counters table and set_counts() it; the caller holds m_write_mutex. A failed read keeps
    // the last figures (the next write tries again).
    virtual void refresh_counts() = 0;
    // Publishes the rows (name, n) of the counters table: "deliveries" and "builds.<state>".
    void set_counts(const std::vector<std::pair<std::string, std::int64_t>>& rows) {
        StoreStats s;
        constexpr std::string_view k_prefix = "builds.";
        for (const auto& [name, n] : rows) {
            if (name == "deliveries") s.deliveries = n;
            if (name.rfind(k_prefix, 0) != 0) continue;
            if (auto state = parse_build_state(name.substr(k_prefix.size()))) s.builds_by_state[*state] = n;
        }
        std::lock_guard lock(m_counts_mutex);
        m_counts = std::move(s);
    }

    std::unique_ptr<Connection> m_write;
    std::unique_ptr<Connection> m_read;
    EventPlanner m_planner;     // guarded by m_write_mutex
    ClusterIdentity m_cluster;  // guarded by m_write_mutex
    std::mutex m_write_mutex;
    std::mutex m_read_mutex;

private:
    std::mutex m_counts_mutex;
    StoreStats m_counts;         // guarded by m_counts_mutex
    GroupCommitQueue m_accepts;  // last: its thread stops (after draining) before the connections close
};

}  // namespace hookyard::storage
