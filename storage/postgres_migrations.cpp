// The PostgreSQL schema: the same numbered migrations, with the same meaning, as the SQLite store's
// (sqlite_migrations.cpp), written in PostgreSQL's dialect. Times are unix ms in BIGINT columns; lists and
// maps are JSON text, as in SQLite, so both stores read rows the same way.

#include "storage/postgres_migrations.hpp"

#include <array>
#include <set>

#include "storage/records.hpp"
#include "storage/store_rules.hpp"

namespace hookyard::storage::postgres {
namespace {

// "offset" is reserved in PostgreSQL: log chunks start at start_byte. rowid has no equivalent: the tables
// SQLite ordered by rowid have a seq column.
// Migration N is k_schema[N - 1].
constexpr std::array k_schema = {
    R"sql(
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY, event TEXT NOT NULL, repository TEXT NOT NULL, received_ms BIGINT NOT NULL,
    build_ids TEXT NOT NULL DEFAULT '[]');
CREATE TABLE builds (
    id BIGSERIAL PRIMARY KEY, state TEXT NOT NULL, repository TEXT NOT NULL, ref TEXT NOT NULL,
    commit_sha TEXT NOT NULL DEFAULT '', rule_index BIGINT NOT NULL, image TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]', digest TEXT NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '',
    created_ms BIGINT NOT NULL, started_ms BIGINT NOT NULL DEFAULT 0, finished_ms BIGINT NOT NULL DEFAULT 0,
    clone_url TEXT NOT NULL DEFAULT '', dockerfile TEXT NOT NULL DEFAULT '', context TEXT NOT NULL DEFAULT '',
    build_args TEXT NOT NULL DEFAULT '{}', source_type TEXT NOT NULL DEFAULT '',
    source_name TEXT NOT NULL DEFAULT '', delivery_id TEXT NOT NULL DEFAULT '',
    head_commit_message TEXT NOT NULL DEFAULT '', pusher TEXT NOT NULL DEFAULT '',
    superseded_by BIGINT NOT NULL DEFAULT 0, retry_of BIGINT NOT NULL DEFAULT 0, attempts BIGINT NOT NULL DEFAULT 0,
    cancel_requested BIGINT NOT NULL DEFAULT 0, log_size BIGINT NOT NULL DEFAULT 0);
CREATE INDEX builds_by_state ON builds (state, id);
CREATE INDEX builds_by_repository ON builds (repository, id);
CREATE INDEX builds_by_rule_ref ON builds (repository, rule_index, ref, state);
CREATE TABLE build_stages (
    build_id BIGINT NOT NULL REFERENCES builds (id), seq BIGINT NOT NULL, name TEXT NOT NULL,
    state TEXT NOT NULL, started_ms BIGINT NOT NULL, finished_ms BIGINT NOT NULL DEFAULT 0,
    duration_ms BIGINT NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '', PRIMARY KEY (build_id, seq));
CREATE TABLE build_logs (
    build_id BIGINT NOT NULL REFERENCES builds (id), start_byte BIGINT NOT NULL, size BIGINT NOT NULL,
    data BYTEA NOT NULL, PRIMARY KEY (build_id, start_byte));
)sql",
    R"sql(
CREATE TABLE notifications (
    id BIGSERIAL PRIMARY KEY, build_id BIGINT NOT NULL REFERENCES builds (id), target TEXT NOT NULL,
    event TEXT NOT NULL, url TEXT NOT NULL, body TEXT NOT NULL, delivery TEXT NOT NULL, state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0, created_ms BIGINT NOT NULL, next_attempt_ms BIGINT NOT NULL,
    delivered_ms BIGINT NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '');
CREATE INDEX notifications_due ON notifications (state, next_attempt_ms);
CREATE INDEX notifications_by_build ON notifications (build_id, id);
CREATE TABLE notification_attempts (
    notification_id BIGINT NOT NULL REFERENCES notifications (id), attempt BIGINT NOT NULL, at_ms BIGINT NOT NULL,
    status BIGINT NOT NULL, latency_ms BIGINT NOT NULL, error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (notification_id, attempt));
CREATE TABLE build_callbacks (
    seq BIGSERIAL PRIMARY KEY, build_id BIGINT NOT NULL REFERENCES builds (id), received_ms BIGINT NOT NULL,
    state TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', context TEXT NOT NULL DEFAULT '',
    target_url TEXT NOT NULL DEFAULT '');
CREATE INDEX build_callbacks_by_build ON build_callbacks (build_id, received_ms);
)sql",
    // Crash safety (issue 19). seq orders pushes (last_pusher); each record_pushed takes a new one.
    R"sql(
