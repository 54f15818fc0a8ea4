// The SQLite Store: one write connection (used by the group-commit writer thread and by the synchronous
// writes, under m_write_mutex) and one read connection (under m_read_mutex), so reads never wait for an
// fsync. WAL mode keeps readers and the writer apart.

#include <future>
#include <mutex>

#include "storage/group_commit.hpp"
#include "storage/sqlite_build_rows.hpp"
#include "storage/sqlite_claim.hpp"
#include "storage/sqlite_db.hpp"
#include "storage/sqlite_migrations.hpp"
#include "storage/sqlite_outbox.hpp"
#include "storage/store.hpp"

namespace hookyard::storage {
namespace {

using sqlite::Db;
using sqlite::Transaction;
using util::ErrorKind;
using util::make_error;
using util::Result;
using util::Status;

class SqliteStore final : public Store {
public:
    SqliteStore(std::unique_ptr<Db> writer, std::unique_ptr<Db> reader)
        : m_write(std::move(writer)),
          m_read(std::move(reader)),
          m_accepts([this](const std::vector<PendingAccept>& batch) { return commit_accepts(batch); }) {}

    void accept_delivery(Delivery delivery, std::vector<NewBuild> builds, AcceptCallback done) override {
        m_accepts.submit(PendingAccept{std::move(delivery), std::move(builds), std::move(done)});
    }

    Result<std::vector<Build>> insert_builds(std::vector<NewBuild> builds) override {
        std::lock_guard lock(m_write_mutex);
        Transaction tx(*m_write);
        if (!tx.begun()) return tx.begun().error();
        std::vector<BuildId> ids;
        for (const auto& b : builds) {
            auto id = sqlite::insert_build(*m_write, b, "", 0);
            if (!id) return id.error();
            if (auto st = sqlite::queue_events(*m_write, m_planner, *id); !st) return st.error();
            ids.push_back(*id);
        }
        if (auto c = tx.commit(); !c) return c.error();
        std::vector<Build> out;
        for (auto id : ids) {
            auto b = sqlite::load_build(*m_write, id);
            if (!b) return b.error();
            out.push_back(std::move(*b));
        }
        return out;
    }

    Result<Build> get_build(BuildId id) override {
        std::lock_guard lock(m_read_mutex);
        return sqlite::load_build(*m_read, id);
    }

    Result<std::vector<Build>> list_builds(const BuildFilter& filter) override {
        std::lock_guard lock(m_read_mutex);
        // One read transaction so the builds and their stages are one snapshot.
        if (auto st = m_read->exec("BEGIN"); !st) return st.error();
        auto out = sqlite::load_builds(*m_read, filter);
        (void)m_read->exec("COMMIT");  // a read-only transaction: nothing to lose if ending it fails
        return out;
    }

    Result<std::optional<Delivery>> find_delivery(const std::string& id) override {
        std::lock_guard lock(m_read_mutex);
        auto q = m_read->query("SELECT id, event, repository, received_ms FROM deliveries WHERE id = ?");
        if (!q) return q.error();
        q->bind_all(id);
        auto row = q->step();
        if (!row) return row.error();
        if (!*row) return std::optional<Delivery>{};
        return std::optional<Delivery>(Delivery{q->text_at(0), q->text_at(1), q->text_at(2), q->int_at(3)});
    }

    Result<std::optional<Build>> claim_next_queued() override {
        std::lock_guard lock(m_write_mutex);
        Transaction tx(*m_write);
        if (!tx.begun()) return tx.begun().error();
        auto picked = sqlite::pick_claimable(*m_write);
        if (!picked) return picked.error();
        if (!*picked) {
            // Supersessions made while picking still count.
            if (auto c = tx.commit(); !c) return c.error();
            return std::optional<Build>{};
        }
        const BuildId id = **picked;
        if (auto st = sqlite::transition(*m_write, id, BuildState::running); !st) return st.error();
        if (auto st = sqlite::queue_events(*m_write, m_planner, id); !st) return st.error();
        if (auto c = tx.commit(); !c) return c.error();
        auto b = sqlite::load_build(*m_write, id);
        if (!b) return b.error();
        return std::optional<Build>(std::move(*b));
    }

