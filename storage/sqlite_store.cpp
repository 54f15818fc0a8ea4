// The SQLite Store's writes: builds, stages, logs and the group-committed deliveries. Every write runs in
// one transaction on the write connection (write()), with the events it causes queued in the same one.

#include "storage/sqlite_store.hpp"

#include <nlohmann/json.hpp>

#include "storage/new_build.hpp"
#include "storage/sqlite_build_rows.hpp"
#include "storage/sqlite_claim.hpp"
#include "storage/sqlite_migrations.hpp"
#include "storage/sqlite_outbox.hpp"
#include "storage/store_rules.hpp"
#include "util/json.hpp"

namespace hookyard::storage {
namespace sqlite {

using util::ErrorKind;
using util::make_error;
using util::Result;
using util::Status;

void SqliteStore::refresh_counts() {
    auto q = m_write->query("SELECT name, n FROM counters");
    if (!q) return;
    std::vector<std::pair<std::string, std::int64_t>> counts;
    if (auto st = q->each_row([&] { counts.emplace_back(q->text_at(0), q->int_at(1)); }); st) set_counts(counts);
}

SqliteStore::~SqliteStore() { flush(); }

void SqliteStore::checkpoint_in_background(std::unique_ptr<Db> own) {
    m_checkpointer =
        std::make_unique<WalCheckpointer>(*m_write, std::move(own), [this](const std::function<Status()>& fn) {
            // A write transaction that changes nothing: it holds SQLite's write lock and commits no frame.
            return write_unsynced(fn);
        });
}

Result<std::vector<Build>> SqliteStore::insert_builds(std::vector<NewBuild> builds) {
    return write([&]() -> Result<std::vector<Build>> {
        std::vector<BuildId> ids;
        for (const auto& b : builds) {
            auto id = insert_build(*m_write, b, "", 0);
            if (!id) return id.error();
            if (auto st = queue_events(*m_write, m_planner, *id); !st) return st.error();
            ids.push_back(*id);
        }
        std::vector<Build> out;
        for (auto id : ids) {
            auto b = load_build(*m_write, id);
            if (!b) return b.error();
            out.push_back(std::move(*b));
        }
        return out;
    });
}

Result<std::optional<Build>> SqliteStore::claim_next_queued() {
    std::lock_guard lock(m_claim_mutex);
    ClaimCursor cursor = m_claim_cursor;  // kept only if the claim commits
    auto out = write([&]() -> Result<std::optional<Build>> {
        auto picked = pick_claimable(*m_write, cursor);
        if (!picked) return picked.error();
        if (!*picked) return std::optional<Build>{};  // supersessions made while picking still commit
        const BuildId id = **picked;
        if (auto st = start_running(id); !st) return st.error();
        auto b = load_build(*m_write, id);
        if (!b) return b.error();
        return std::optional<Build>(std::move(*b));
    });
    if (out) m_claim_cursor = cursor;
    return out;
}

Result<Build> SqliteStore::claim(BuildId id) {
    return write([&]() -> Result<Build> {
        if (auto st = start_running(id); !st) return st.error();
        return load_build(*m_write, id);
    });
}

Status SqliteStore::start_running(BuildId id) {
    if (auto st = transition(*m_write, id, BuildState::running); !st) return st;
    auto q = m_write->query("UPDATE builds SET instance = ?, lease_until_ms = ? WHERE id = ?");
    if (!q) return q.error();
    if (auto st = q->bind_all(m_cluster.instance_id, now_ms() + m_cluster.lease.count(), id).run(); !st) return st;
    return queue_events(*m_write, m_planner, id);
}

Status SqliteStore::set_commit(BuildId id, const std::string& sha) {
    return write([&]() -> Status {
        if (auto b = load_build(*m_write, id); !b) return b.error();
        auto q = m_write->query("UPDATE builds SET commit_sha = ? WHERE id = ? AND commit_sha = ''");
        if (!q) return q.error();
        return q->bind_all(sha, id).run();
    });
}

Status SqliteStore::set_tags(BuildId id, const std::vector<std::string>& tags,
                             const std::vector<std::string>& sanitized_tags) {
    return write([&]() -> Status {
        if (auto b = load_build(*m_write, id); !b) return b.error();
        auto q = m_write->query("UPDATE builds SET tags = ?, sanitized_tags = ? WHERE id = ?");
        if (!q) return q.error();
        return q
            ->bind_all(util::to_json_string(nlohmann::json(tags)), util::to_json_string(nlohmann::json(sanitized_tags)),
                       id)
            .run();
    });
}

Status SqliteStore::start_stage(BuildId id, const std::string& name) {
    return write([&]() -> Status {
        auto b = load_build(*m_write, id);
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
        return q->bind_all(id, id, name, now_ms()).run();
    });
}

Status SqliteStore::finish_stage(BuildId id, const std::string& name, BuildState result, const std::string& error) {
    if (result != BuildState::succeeded && result != BuildState::failed && result != BuildState::canceled) {
        return make_error(ErrorKind::invalid_input, "a stage ends succeeded, failed or canceled");
    }
    return write([&]() -> Status {
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
    });
}

Status SqliteStore::finish_build(BuildId id, BuildState terminal, const std::string& digest, const std::string& error) {
    if (!is_terminal(terminal)) return make_error(ErrorKind::invalid_input, "finish_build needs a terminal state");
    return write([&]() -> Status {
        if (auto st = transition(*m_write, id, terminal); !st) return st;
        auto q = m_write->query("UPDATE builds SET digest = ?, error = ? WHERE id = ?");
        if (!q) return q.error();
        if (auto st = q->bind_all(digest, error, id).run(); !st) return st;
        return queue_events(*m_write, m_planner, id);
    });
}

Result<int> SqliteStore::requeue_running(int max_attempts) {
    return write([&]() -> Result<int> {
        auto stages = m_write->query(
            "UPDATE build_stages SET state = 'failed', finished_ms = ?, duration_ms = ? - started_ms, "
            "error = 'interrupted by restart' WHERE state = 'running' AND build_id IN "
            "(SELECT id FROM builds WHERE state = 'running')");
        if (!stages) return stages.error();
        const TimeMs now = now_ms();
        if (auto st = stages->bind_all(now, now).run(); !st) return st.error();
        // Only builds running at this crash continue their streak.
        if (auto st = m_write->exec("UPDATE builds SET crash_streak = 0 WHERE state = 'queued'"); !st) {
            return st.error();
        }
        if (auto failed = fail_exhausted(*m_write, max_attempts, m_planner); !failed) return failed.error();
        auto q = m_write->query(
            "UPDATE builds SET state = 'queued', started_ms = 0, attempts = attempts + 1, "
            "crash_streak = crash_streak + 1 WHERE state = 'running'");
        if (!q) return q.error();
        if (auto st = q->run(); !st) return st.error();
        return m_write->changes();
    });
}

Status SqliteStore::record_pushed(BuildId id, const std::string& image, const std::string& digest) {
    return write([&]() -> Status {
        if (auto b = load_build(*m_write, id); !b) return b.error();
        // REPLACE gives the row a new, highest rowid: rowid order is push order (last_pusher).
        auto q = m_write->query(
            "INSERT OR REPLACE INTO pushed_images (build_id, image, digest, pushed_ms) VALUES (?, ?, ?, ?)");
        if (!q) return q.error();
        return q->bind_all(id, image, digest, now_ms()).run();
    });
}

Result<Build> SqliteStore::cancel_build(BuildId id) {
    return write([&]() -> Result<Build> {
        auto b = load_build(*m_write, id);
        if (!b) return b.error();
        if (b->state == BuildState::queued) {
            if (auto st = transition(*m_write, id, BuildState::canceled); !st) return st.error();
            if (auto st = queue_events(*m_write, m_planner, id); !st) return st.error();
        } else if (b->state == BuildState::running) {
            auto q = m_write->query("UPDATE builds SET cancel_requested = 1 WHERE id = ?");
            if (!q) return q.error();
            if (auto st = q->bind_all(id).run(); !st) return st.error();
        } else {
            return cannot_cancel(*b);
        }
        return load_build(*m_write, id);
    });
}

Result<Build> SqliteStore::retry_build(BuildId id) {
    return write([&]() -> Result<Build> {
        auto copy = retry_copy(load_build(*m_write, id));
        if (!copy) return copy.error();
        auto nid = insert_build(*m_write, *copy, "", id);
        if (!nid) return nid.error();
        if (auto st = queue_events(*m_write, m_planner, *nid); !st) return st.error();
        return load_build(*m_write, *nid);
    });
}

Status SqliteStore::append_log(BuildId id, std::string_view text) {
    if (text.empty()) return {};
    return write_unsynced([&]() -> Status {
        auto q = m_write->query("SELECT log_size FROM builds WHERE id = ?");
        if (!q) return q.error();
        q->bind_all(id);
        auto row = q->step();
        if (!row) return row.error();
        if (!*row) return make_error(ErrorKind::not_found, "build " + std::to_string(id) + " does not exist");
        const std::int64_t offset = q->int_at(0);
        auto ins = m_write->query("INSERT INTO build_logs (build_id, offset, size, data) VALUES (?, ?, ?, ?)");
        if (!ins) return ins.error();
        if (auto st = ins->bind_all(id, offset, text.size(), text).run(); !st) return st;
        auto up = m_write->query("UPDATE builds SET log_size = log_size + ? WHERE id = ?");
        if (!up) return up.error();
        return up->bind_all(text.size(), id).run();
    });
}

// One accept inside the batch transaction, isolated by a savepoint so its failure spares the others.
Result<AcceptOutcome> SqliteStore::accept_one(const PendingAccept& p) {
    auto existing = delivery_builds(*m_write, p.delivery.id);
    if (!existing) return existing.error();
    if (*existing) return AcceptOutcome{true, std::move(**existing)};
    if (auto st = m_write->exec("SAVEPOINT accept"); !st) return st.error();
    AcceptOutcome out;
    Status failed;
    for (const auto& b : p.builds) {
        auto id = insert_build(*m_write, b, p.delivery.id, 0);
        if (!id) {
            failed = id.error();
            break;
        }
        if (auto st = queue_events(*m_write, m_planner, *id); !st) {
            failed = st.error();
            break;
        }
        out.build_ids.push_back(*id);
    }
    if (failed.ok()) failed = insert_delivery(*m_write, p.delivery, out.build_ids);
    if (!failed.ok()) {
        (void)m_write->exec("ROLLBACK TO accept");  // the outer transaction's own failure surfaces at COMMIT
        (void)m_write->exec("RELEASE accept");
        return failed.error();
    }
    if (auto st = m_write->exec("RELEASE accept"); !st) return st.error();
    return out;
}

// One group commit: every accept of the batch in one transaction, one fsync (GroupCommitQueue's thread).
// Each accept has its own result, so this is the one write that does not go through write().
std::vector<Result<AcceptOutcome>> SqliteStore::commit_accepts(const std::vector<PendingAccept>& batch) {
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
        return results;  // still inside the failed transaction: the next write refreshes the counters
    }
    refresh_counts();
    return results;
}

}  // namespace sqlite

util::Result<std::unique_ptr<Store>> make_sqlite_store(const std::string& path) {
    auto writer = sqlite::Db::open(path);
    if (!writer) return writer.error();
    if (auto st = sqlite::migrate(**writer); !st) return st.error();
    auto reader = sqlite::Db::open(path);
    if (!reader) return reader.error();
    auto checkpoints = sqlite::Db::open(path);
    if (!checkpoints) return checkpoints.error();
    auto store = std::make_unique<sqlite::SqliteStore>(std::move(*writer), std::move(*reader));
    store->checkpoint_in_background(std::move(*checkpoints));
    store->load_counts();
    return std::unique_ptr<Store>(std::move(store));
}

}  // namespace hookyard::storage