ALTER TABLE builds ADD COLUMN crash_streak BIGINT NOT NULL DEFAULT 0;
CREATE SEQUENCE pushed_images_seq;
CREATE TABLE pushed_images (
    build_id BIGINT NOT NULL REFERENCES builds (id), image TEXT NOT NULL, digest TEXT NOT NULL,
    pushed_ms BIGINT NOT NULL, seq BIGINT NOT NULL DEFAULT nextval('pushed_images_seq'),
    PRIMARY KEY (build_id, image));
)sql",
    // Issue 12: counters kept by triggers (stats() never counts a table) and leases.
    R"sql(
CREATE TABLE counters (name TEXT PRIMARY KEY, n BIGINT NOT NULL);
INSERT INTO counters (name, n) SELECT 'builds.' || state, COUNT(*) FROM builds GROUP BY state;
INSERT INTO counters (name, n) SELECT 'deliveries', COUNT(*) FROM deliveries;
CREATE FUNCTION hookyard_count(counter TEXT, delta BIGINT) RETURNS void LANGUAGE sql AS
    'INSERT INTO counters (name, n) VALUES (counter, delta) ON CONFLICT (name) DO UPDATE SET n = counters.n + delta';
CREATE FUNCTION hookyard_count_builds() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN PERFORM hookyard_count('builds.' || OLD.state, -1); END IF;
    IF TG_OP <> 'DELETE' THEN PERFORM hookyard_count('builds.' || NEW.state, 1); END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER counters_builds AFTER INSERT OR DELETE ON builds
    FOR EACH ROW EXECUTE FUNCTION hookyard_count_builds();
CREATE TRIGGER counters_build_state AFTER UPDATE OF state ON builds
    FOR EACH ROW WHEN (OLD.state <> NEW.state) EXECUTE FUNCTION hookyard_count_builds();
CREATE FUNCTION hookyard_count_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM hookyard_count('deliveries', CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END);
    RETURN NULL;
END $$;
CREATE TRIGGER counters_deliveries AFTER INSERT OR DELETE ON deliveries
    FOR EACH ROW EXECUTE FUNCTION hookyard_count_deliveries();
CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_ms BIGINT NOT NULL);
)sql",
    // Issue 11: forced pushes, sanitised tags, pushes looked up by image.
    R"sql(
ALTER TABLE builds ADD COLUMN forced BIGINT NOT NULL DEFAULT 0;
ALTER TABLE builds ADD COLUMN sanitized_tags TEXT NOT NULL DEFAULT '[]';
CREATE INDEX pushed_images_by_image ON pushed_images (image, seq);
)sql",
    // Every build says why it ran (issue 17).
    R"sql(
ALTER TABLE builds ADD COLUMN trigger_type TEXT NOT NULL DEFAULT 'push';
ALTER TABLE builds ADD COLUMN trigger_reason TEXT NOT NULL DEFAULT '';
)sql",
    // 7, issue 14: several instances on one database. A claimed build records its instance and a lease
    // that instance renews; a notification being delivered records who leased it.
    R"sql(
ALTER TABLE builds ADD COLUMN instance TEXT NOT NULL DEFAULT '';
ALTER TABLE builds ADD COLUMN lease_until_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN leased_by TEXT NOT NULL DEFAULT '';
)sql",
    // Pull request builds (issue 16): the number, a fork's head, and builds that push nothing.
    R"sql(
ALTER TABLE builds ADD COLUMN pull_request BIGINT NOT NULL DEFAULT 0;
ALTER TABLE builds ADD COLUMN pull_request_external BIGINT NOT NULL DEFAULT 0;
ALTER TABLE builds ADD COLUMN no_push BIGINT NOT NULL DEFAULT 0;
)sql",
    // Build reuse (issue 17): a build's identity, its resolved base images, the build it re-tagged, and
    // the builds that opted out.
    R"sql(
CREATE TABLE build_reuse (
    build_id BIGINT PRIMARY KEY,
    reuse BIGINT NOT NULL DEFAULT 1,
    identity TEXT NOT NULL DEFAULT '',
    base_images TEXT NOT NULL DEFAULT '{}',
    reused_from BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX build_reuse_by_identity ON build_reuse (identity);
)sql",
    "",  // 10 is SQLite's (claim cursor)
    // 11, issue 14: a claim costs the same at any queue depth. Queued builds are read in claim order from a
    // partial index, and triggers keep the repository + rule + ref groups where a queued build may be
    // replaced by a newer one in claim_supersede, so that a claim never scans the queue for them.
    R"sql(
CREATE INDEX builds_claim_order ON builds (attempts, id) WHERE state = 'queued';
CREATE INDEX builds_by_sibling ON builds (repository, rule_index, ref, id);
CREATE TABLE claim_supersede (
    repository TEXT NOT NULL, rule_index BIGINT NOT NULL, ref TEXT NOT NULL, PRIMARY KEY (repository, rule_index, ref));