    Status start_stage(BuildId id, const std::string& name) override {
        std::lock_guard lock(m_write_mutex);
        Transaction tx(*m_write);
        if (!tx.begun()) return tx.begun();
        auto b = sqlite::load_build(*m_write, id);
        if (!b) return b.error();
        if (b->state != BuildState::running) {
            return make_error(ErrorKind::conflict, "build " + std::to_string(id) + " is " +
                                                       std::string(to_string(b->state)) + ", not running");
        }
        auto q = m_write->query(
            "INSERT INTO build_stages (build_id, seq, name, state, started_ms) VALUES "
            "(?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM build_stages WHERE build_id = ?), ?, "
            "'running', ?)");
        if (!q) return q.error();
        if (auto st = q->bind_all(id, id, name, now_ms()).run(); !st) return st;
        return tx.commit();
    }

    Status finish_stage(BuildId id, const std::string& name, BuildState result, const std::string& error) override {
        if (result != BuildState::succeeded && result != BuildState::failed && result != BuildState::canceled) {
            return make_error(ErrorKind::invalid_input, "a stage ends succeeded, failed or canceled");
        }
        std::lock_guard lock(m_write_mutex);
        const TimeMs now = now_ms();
        auto q = m_write->query(
            "UPDATE build_stages SET state = ?, finished_ms = ?, duration_ms = ? - started_ms, "
            "error = ? WHERE build_id = ? AND name = ? AND state = 'running'");
        if (!q) return q.error();
        if (auto st = q->bind_all(to_string(result), now, now, error, id, name).run(); !st) return st;
        if (m_write->changes() == 0) {
            return make_error(ErrorKind::not_found,
                              "build " + std::to_string(id) + " has no running stage '" + name + "'");
        }
        return {};
    }

    Status finish_build(BuildId id, BuildState terminal, const std::string& digest, const std::string& error) override {
        if (!is_terminal(terminal)) {
            return make_error(ErrorKind::invalid_input, "finish_build needs a terminal state");
        }
        std::lock_guard lock(m_write_mutex);
        Transaction tx(*m_write);
        if (!tx.begun()) return tx.begun();
        if (auto st = sqlite::transition(*m_write, id, terminal); !st) return st;
        auto q = m_write->query("UPDATE builds SET digest = ?, error = ? WHERE id = ?");
        if (!q) return q.error();
        if (auto st = q->bind_all(digest, error, id).run(); !st) return st;
        if (auto st = sqlite::queue_events(*m_write, m_planner, id); !st) return st;
        return tx.commit();
    }

    Result<int> requeue_running(int max_attempts) override {
        std::lock_guard lock(m_write_mutex);
        Transaction tx(*m_write);
        if (!tx.begun()) return tx.begun().error();
        auto stages = m_write->query(
            "UPDATE build_stages SET state = 'failed', finished_ms = ?, duration_ms = ? - started_ms, "
            "error = 'interrupted by restart' WHERE state = 'running' AND build_id IN "
            "(SELECT id FROM builds WHERE state = 'running')");
        if (!stages) return stages.error();
        const TimeMs now = now_ms();
        if (auto st = stages->bind_all(now, now).run(); !st) return st.error();
        if (auto failed = sqlite::fail_exhausted(*m_write, max_attempts, m_planner); !failed) return failed.error();
        auto q = m_write->query(
            "UPDATE builds SET state = 'queued', started_ms = 0, attempts = attempts + 1 "
            "WHERE state = 'running'");
        if (!q) return q.error();
        if (auto st = q->run(); !st) return st.error();
        const int n = m_write->changes();
        if (auto c = tx.commit(); !c) return c.error();
        return n;
    }

    Result<std::vector<BuildId>> supersede_older(BuildId newer) override {
        std::lock_guard lock(m_write_mutex);
        Transaction tx(*m_write);
        if (!tx.begun()) return tx.begun().error();
        auto b = sqlite::load_build(*m_write, newer);
        if (!b) return b.error();
        std::vector<BuildId> ids;
        {
            auto q = m_write->query(
                "SELECT id FROM builds WHERE state = 'queued' AND repository = ? AND "
                "rule_index = ? AND ref = ? AND id < ?");
            if (!q) return q.error();
            q->bind_all(b->repository, b->rule, b->ref, newer);
            if (auto st = q->each_row([&] { ids.push_back(q->int_at(0)); }); !st) {
                return st.error();
            }
        }
        for (auto id : ids) {
            if (auto st = sqlite::transition(*m_write, id, BuildState::superseded); !st) return st.error();
            auto q = m_write->query("UPDATE builds SET superseded_by = ? WHERE id = ?");
            if (!q) return q.error();
            if (auto st = q->bind_all(newer, id).run(); !st) return st.error();
        }
        if (auto c = tx.commit(); !c) return c.error();
        return ids;
    }

