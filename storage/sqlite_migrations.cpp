#include "storage/sqlite_migrations.hpp"

#include <array>
#include <cstdint>
#include <set>
#include <string>

#include "storage/records.hpp"
#include "storage/store_rules.hpp"
#include "util/log.hpp"

namespace hookyard::storage::sqlite {
namespace {

struct Migration {
    int version;
    const char* sql;
};

constexpr std::array k_migrations = {
    Migration{1, R"sql(
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    repository TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    build_ids TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE builds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    state TEXT NOT NULL,
    repository TEXT NOT NULL,
    ref TEXT NOT NULL,
    commit_sha TEXT NOT NULL DEFAULT '',
    rule_index INTEGER NOT NULL,
    image TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    digest TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    created_ms INTEGER NOT NULL,
    started_ms INTEGER NOT NULL DEFAULT 0,
    finished_ms INTEGER NOT NULL DEFAULT 0,
    clone_url TEXT NOT NULL DEFAULT '',
    dockerfile TEXT NOT NULL DEFAULT '',
    context TEXT NOT NULL DEFAULT '',
    build_args TEXT NOT NULL DEFAULT '{}',
    source_type TEXT NOT NULL DEFAULT '',
    source_name TEXT NOT NULL DEFAULT '',
    delivery_id TEXT NOT NULL DEFAULT '',
    head_commit_message TEXT NOT NULL DEFAULT '',
    pusher TEXT NOT NULL DEFAULT '',
    superseded_by INTEGER NOT NULL DEFAULT 0,
    retry_of INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    log_size INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX builds_by_state ON builds (state, id);
CREATE INDEX builds_by_repository ON builds (repository, id);
CREATE INDEX builds_by_rule_ref ON builds (repository, rule_index, ref, state);
CREATE TABLE build_stages (
    build_id INTEGER NOT NULL REFERENCES builds (id),
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    started_ms INTEGER NOT NULL,
    finished_ms INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (build_id, seq)
);
CREATE TABLE build_logs (
    build_id INTEGER NOT NULL REFERENCES builds (id),
    offset INTEGER NOT NULL,
    size INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (build_id, offset)
);
)sql"},
    Migration{2, R"sql(
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    build_id INTEGER NOT NULL REFERENCES builds (id),
    target TEXT NOT NULL,
    event TEXT NOT NULL,
    url TEXT NOT NULL,
    body TEXT NOT NULL,
    delivery TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    next_attempt_ms INTEGER NOT NULL,
    delivered_ms INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX notifications_due ON notifications (state, next_attempt_ms);
CREATE INDEX notifications_by_build ON notifications (build_id, id);
CREATE TABLE notification_attempts (
    notification_id INTEGER NOT NULL REFERENCES notifications (id),
    attempt INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    status INTEGER NOT NULL,
    latency_ms INTEGER NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (notification_id, attempt)
);
CREATE TABLE build_callbacks (
    build_id INTEGER NOT NULL REFERENCES builds (id),
    received_ms INTEGER NOT NULL,
    state TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    context TEXT NOT NULL DEFAULT '',
    target_url TEXT NOT NULL DEFAULT ''
);
CREATE INDEX build_callbacks_by_build ON build_callbacks (build_id, received_ms);
)sql"},
    // Crash safety (issue 19): consecutive crashes a build was running at, and the images it already pushed.
    Migration{3, R"sql(
ALTER TABLE builds ADD COLUMN crash_streak INTEGER NOT NULL DEFAULT 0;
CREATE TABLE pushed_images (
    build_id INTEGER NOT NULL REFERENCES builds (id),
    image TEXT NOT NULL,
    digest TEXT NOT NULL,
    pushed_ms INTEGER NOT NULL,
    PRIMARY KEY (build_id, image)
);
)sql"},
    // Running for months (issue 12): counters that triggers keep in step with builds and deliveries, so
    // /metrics never counts a table; and the leases that let one of several instances sharing this
    // database prune. auto_vacuum=incremental is switched on outside any migration (switch_auto_vacuum).
    Migration{4, R"sql(
CREATE TABLE counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO counters (name, n) SELECT 'builds.' || state, COUNT(*) FROM builds GROUP BY state;
INSERT INTO counters (name, n) SELECT 'deliveries', COUNT(*) FROM deliveries;
CREATE TRIGGER counters_build_insert AFTER INSERT ON builds BEGIN
    INSERT INTO counters (name, n) VALUES ('builds.' || NEW.state, 1)
        ON CONFLICT (name) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER counters_build_state AFTER UPDATE OF state ON builds WHEN OLD.state != NEW.state BEGIN
    UPDATE counters SET n = n - 1 WHERE name = 'builds.' || OLD.state;
    INSERT INTO counters (name, n) VALUES ('builds.' || NEW.state, 1)
        ON CONFLICT (name) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER counters_build_delete AFTER DELETE ON builds BEGIN
    UPDATE counters SET n = n - 1 WHERE name = 'builds.' || OLD.state;
END;
CREATE TRIGGER counters_delivery_insert AFTER INSERT ON deliveries BEGIN
    INSERT INTO counters (name, n) VALUES ('deliveries', 1) ON CONFLICT (name) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER counters_delivery_delete AFTER DELETE ON deliveries BEGIN
    UPDATE counters SET n = n - 1 WHERE name = 'deliveries';
END;
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
) WITHOUT ROWID;
)sql"},
    // Issue 11: a forced push is never superseded as a replay; tags sanitising changed are checked for an
    // owner before they are pushed, which looks pushes up by image.
    Migration{5, R"sql(
ALTER TABLE builds ADD COLUMN forced INTEGER NOT NULL DEFAULT 0;
ALTER TABLE builds ADD COLUMN sanitized_tags TEXT NOT NULL DEFAULT '[]';
CREATE INDEX pushed_images_by_image ON pushed_images (image);
)sql"},
    // Every build says why it ran (issue 17).
    Migration{6, R"sql(
ALTER TABLE builds ADD COLUMN trigger_type TEXT NOT NULL DEFAULT 'push';
ALTER TABLE builds ADD COLUMN trigger_reason TEXT NOT NULL DEFAULT '';
)sql"},
    // Issue 14: the instance that claimed a build and its lease, who leased a notification (as in
    // PostgreSQL; one serve per SQLite file never checks them).
    Migration{7, R"sql(
ALTER TABLE builds ADD COLUMN instance TEXT NOT NULL DEFAULT '';
ALTER TABLE builds ADD COLUMN lease_until_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN leased_by TEXT NOT NULL DEFAULT '';
)sql"},
    // Pull request builds (issue 16): the number, a fork's head, and builds that push nothing.
    Migration{8, R"sql(
ALTER TABLE builds ADD COLUMN pull_request INTEGER NOT NULL DEFAULT 0;
ALTER TABLE builds ADD COLUMN pull_request_external INTEGER NOT NULL DEFAULT 0;
ALTER TABLE builds ADD COLUMN no_push INTEGER NOT NULL DEFAULT 0;
)sql"},
    // Build reuse (issue 17): a build's identity, its resolved base images, the build it re-tagged, and
    // the builds that opted out. A table of its own: most builds never need a row's worth of it.
    Migration{9, R"sql(
CREATE TABLE build_reuse (
    build_id INTEGER PRIMARY KEY,
    reuse INTEGER NOT NULL DEFAULT 1,
    identity TEXT NOT NULL DEFAULT '',
    base_images TEXT NOT NULL DEFAULT '{}',
    reused_from INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX build_reuse_by_identity ON build_reuse (identity);
)sql"},
    // Claims whose cost does not grow with the queue (issue 12), kept up by triggers so that every writer
    // of the file (another process too) keeps them right: claim_supersede holds the queued builds a newer
    // build may replace (marked by that build's insert, or by a requeue), running_refs the image:tag of
    // running builds, and claim_scan.generation counts the changes that can make a skipped queued build
    // claimable (a build leaving running, a requeue, a cancel, a delete). builds_by_repository_state serves
    // a repository's newest builds in one state (badges, the dashboard's filters) without reading the others.
    Migration{10, R"sql(
CREATE INDEX builds_claim_order ON builds (state, attempts, id);
CREATE INDEX builds_by_repository_state ON builds (repository, state, id);
CREATE INDEX builds_by_sibling ON builds (repository, rule_index, ref, id);
CREATE TABLE claim_supersede (id INTEGER PRIMARY KEY);
INSERT INTO claim_supersede (id) SELECT id FROM builds WHERE state = 'queued';
CREATE TABLE running_refs (ref TEXT NOT NULL, build_id INTEGER NOT NULL, PRIMARY KEY (ref, build_id))
    WITHOUT ROWID;
CREATE INDEX running_refs_by_build ON running_refs (build_id);
INSERT OR IGNORE INTO running_refs (ref, build_id)
    SELECT b.image || ':' || t.value, b.id FROM builds b,
        json_each(CASE WHEN json_valid(b.tags) THEN b.tags ELSE '[]' END) t
    WHERE b.state = 'running' AND t.type = 'text';
CREATE TABLE claim_scan (generation INTEGER NOT NULL);
INSERT INTO claim_scan (generation) VALUES (0);
CREATE TRIGGER claim_build_insert AFTER INSERT ON builds BEGIN
    INSERT OR IGNORE INTO claim_supersede (id) SELECT id FROM builds
        WHERE repository = NEW.repository AND rule_index = NEW.rule_index AND ref = NEW.ref AND state = 'queued'
        AND id < NEW.id ORDER BY id DESC LIMIT 1;
END;
CREATE TRIGGER claim_build_state AFTER UPDATE OF state ON builds WHEN OLD.state != NEW.state BEGIN
    INSERT OR IGNORE INTO running_refs (ref, build_id)
        SELECT NEW.image || ':' || t.value, NEW.id
        FROM json_each(CASE WHEN json_valid(NEW.tags) THEN NEW.tags ELSE '[]' END) t
        WHERE NEW.state = 'running' AND t.type = 'text';
    DELETE FROM running_refs WHERE OLD.state = 'running' AND build_id = OLD.id;
    INSERT OR IGNORE INTO claim_supersede (id) SELECT NEW.id WHERE NEW.state = 'queued';
    UPDATE claim_scan SET generation = generation + 1
        WHERE OLD.state = 'running' OR NEW.state IN ('queued', 'canceled');
END;
CREATE TRIGGER claim_build_delete AFTER DELETE ON builds BEGIN
    DELETE FROM running_refs WHERE build_id = OLD.id;
    DELETE FROM claim_supersede WHERE id = OLD.id;
    UPDATE claim_scan SET generation = generation + 1;
END;
)sql"},
    // The dashboard (issue 13) at any history size: each rule's newest build in one index step (the
    // repositories page; builds_by_sibling has the ref between the rule and the id), a ref's newest builds
    // (the builds page's ref filter).
    Migration{13, R"sql(
CREATE INDEX builds_by_rule ON builds (repository, rule_index, id);
CREATE INDEX builds_by_ref ON builds (ref, id);
)sql"},
};

// The integer the first row of `sql` starts with (0 without a row); the statement is reset on return.
util::Result<std::int64_t> single_int(Db& db, const std::string& sql) {
    auto q = db.query(sql);
    if (!q) return q.error();
    auto row = q->step();
    if (!row) return row.error();
    return *row ? q->int_at(0) : 0;
}

// A database made before auto_vacuum=incremental never gives freed pages back to the file system. The
// mode of an existing file only changes with a VACUUM (which rewrites it, needing about its size in free
// space), so a failure is not fatal: the store works as before and the next start tries again.
util::Status switch_auto_vacuum(Db& db) {
    auto mode = single_int(db, "PRAGMA auto_vacuum");
    if (!mode) return mode.error();
    if (*mode == 2) return {};
    return db.exec("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;");
}

}  // namespace

int latest_schema_version() { return k_migrations.back().version; }

util::Status migrate(Db& db) {
    // A new file takes the mode before its first table, without a VACUUM.
    auto tables = single_int(db, "SELECT COUNT(*) FROM sqlite_master");
    if (!tables) return tables.error();
    if (*tables == 0) {
        if (auto st = db.exec("PRAGMA auto_vacuum = INCREMENTAL"); !st) return st;
    }
    auto st = db.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)");
    if (!st) return st;
    // Every migration not recorded yet applies, not only those above the highest: migrations written on
    // parallel branches may be merged in another order than their numbers.
    std::set<std::int64_t> applied;
    auto q = db.query("SELECT version FROM schema_migrations");
    if (!q) return q.error();
    if (auto rows = q->each_row([&] { applied.insert(q->int_at(0)); }); !rows) return rows;
    const std::int64_t current = applied.empty() ? 0 : *applied.rbegin();
    if (current > latest_schema_version()) {
        return newer_schema(db.path(), current, latest_schema_version());
    }
    for (const auto& m : k_migrations) {
        if (applied.count(m.version) > 0) continue;
        auto done = db.write([&]() -> util::Status {
            if (auto e = db.exec(m.sql); !e) {
                return util::make_error(e.error().kind,
                                        "migration " + std::to_string(m.version) + ": " + e.error().message);
            }
            auto ins = db.query("INSERT INTO schema_migrations (version, applied_ms) VALUES (?, ?)");
            if (!ins) return ins.error();
            return ins->bind_all(m.version, now_ms()).run();
        });
        if (!done) return done;
    }
    if (auto v = switch_auto_vacuum(db); !v) {
        util::log_warn("store", "could not switch " + db.path() + " to auto_vacuum=incremental (" + v.error().message +
                                    "); pruning frees pages inside the file but cannot shrink it until a later "
                                    "start succeeds: free disk space about the size of the database");
    }
    return {};
}

}  // namespace hookyard::storage::sqlite
