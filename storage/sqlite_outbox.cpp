#include "storage/sqlite_outbox.hpp"

#include <cstdio>
#include <mutex>
#include <random>

#include "storage/sqlite_build_rows.hpp"
#include "util/enum_name.hpp"

namespace hookyard::storage {

std::string_view to_string(NotificationState state) {
    static constexpr util::EnumNames k_names(NotificationState::failed,
                                             std::array<std::string_view, 3>{"pending", "delivered", "failed"});
    return k_names(state, "pending");
}

std::string_view event_for_state(BuildState state) {
    // A superseded build was never started: subscribers hear nothing about it.
    static constexpr util::EnumNames k_events(
        BuildState::superseded, std::array<std::string_view, 6>{"build.queued", "build.started", "build.succeeded",
                                                                "build.failed", "build.canceled", ""});
    return k_events(state, "");
}

namespace sqlite {
namespace {

NotificationState parse_state(const std::string& s) {
    if (s == "delivered") return NotificationState::delivered;
    if (s == "failed") return NotificationState::failed;
    return NotificationState::pending;
}

// A random (version 4) UUID for X-Hookyard-Delivery.
std::string new_uuid() {
    static std::mutex mutex;
    static std::mt19937_64 rng{std::random_device{}()};
    unsigned char b[16];
    {
        std::lock_guard lock(mutex);
        const std::uint64_t hi = rng(), lo = rng();
        for (int i = 0; i < 8; ++i) {
            b[i] = static_cast<unsigned char>(hi >> (8 * i));
            b[8 + i] = static_cast<unsigned char>(lo >> (8 * i));
        }
    }
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
    char out[37];
    std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                  b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return out;
}

constexpr const char* k_columns =
    "id, build_id, target, event, url, body, delivery, state, attempts, created_ms, next_attempt_ms, "
    "delivered_ms, last_error";

Notification read_row(Stmt& q) {
    Notification n;
    n.id = q.int_at(0);
    n.build_id = q.int_at(1);
    n.target = q.text_at(2);
    n.event = q.text_at(3);
    n.url = q.text_at(4);
    n.body = q.text_at(5);
    n.delivery = q.text_at(6);
    n.state = parse_state(q.text_at(7));
    n.attempts = static_cast<int>(q.int_at(8));
    n.created_at = q.int_at(9);
    n.next_attempt_at = q.int_at(10);
    n.delivered_at = q.int_at(11);
    n.last_error = q.text_at(12);
    return n;
}

}  // namespace

util::Status insert_notifications(Db& db, const std::vector<NewNotification>& items) {
    const TimeMs now = now_ms();
    for (const auto& n : items) {
        auto q = db.query(
            "INSERT INTO notifications (build_id, target, event, url, body, delivery, state, attempts, "
            "created_ms, next_attempt_ms) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)");
        if (!q) return q.error();
        if (auto st = q->bind_all(n.build_id, n.target, n.event, n.url, n.body, new_uuid(), now, now).run(); !st) {
            return st;
        }
    }
    return {};
}

util::Status queue_events(Db& db, const EventPlanner& planner, BuildId id) {
    if (!planner) return {};
    auto build = load_build(db, id);
    if (!build) return build.error();
    const auto event = event_for_state(build->state);
    if (event.empty()) return {};
    return insert_notifications(db, planner(*build, event));
}

util::Result<std::vector<Notification>> claim_due_notifications(Db& db, TimeMs now, std::int64_t lease_ms,
                                                                int max_targets, int per_target,
                                                                const std::vector<std::string>& busy_targets) {
    // "|a|b|": one bound text instead of a variable IN list, so the statement stays cached.
    std::string busy = "|";
    for (const auto& t : busy_targets) busy += t + "|";
    std::vector<Notification> out;
    {
        auto q =
            db.query(std::string("WITH due AS (SELECT id, target, next_attempt_ms FROM notifications WHERE "
                                 "state = 'pending' AND next_attempt_ms <= ? AND instr(?, '|' || target || '|') = 0), "
                                 "targets AS (SELECT target, MIN(next_attempt_ms) AS first FROM due GROUP BY "
                                 "target ORDER BY first LIMIT ?), "
                                 "ranked AS (SELECT due.id AS id, ROW_NUMBER() OVER (PARTITION BY due.target "
                                 "ORDER BY due.next_attempt_ms, due.id) AS rn FROM due JOIN targets USING "
                                 "(target)) SELECT ") +
                     k_columns +
                     " FROM notifications WHERE id IN (SELECT id FROM ranked WHERE rn <= ?) ORDER BY "
                     "next_attempt_ms, id");
        if (!q) return q.error();
        q->bind_all(now, busy, max_targets, per_target);
        if (auto st = q->each_row([&] { out.push_back(read_row(*q)); }); !st) {
            return st.error();
        }
    }
    for (const auto& n : out) {
        auto q = db.query("UPDATE notifications SET next_attempt_ms = ? WHERE id = ?");
        if (!q) return q.error();
        if (auto st = q->bind_all(now + lease_ms, n.id).run(); !st) return st.error();
    }
    return out;
}

util::Status record_attempt(Db& db, NotificationId id, const NotificationAttempt& a, bool delivered,
                            TimeMs next_attempt_at) {
    auto ins = db.query(
        "INSERT INTO notification_attempts (notification_id, attempt, at_ms, status, latency_ms, "
        "error) VALUES (?, (SELECT attempts + 1 FROM notifications WHERE id = ?), ?, ?, ?, ?)");
    if (!ins) return ins.error();
    if (auto st = ins->bind_all(id, id, a.at, a.status, a.latency_ms, a.error).run(); !st) return st;
    const char* state = delivered ? "delivered" : (next_attempt_at == 0 ? "failed" : "pending");
    auto up = db.query(
        "UPDATE notifications SET attempts = attempts + 1, state = ?, next_attempt_ms = ?, "
        "delivered_ms = ?, last_error = ? WHERE id = ? AND state = 'pending'");
    if (!up) return up.error();
    if (auto st = up->bind_all(state, next_attempt_at, delivered ? a.at : 0, a.error, id).run(); !st) return st;
    if (db.changes() == 0) {
        return util::make_error(util::ErrorKind::conflict,
                                "notification " + std::to_string(id) + " is not pending (already delivered or failed)");
    }
    return {};
}

util::Result<std::vector<Notification>> load_notifications(Db& db, BuildId build_id) {
    std::vector<Notification> out;
    {
        auto q = db.query(std::string("SELECT ") + k_columns + " FROM notifications WHERE build_id = ? ORDER BY id");
        if (!q) return q.error();
        q->bind_all(build_id);
        if (auto st = q->each_row([&] { out.push_back(read_row(*q)); }); !st) {
            return st.error();
        }
    }
    for (auto& n : out) {
        auto q = db.query(
            "SELECT attempt, at_ms, status, latency_ms, error FROM notification_attempts WHERE "
            "notification_id = ? ORDER BY attempt");
        if (!q) return q.error();
        q->bind_all(n.id);
        if (auto st = q->each_row([&] {
                n.history.push_back({static_cast<int>(q->int_at(0)), q->int_at(1), static_cast<int>(q->int_at(2)),
                                     q->int_at(3), q->text_at(4)});
            });
            !st) {
            return st.error();
        }
    }
    return out;
}

util::Status insert_callback(Db& db, BuildId build_id, const BuildCallback& c) {
    if (auto b = load_build(db, build_id); !b) return b.error();
    auto q = db.query(
        "INSERT INTO build_callbacks (build_id, received_ms, state, description, context, target_url) "
        "VALUES (?, ?, ?, ?, ?, ?)");
    if (!q) return q.error();
    return q->bind_all(build_id, c.received_at, c.state, c.description, c.context, c.target_url).run();
}

util::Result<std::vector<BuildCallback>> load_callbacks(Db& db, BuildId build_id) {
    std::vector<BuildCallback> out;
    auto q = db.query(
        "SELECT received_ms, state, description, context, target_url FROM build_callbacks WHERE "
        "build_id = ? ORDER BY received_ms, rowid");
    if (!q) return q.error();
    q->bind_all(build_id);
    if (auto st = q->each_row([&] {
            out.push_back({q->int_at(0), q->text_at(1), q->text_at(2), q->text_at(3), q->text_at(4)});
        });
        !st) {
        return st.error();
    }
    return out;
}

}  // namespace sqlite
}  // namespace hookyard::storage