    Result<Build> cancel_build(BuildId id) override {
        std::lock_guard lock(m_write_mutex);
        Transaction tx(*m_write);
        if (!tx.begun()) return tx.begun().error();
        auto b = sqlite::load_build(*m_write, id);
        if (!b) return b.error();
        if (b->state == BuildState::queued) {
            if (auto st = sqlite::transition(*m_write, id, BuildState::canceled); !st) return st.error();
            if (auto st = sqlite::queue_events(*m_write, m_planner, id); !st) return st.error();
        } else if (b->state == BuildState::running) {
            auto q = m_write->query("UPDATE builds SET cancel_requested = 1 WHERE id = ?");
            if (!q) return q.error();
            if (auto st = q->bind_all(id).run(); !st) return st.error();
        } else {
            return make_error(ErrorKind::conflict, "build " + std::to_string(id) + " is already " +
                                                       std::string(to_string(b->state)) + "; nothing to cancel");
        }
        if (auto c = tx.commit(); !c) return c.error();
        return sqlite::load_build(*m_write, id);
    }

    Result<Build> retry_build(BuildId id) override {
        std::lock_guard lock(m_write_mutex);
        Transaction tx(*m_write);
        if (!tx.begun()) return tx.begun().error();
        auto b = sqlite::load_build(*m_write, id);
        if (!b) return b.error();
        if (!is_terminal(b->state)) {
            return make_error(ErrorKind::conflict, "build " + std::to_string(id) + " is still " +
                                                       std::string(to_string(b->state)) +
                                                       "; retry it once it has finished (or cancel it first)");
        }
        auto nid = sqlite::insert_build(*m_write, static_cast<const NewBuild&>(*b), "", id);
        if (!nid) return nid.error();
        if (auto st = sqlite::queue_events(*m_write, m_planner, *nid); !st) return st.error();
        if (auto c = tx.commit(); !c) return c.error();
        return sqlite::load_build(*m_write, *nid);
    }

    Status append_log(BuildId id, std::string_view text) override {
        if (text.empty()) return {};
        std::lock_guard lock(m_write_mutex);
        Transaction tx(*m_write);
        if (!tx.begun()) return tx.begun();
        std::int64_t offset = 0;
        {
            auto q = m_write->query("SELECT log_size FROM builds WHERE id = ?");
            if (!q) return q.error();
            q->bind_all(id);
            auto row = q->step();
            if (!row) return row.error();
            if (!*row) return make_error(ErrorKind::not_found, "build " + std::to_string(id) + " does not exist");
            offset = q->int_at(0);
        }
        auto ins = m_write->query("INSERT INTO build_logs (build_id, offset, size, data) VALUES (?, ?, ?, ?)");
        if (!ins) return ins.error();
        if (auto st = ins->bind_all(id, offset, text.size(), text).run(); !st) return st;
        auto up = m_write->query("UPDATE builds SET log_size = log_size + ? WHERE id = ?");
        if (!up) return up.error();
        if (auto st = up->bind_all(text.size(), id).run(); !st) return st;
        return tx.commit();
    }

    Result<LogChunk> read_log(BuildId id, std::int64_t offset, std::size_t max_bytes) override {
        std::lock_guard lock(m_read_mutex);
        if (auto st = m_read->exec("BEGIN"); !st) return st.error();
        auto out = read_log_locked(id, std::max<std::int64_t>(offset, 0), max_bytes);
        (void)m_read->exec("COMMIT");  // read-only
        return out;
    }

    Result<StoreStats> stats() override {
        std::lock_guard lock(m_read_mutex);
        StoreStats s;
        auto q = m_read->query("SELECT state, COUNT(*) FROM builds GROUP BY state");
        if (!q) return q.error();
        if (auto st = q->each_row([&] {
                if (auto state = parse_build_state(q->text_at(0))) s.builds_by_state[*state] = q->int_at(1);
            });
            !st) {
            return st.error();
        }
        auto d = m_read->query("SELECT COUNT(*) FROM deliveries");
        if (!d) return d.error();
        auto row = d->step();
        if (!row) return row.error();
        s.deliveries = d->int_at(0);
        return s;
    }