CREATE FUNCTION hookyard_claim_supersede() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM builds b WHERE b.repository = NEW.repository AND b.rule_index = NEW.rule_index
               AND b.ref = NEW.ref AND b.state = 'queued' AND b.id <> NEW.id)
       OR EXISTS (SELECT 1 FROM builds b WHERE b.repository = NEW.repository AND b.rule_index = NEW.rule_index
                  AND b.ref = NEW.ref AND b.id > NEW.id AND b.state <> 'canceled') THEN
        INSERT INTO claim_supersede VALUES (NEW.repository, NEW.rule_index, NEW.ref) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER claim_supersede_insert AFTER INSERT ON builds
    FOR EACH ROW EXECUTE FUNCTION hookyard_claim_supersede();
CREATE TRIGGER claim_supersede_requeue AFTER UPDATE OF state ON builds
    FOR EACH ROW WHEN (NEW.state = 'queued') EXECUTE FUNCTION hookyard_claim_supersede();
INSERT INTO claim_supersede SELECT DISTINCT repository, rule_index, ref FROM builds WHERE state = 'queued';
)sql",
    "",  // 12
    // 13, issue 13: the dashboard at any history size: each rule's newest build, a ref's newest builds. The
    // rule's index is on an expression (load_builds filters by it): a plain (repository, rule_index, id)
    // index matched the claim's newer-sibling check as well as builds_by_sibling does, and the planner, on
    // the stale statistics of a fresh burst, took it and scanned every build of the rule per candidate
    // (claims at 10,000 queued: 122 ms instead of 2 ms).
    R"sql(
CREATE INDEX builds_by_rule ON builds ((repository || '#' || rule_index::text), id);
CREATE INDEX builds_by_ref ON builds (ref, id);
)sql",
    // 14, issue 14: intake on several instances. One counter row per name made every instance's accept
    // wait for the others' commits (each holds the row until its COMMIT's fsync); a counter is now the sum
    // of rows striped by the writing connection's backend, so instances rarely touch the same row.
    R"sql(
ALTER TABLE counters ADD COLUMN stripe INT NOT NULL DEFAULT 0;
ALTER TABLE counters DROP CONSTRAINT counters_pkey;
ALTER TABLE counters ADD PRIMARY KEY (name, stripe);
CREATE OR REPLACE FUNCTION hookyard_count(counter TEXT, delta BIGINT) RETURNS void LANGUAGE sql AS
    'INSERT INTO counters (name, stripe, n) VALUES (counter, pg_backend_pid() % 16, delta)
     ON CONFLICT (name, stripe) DO UPDATE SET n = counters.n + delta';
)sql",
};

// Instances starting together against one database migrate one after the other (a session advisory lock).
constexpr std::int64_t k_migration_lock = 0x686f6f6b79617264;  // "hookyard"

// One migration and its record, in one transaction.
util::Status apply_one(Conn& db, int version) {
    return db.transaction([&]() -> util::Status {
        auto st = db.exec(k_schema[static_cast<std::size_t>(version - 1)]);
        if (!st) {
            return util::make_error(st.error().kind,
                                    "migration " + std::to_string(version) + ": " + st.error().message);
        }
        return db.exec("INSERT INTO schema_migrations (version, applied_ms) VALUES ($1, $2)", {version, now_ms()});
    });
}

util::Status apply_missing(Conn& db) {
    auto rows = db.query("SELECT version FROM schema_migrations ORDER BY version");
    if (!rows) return rows.error();
    std::set<std::int64_t> applied;
    for (int i = 0; i < rows->size(); ++i) applied.insert(rows->int_at(i, 0));
    if (!applied.empty() && *applied.rbegin() > latest_schema_version()) {
        return newer_schema(db.name(), *applied.rbegin(), latest_schema_version());
    }
    // Every migration not recorded yet applies (as in SQLite: branches may merge out of order).
    for (int version = 1; version <= latest_schema_version(); ++version) {
        if (applied.count(version) > 0 || *k_schema[static_cast<std::size_t>(version - 1)] == '\0') continue;
        if (auto st = apply_one(db, version); !st) return st;
    }
    return {};
}

}  // namespace

int latest_schema_version() { return static_cast<int>(k_schema.size()); }

util::Status migrate(Conn& db) {
    if (auto locked = db.exec("SELECT pg_advisory_lock($1)", {k_migration_lock}); !locked) return locked;
    auto st = db.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_ms BIGINT NOT NULL)");
    if (st) st = apply_missing(db);
    (void)db.exec("SELECT pg_advisory_unlock($1)", {k_migration_lock});  // also released when the session ends
    return st;
}

}  // namespace hookyard::storage::postgres
