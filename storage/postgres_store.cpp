// The PostgreSQL Store's writes: builds, stages, logs and the group-committed deliveries. Every write runs
// in one transaction on the write connection (write()), with the events it causes queued in the same one.

#include "storage/postgres_store.hpp"

#include <nlohmann/json.hpp>

#include "storage/new_build.hpp"
#include "storage/postgres_migrations.hpp"
#include "storage/postgres_rows.hpp"
#include "storage/store_rules.hpp"
#include "util/json.hpp"

namespace hookyard::storage::postgres {

using util::ErrorKind;
using util::make_error;
using util::Result;
using util::Status;

PostgresStore::~PostgresStore() {
    on_work({});
    flush();
}

void PostgresStore::on_work(std::function<void()> wake) {
    std::lock_guard lock(m_listener_mutex);
    m_listener.reset();  // joins the old thread first: the old callback never runs after this
    if (wake) m_listener = std::make_unique<Listener>(m_listen_url, std::move(wake));
}

void PostgresStore::refresh_counts() {
    auto rows = m_write->query("SELECT name, SUM(n)::BIGINT FROM counters GROUP BY name");
    if (!rows) return;
    std::vector<std::pair<std::string, std::int64_t>> counts;
    for (int i = 0; i < rows->size(); ++i) counts.emplace_back(rows->text_at(i, 0), rows->int_at(i, 1));
    set_counts(counts);
}

Result<std::vector<Build>> PostgresStore::insert_builds(std::vector<NewBuild> builds) {
    return write([&]() -> Result<std::vector<Build>> {
        std::vector<Build> out;
        for (const auto& nb : builds) {
            auto b = insert_build(*m_write, nb, "", 0);
            if (!b) return b.error();
            if (auto st = queue_events(*m_write, m_planner, *b); !st) return st.error();
            out.push_back(std::move(*b));
        }
        // Builders listening elsewhere claim them at once (delivered when this transaction commits).
        if (auto st = out.empty() ? Status{} : notify_work(*m_write); !st) return st.error();
        return out;
    });
}

Result<Build> PostgresStore::queued_build(BuildId id) {
    if (auto st = queue_events(*m_write, m_planner, id); !st) return st.error();
    return load_build(*m_write, id);
}

Result<Build> PostgresStore::start_running(BuildId id) {
    if (auto st = transition(*m_write, id, BuildState::running); !st) return st.error();
    if (auto st = m_write->exec(
            "UPDATE builds SET instance = $1, lease_until_ms = " + std::string(k_db_now_ms) + " + $2 WHERE id = $3",
            {m_cluster.instance_id, static_cast<std::int64_t>(m_cluster.lease.count()), id});
        !st) {
        return st.error();
    }
    return queued_build(id);
}

Result<Build> PostgresStore::claim(BuildId id) {
    return write([&] { return start_running(id); });
}

Status PostgresStore::set_commit(BuildId id, const std::string& sha) {
    return write([&]() -> Status {
        if (auto b = load_build(*m_write, id); !b) return b.error();
        return m_write->exec("UPDATE builds SET commit_sha = $1 WHERE id = $2 AND commit_sha = ''", {sha, id});
    });
}

Status PostgresStore::set_tags(BuildId id, const std::vector<std::string>& tags,
                               const std::vector<std::string>& sanitized_tags) {
    return write([&]() -> Status {
        if (auto b = load_build(*m_write, id); !b) return b.error();
        return m_write->exec(
            "UPDATE builds SET tags = $1, sanitized_tags = $2 WHERE id = $3",
            {util::to_json_string(nlohmann::json(tags)), util::to_json_string(nlohmann::json(sanitized_tags)), id});
    });
}

Status PostgresStore::start_stage(BuildId id, const std::string& name) {
    return write([&]() -> Status {
        if (auto st = check_not_taken_over(id); !st) return st;
        auto state = m_write->query("SELECT state FROM builds WHERE id = $1 FOR UPDATE", {id});
        if (!state) return state.error();
        if (state->empty()) return make_error(ErrorKind::not_found, "build " + std::to_string(id) + " does not exist");
        if (state->text_at(0, 0) != "running") {
            return make_error(ErrorKind::conflict,
                              "build " + std::to_string(id) + " is " + state->text_at(0, 0) + ", not running");
        }
        return m_write->exec(
            "INSERT INTO build_stages (build_id, seq, name, state, started_ms) VALUES ($1, (SELECT COALESCE(MAX(seq), "
            "0) + 1 FROM build_stages WHERE build_id = $1), $2, 'running', $3)",
            {id, name, now_ms()});
    });
}

Status PostgresStore::finish_stage(BuildId id, const std::string& name, BuildState result, const std::string& error) {
    if (result != BuildState::succeeded && result != BuildState::failed && result != BuildState::canceled) {
        return make_error(ErrorKind::invalid_input, "a stage ends succeeded, failed or canceled");
    }
    return write([&]() -> Status {
        // A stage the instance that took the build over runs may have the same name.
        if (auto st = check_not_taken_over(id); !st) return st;
        auto done = m_write->query(
            "UPDATE build_stages SET state = $1, finished_ms = $2, duration_ms = $2 - started_ms, error = $3 "
            "WHERE build_id = $4 AND name = $5 AND state = 'running'",
            {to_string(result), now_ms(), error, id, name});
        if (!done) return done.error();
        if (done->affected() > 0) return {};
        return make_error(ErrorKind::not_found, "build " + std::to_string(id) + " has no running stage '" + name + "'");
    });
}

Status PostgresStore::finish_build(BuildId id, BuildState terminal, const std::string& digest,
                                   const std::string& error) {
    if (!is_terminal(terminal)) return make_error(ErrorKind::invalid_input, "finish_build needs a terminal state");
    return write([&]() -> Status {
        if (auto st = check_not_taken_over(id); !st) return st;
        if (auto st = transition(*m_write, id, terminal); !st) return st;
        if (auto st = m_write->exec("UPDATE builds SET digest = $1, error = $2 WHERE id = $3", {digest, error, id});
            !st) {
            return st;
        }
        return queue_events(*m_write, m_planner, id);
    });
}

Status PostgresStore::check_not_taken_over(BuildId id) {
    // Locked until the end of the transaction: a reaper re-queueing the build waits for this one.
    auto owner = m_write->query(
        "SELECT instance FROM builds WHERE id = $1 AND state = 'running' AND instance <> $2 "
        "FOR UPDATE",
        {id, m_cluster.instance_id});
    if (!owner) return owner.error();
    if (owner->empty()) return {};
    return make_error(ErrorKind::conflict, "build " + std::to_string(id) + " runs on instance '" +
                                               owner->text_at(0, 0) + "' now: instance '" + m_cluster.instance_id +
                                               "' lost its lease on it (it stalled longer than cluster.lease)");
}

Result<int> PostgresStore::requeue_running(int max_attempts) {
    return write([&]() -> Result<int> {
        // Only builds running at this crash continue their streak.
        if (auto st = m_write->exec("UPDATE builds SET crash_streak = 0 WHERE state = 'queued'"); !st) {
            return st.error();
        }
        return recover_running(true, max_attempts, "interrupted by restart");
    });
}

Result<int> PostgresStore::requeue_expired(int max_attempts) {
    return write(
        [&] { return recover_running(false, max_attempts, "interrupted: its instance stopped renewing the lease"); });
}

Status PostgresStore::renew_build_leases() {
    return write([&] {
        return m_write->exec("UPDATE builds SET lease_until_ms = " + std::string(k_db_now_ms) +
                                 " + $1 WHERE state = 'running' AND instance = $2",
                             {static_cast<std::int64_t>(m_cluster.lease.count()), m_cluster.instance_id});
    });
}

Result<int> PostgresStore::recover_running(bool own_too, int max_attempts, const std::string& why) {
    // The database's clock decides expiry: instances on several machines need not agree on the time.
    auto rows = m_write->query("SELECT id FROM builds WHERE state = 'running' AND (lease_until_ms < " +
                                   std::string(k_db_now_ms) + " OR ($1 = 1 AND instance = $2)) ORDER BY id FOR UPDATE",
                               {own_too ? 1 : 0, m_cluster.instance_id});
    if (!rows) return rows.error();
    int requeued = 0;
    for (int i = 0; i < rows->size(); ++i) {
        auto back = recover_build(rows->int_at(i, 0), max_attempts, why);
        if (!back) return back.error();
        requeued += *back ? 1 : 0;
    }
    return requeued;
}

Result<bool> PostgresStore::recover_build(BuildId id, int max_attempts, const std::string& why) {
    const TimeMs now = now_ms();
    if (auto st = m_write->exec(
            "UPDATE build_stages SET state = 'failed', finished_ms = $1, duration_ms = $1 - started_ms, error = $2 "
            "WHERE build_id = $3 AND state = 'running'",
            {now, why, id});
        !st) {
        return st.error();
    }
    auto requeued = m_write->query(
        "UPDATE builds SET state = 'queued', started_ms = 0, attempts = attempts + 1, crash_streak = crash_streak + 1, "
        "lease_until_ms = 0 WHERE id = $1 AND crash_streak + 1 <= $2",
        {id, max_attempts});
    if (!requeued) return requeued.error();
    if (requeued->affected() > 0) {
        if (auto st = notify_work(*m_write); !st) return st.error();
        return true;
    }
    // Found running for the (max_attempts + 1)th time in a row: it stops crash-looping the service.
    const std::string reason = "interrupted by " + std::to_string(max_attempts + 1) +
                               " restarts of hookyard in a row while running; not retried again (retry it by hand)";
    if (auto st = transition(*m_write, id, BuildState::failed); !st) return st.error();
    if (auto st = m_write->exec("UPDATE builds SET error = $1 WHERE id = $2", {reason, id}); !st) return st.error();
    if (auto st = queue_events(*m_write, m_planner, id); !st) return st.error();
    return false;
}

Status PostgresStore::record_pushed(BuildId id, const std::string& image, const std::string& digest) {
    return write([&]() -> Status {
        if (auto b = load_build(*m_write, id); !b) return b.error();
        // A new seq on every record: seq order is push order (last_pusher).
        return m_write->exec(
            "INSERT INTO pushed_images (build_id, image, digest, pushed_ms) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (build_id, image) DO UPDATE SET digest = excluded.digest, pushed_ms = excluded.pushed_ms, "
            "seq = nextval('pushed_images_seq')",
            {id, image, digest, now_ms()});
    });
}

Result<Build> PostgresStore::retry_build(BuildId id) {
    return write([&]() -> Result<Build> {
        auto copy = retry_copy(load_build(*m_write, id));
        auto inserted = copy ? insert_build(*m_write, *copy, "", id) : Result<Build>(copy.error());
        if (!inserted) return inserted.error();
        if (auto st = notify_work(*m_write); !st) return st.error();
        if (auto st = queue_events(*m_write, m_planner, *inserted); !st) return st.error();
        return inserted;
    });
}

Result<Build> PostgresStore::cancel_build(BuildId id) {
    return write([&]() -> Result<Build> {
        auto b = load_build(*m_write, id);
        if (!b) return b.error();
        Status changed;
        if (b->state == BuildState::queued) {
            changed = transition(*m_write, id, BuildState::canceled);
            if (changed) changed = queue_events(*m_write, m_planner, id);
        } else if (b->state == BuildState::running) {
            changed = m_write->exec("UPDATE builds SET cancel_requested = 1 WHERE id = $1", {id});
            if (changed) changed = notify_work(*m_write);
        } else {
            changed = cannot_cancel(*b);
        }
        if (!changed) return changed.error();
        return load_build(*m_write, id);
    });
}

Status PostgresStore::append_log(BuildId id, std::string_view text) {
    if (text.empty()) return {};
    return write([&]() -> Status {
        // Growing log_size first locks the build row: appends to one build are ordered.
        auto grown = m_write->query("UPDATE builds SET log_size = log_size + $1 WHERE id = $2 RETURNING log_size",
                                    {text.size(), id});
        if (!grown) return grown.error();
        if (grown->empty()) return make_error(ErrorKind::not_found, "build " + std::to_string(id) + " does not exist");
        const std::int64_t start = grown->int_at(0, 0) - static_cast<std::int64_t>(text.size());
        return m_write->exec("INSERT INTO build_logs (build_id, start_byte, size, data) VALUES ($1, $2, $3, $4)",
                             {id, start, text.size(), Param::bytes(text)});
    });
}

// One accept inside the batch transaction, isolated by a savepoint so that its failure spares the others.
// The delivery row goes in first: a second instance inserting the same id waits for this commit, then
// finds it stored and reports a duplicate with these builds.
Result<AcceptOutcome> PostgresStore::accept_one(const PendingAccept& p) {
    if (auto st = m_write->exec("SAVEPOINT accept"); !st) return st.error();
    auto body = [&]() -> Result<AcceptOutcome> {
        auto inserted = claim_delivery(*m_write, p.delivery);
        if (!inserted) return inserted.error();
        if (!*inserted) {
            auto ids = delivery_builds(*m_write, p.delivery.id);
            if (!ids) return ids.error();
            return AcceptOutcome{true, std::move(*ids)};
        }
        AcceptOutcome out;
        for (const auto& b : p.builds) {
            auto build = insert_build(*m_write, b, p.delivery.id, 0);
            if (!build) return build.error();
            if (auto st = queue_events(*m_write, m_planner, *build); !st) return st.error();
            out.build_ids.push_back(build->id);
        }
        if (auto st = set_delivery_builds(*m_write, p.delivery.id, out.build_ids); !st) return st.error();
        return out;
    };
    auto out = body();
    if (!out) (void)m_write->exec("ROLLBACK TO SAVEPOINT accept");  // a broken connection fails the COMMIT
    if (auto st = m_write->exec("RELEASE SAVEPOINT accept"); !st && out) return st.error();
    return out;
}

// One group commit: every accept of the batch in one transaction (GroupCommitQueue's thread).
std::vector<Result<AcceptOutcome>> PostgresStore::commit_accepts(const std::vector<PendingAccept>& batch) {
    std::vector<Result<AcceptOutcome>> results;
    auto committed = write([&]() -> Status {
        results.clear();  // a deadlock with another instance runs the batch again
        bool queued = false;
        for (const auto& p : batch) {
            results.push_back(accept_one(p));
            queued = queued || (results.back() && !results.back()->duplicate && !results.back()->build_ids.empty());
        }
        // One NOTIFY for the whole batch, outside the accepts' savepoints (one rolled back drops its own):
        // builders listening elsewhere claim the builds once it commits.
        return queued ? notify_work(*m_write) : Status{};
    });
    if (!committed) {
        results.clear();
        for (std::size_t i = 0; i < batch.size(); ++i) results.emplace_back(committed.error());
    }
    return results;
}

util::Result<std::unique_ptr<Store>> make_postgres_store(const std::string& url) {
    auto writer = Conn::open(url);
    if (!writer) return writer.error();
    if (auto st = migrate(**writer); !st) return st.error();
    auto reader = Conn::open(url);
    if (!reader) return reader.error();
    auto store = std::make_unique<PostgresStore>(std::move(*writer), std::move(*reader));
    store->load_counts();
    store->set_listen_url(url);
    return std::unique_ptr<Store>(std::move(store));
}

}  // namespace hookyard::storage::postgres