    void set_event_planner(EventPlanner planner) override {
        std::lock_guard lock(m_write_mutex);
        m_planner = std::move(planner);
    }

    Result<Build> claim(BuildId id) override {
        std::lock_guard lock(m_write_mutex);
        Transaction tx(*m_write);
        if (!tx.begun()) return tx.begun().error();
        if (auto st = sqlite::transition(*m_write, id, BuildState::running); !st) return st.error();
        if (auto st = sqlite::queue_events(*m_write, m_planner, id); !st) return st.error();
        if (auto c = tx.commit(); !c) return c.error();
        return sqlite::load_build(*m_write, id);
    }

    Status set_commit(BuildId id, const std::string& sha) override {
        std::lock_guard lock(m_write_mutex);
        if (auto b = sqlite::load_build(*m_write, id); !b) return b.error();
        auto q = m_write->query("UPDATE builds SET commit_sha = ? WHERE id = ? AND commit_sha = ''");
        if (!q) return q.error();
        return q->bind_all(sha, id).run();
    }

    Result<std::vector<Notification>> claim_due_notifications(int max_targets, int per_target,
                                                              const std::vector<std::string>& busy_targets,
                                                              std::chrono::milliseconds lease) override {
        std::lock_guard lock(m_write_mutex);
        Transaction tx(*m_write);
        if (!tx.begun()) return tx.begun().error();
        auto out =
            sqlite::claim_due_notifications(*m_write, now_ms(), lease.count(), max_targets, per_target, busy_targets);
        if (!out) return out.error();
        if (auto c = tx.commit(); !c) return c.error();
        return out;
    }

    Status record_notification_attempt(NotificationId id, const NotificationAttempt& attempt, bool delivered,
                                       TimeMs next_attempt_at) override {
        std::lock_guard lock(m_write_mutex);
        Transaction tx(*m_write);
        if (!tx.begun()) return tx.begun();
        if (auto st = sqlite::record_attempt(*m_write, id, attempt, delivered, next_attempt_at); !st) return st;
        return tx.commit();
    }

    Result<int> release_notification_leases() override {
        std::lock_guard lock(m_write_mutex);
        auto q = m_write->query(
            "UPDATE notifications SET next_attempt_ms = ? WHERE state = 'pending' AND "
            "next_attempt_ms > ?");
        if (!q) return q.error();
        const TimeMs now = now_ms();
        if (auto st = q->bind_all(now, now).run(); !st) return st.error();
        return m_write->changes();
    }

    Result<std::vector<Notification>> list_notifications(BuildId id) override {
        std::lock_guard lock(m_read_mutex);
        if (auto st = m_read->exec("BEGIN"); !st) return st.error();
        auto out = sqlite::load_notifications(*m_read, id);
        (void)m_read->exec("COMMIT");  // read-only
        return out;
    }

    Status add_callback(BuildId id, const BuildCallback& callback) override {
        std::lock_guard lock(m_write_mutex);
        return sqlite::insert_callback(*m_write, id, callback);
    }

    Result<std::vector<BuildCallback>> list_callbacks(BuildId id) override {
        std::lock_guard lock(m_read_mutex);
        return sqlite::load_callbacks(*m_read, id);
    }

    Status ping() override {
        std::lock_guard lock(m_read_mutex);
        auto q = m_read->query("SELECT COUNT(*) FROM schema_migrations");
        if (!q) return q.error();
        auto row = q->step();
        if (!row) return row.error();
        return {};
    }

    void flush() override { m_accepts.flush(); }

private:
    Result<LogChunk> read_log_locked(BuildId id, std::int64_t offset, std::size_t max_bytes) {
        auto b = m_read->query("SELECT state, log_size FROM builds WHERE id = ?");
        if (!b) return b.error();
        b->bind_all(id);
        auto row = b->step();
        if (!row) return row.error();
        if (!*row) return make_error(ErrorKind::not_found, "build " + std::to_string(id) + " does not exist");
        const bool terminal = is_terminal(parse_build_state(b->text_at(0)).value_or(BuildState::failed));
        const std::int64_t size = b->int_at(1);
        LogChunk chunk;
        chunk.next_offset = std::min(offset, size);
        auto q = m_read->query(
            "SELECT offset, data FROM build_logs WHERE build_id = ? AND offset + size > ? "
            "ORDER BY offset");
        if (!q) return q.error();
        q->bind_all(id, offset);
        while (chunk.data.size() < max_bytes) {
            auto r = q->step();
            if (!r) return r.error();
            if (!*r) break;
            const std::int64_t start = q->int_at(0);
            std::string data = q->text_at(1);
            const auto skip = static_cast<std::size_t>(std::max<std::int64_t>(0, chunk.next_offset - start));
            const auto take = std::min(data.size() - skip, max_bytes - chunk.data.size());
            chunk.data.append(data, skip, take);
            chunk.next_offset += static_cast<std::int64_t>(take);
        }
        chunk.complete = terminal && chunk.next_offset >= size;
        return chunk;
    }

    // One accept inside the batch transaction, isolated by a savepoint so its failure spares the others.
    Result<AcceptOutcome> accept_one(const PendingAccept& p) {
        auto existing = sqlite::delivery_builds(*m_write, p.delivery.id);
        if (!existing) return existing.error();
        if (*existing) return AcceptOutcome{true, std::move(**existing)};
        if (auto st = m_write->exec("SAVEPOINT accept"); !st) return st.error();
        AcceptOutcome out;
        Status failed;
        for (const auto& b : p.builds) {
            auto id = sqlite::insert_build(*m_write, b, p.delivery.id, 0);
            if (!id) {
                failed = id.error();
                break;
            }
            if (auto st = sqlite::queue_events(*m_write, m_planner, *id); !st) {
                failed = st.error();
                break;
            }
            out.build_ids.push_back(*id);
        }
        if (failed.ok()) failed = sqlite::insert_delivery(*m_write, p.delivery, out.build_ids);
        if (!failed.ok()) {
            (void)m_write->exec("ROLLBACK TO accept");  // the outer transaction's own failure surfaces at COMMIT
            (void)m_write->exec("RELEASE accept");
            return failed.error();
        }
        if (auto st = m_write->exec("RELEASE accept"); !st) return st.error();
        return out;
    }

    // One group commit: every accept of the batch in one transaction, one fsync (GroupCommitQueue's thread).
    std::vector<Result<AcceptOutcome>> commit_accepts(const std::vector<PendingAccept>& batch) {
        std::vector<Result<AcceptOutcome>> results;
        results.reserve(batch.size());
        std::lock_guard lock(m_write_mutex);
        Transaction tx(*m_write);
        if (!tx.begun()) {
            for (std::size_t i = 0; i < batch.size(); ++i) results.emplace_back(tx.begun().error());
            return results;
        }
        for (const auto& p : batch) results.push_back(accept_one(p));
        if (auto c = tx.commit(); !c) {
            for (auto& r : results) r = c.error();
        }
        return results;
    }

    std::unique_ptr<Db> m_write;
    std::unique_ptr<Db> m_read;
    EventPlanner m_planner;  // guarded by m_write_mutex
    std::mutex m_write_mutex;
    std::mutex m_read_mutex;
    GroupCommitQueue m_accepts;  // last: its thread stops (after draining) before the connections close
};

}  // namespace

Result<AcceptOutcome> Store::accept_delivery_sync(Delivery delivery, std::vector<NewBuild> builds) {
    auto promise = std::make_shared<std::promise<Result<AcceptOutcome>>>();
    auto future = promise->get_future();
    accept_delivery(std::move(delivery), std::move(builds),
                    [promise](Result<AcceptOutcome> r) { promise->set_value(std::move(r)); });
    return future.get();
}

Result<std::unique_ptr<Store>> make_sqlite_store(const std::string& path) {
    auto writer = Db::open(path);
    if (!writer) return writer.error();
    if (auto st = sqlite::migrate(**writer); !st) return st.error();
    auto reader = Db::open(path);
    if (!reader) return reader.error();
    return std::unique_ptr<Store>(std::make_unique<SqliteStore>(std::move(*writer), std::move(*reader)));
}

Result<std::unique_ptr<Store>> open_store(const std::string& url) {
    constexpr std::string_view k_sqlite = "sqlite:";
    if (url.rfind(k_sqlite, 0) == 0 && url.size() > k_sqlite.size())
        return make_sqlite_store(url.substr(k_sqlite.size()));
    return make_error(
        ErrorKind::invalid_input,
        "storage '" + url + "' is not supported: use \"sqlite:PATH\" (PostgreSQL is not implemented yet)");
}

}  // namespace hookyard::storage
