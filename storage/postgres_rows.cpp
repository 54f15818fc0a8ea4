#include "storage/postgres_rows.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>

#include "storage/postgres_reuse.hpp"
#include "util/json.hpp"

namespace hookyard::storage::postgres {
namespace {

const std::string k_build_columns =
    "id, state, repository, ref, commit_sha, rule_index, image, tags, digest, error, created_ms, started_ms, "
    "finished_ms, clone_url, dockerfile, context, build_args, source_type, source_name, delivery_id, "
    "head_commit_message, pusher, superseded_by, retry_of, attempts, cancel_requested, log_size, crash_streak, "
    "forced, sanitized_tags, trigger_type, trigger_reason, pull_request, pull_request_external, no_push, instance";

// A JSON column's value as T; T{} when the text is not that.
template <class T>
T json_of(const std::string& text) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    try {
        return j.is_discarded() ? T{} : j.get<T>();
    } catch (const nlohmann::json::exception&) {
        return T{};
    }
}

Build build_of(const Rows& rows, int row) {
    Cursor c(rows, row);
    Build b;
    b.id = c.num();
    b.state = parse_build_state(c.text()).value_or(BuildState::failed);
    b.repository = c.text(), b.ref = c.text(), b.commit = c.text();
    b.rule = static_cast<std::size_t>(c.num());
    b.image = c.text();
    b.tags = json_of<std::vector<std::string>>(c.text());
    b.digest = c.text(), b.error = c.text();
    b.created_at = c.num(), b.started_at = c.num(), b.finished_at = c.num();
    b.clone_url = c.text(), b.dockerfile = c.text(), b.context = c.text();
    b.build_args = json_of<std::map<std::string, std::string>>(c.text());
    b.source_type = c.text(), b.source_name = c.text(), b.delivery = c.text();
    b.head_commit_message = c.text(), b.pusher = c.text();
    b.superseded_by = c.num(), b.retry_of = c.num();
    b.attempts = static_cast<int>(c.num());
    b.cancel_requested = c.num() != 0;
    b.log_size = c.num();
    b.crash_streak = static_cast<int>(c.num());
    b.forced = c.num() != 0;
    b.sanitized_tags = json_of<std::vector<std::string>>(c.text());
    b.trigger_type = c.text();
    b.trigger_reason = c.text();
    b.pull_request = c.num();
    b.pull_request_external = c.num() != 0;
    b.push = c.num() == 0;
    b.instance = c.text();
    return b;
}

// Stages and pushed images of `b`.
util::Status load_children(Conn& db, Build& b) {
    auto stages = query_all<Stage>(
        db,
        "SELECT name, state, started_ms, finished_ms, duration_ms, error FROM build_stages WHERE build_id = $1 "
        "ORDER BY seq",
        {b.id}, [](Cursor& c) {
            Stage s;
            s.name = c.text();
            s.state = parse_build_state(c.text()).value_or(BuildState::failed);
            s.started_at = c.num(), s.finished_at = c.num(), s.duration_ms = c.num();
            s.error = c.text();
            return s;
        });
    if (!stages) return stages.error();
    b.stages = std::move(*stages);
    auto pushed = db.query("SELECT image, digest FROM pushed_images WHERE build_id = $1", {b.id});
    if (!pushed) return pushed.error();
    for (int i = 0; i < pushed->size(); ++i) b.pushed[pushed->text_at(i, 0)] = pushed->text_at(i, 1);
    return load_reuse(db, b);
}

// A random (version 4) UUID for X-Hookyard-Delivery.
std::string random_uuid() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::string hex;
    for (int i = 0; i < 2; ++i) {
        char part[17];
        std::snprintf(part, sizeof part, "%016llx", static_cast<unsigned long long>(rng()));
        hex += part;
    }
    hex[12] = '4';
    hex[16] = "89ab"[hex[16] % 4];
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
           hex.substr(20);
}

}  // namespace

util::Result<Build> insert_build(Conn& db, const NewBuild& b, const std::string& delivery, BuildId retry_of) {
    auto rows = db.query(
        "INSERT INTO builds (state, repository, ref, commit_sha, rule_index, image, tags, clone_url, dockerfile, "
        "context, build_args, source_type, source_name, delivery_id, head_commit_message, pusher, created_ms, "
        "retry_of, forced, sanitized_tags, trigger_type, trigger_reason, pull_request, pull_request_external, no_push) "
        "VALUES ('queued', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, "
        "$21, $22, $23, $24) RETURNING " +
            k_build_columns,
        {b.repository,
         b.ref,
         b.commit,
         b.rule,
         b.image,
         util::to_json_string(nlohmann::json(b.tags)),
         b.clone_url,
         b.dockerfile,
         b.context,
         util::to_json_string(nlohmann::json(b.build_args)),
         b.source_type,
         b.source_name,
         delivery,
         b.head_commit_message,
         b.pusher,
         now_ms(),
         retry_of,
         b.forced,
         util::to_json_string(nlohmann::json(b.sanitized_tags)),
         b.trigger_type,
         b.trigger_reason,
         b.pull_request,
         b.pull_request_external ? 1 : 0,
         b.push ? 0 : 1});
    if (!rows) return rows.error();
    Build inserted = build_of(*rows, 0);
    inserted.reuse = b.reuse;
    if (auto st = insert_reuse_flag(db, inserted.id, b); !st) return st.error();
    return inserted;
}

util::Result<Build> load_build(Conn& db, BuildId id) {
    auto rows = db.query("SELECT " + k_build_columns + " FROM builds WHERE id = $1", {id});
    if (!rows) return rows.error();
    if (rows->empty())
        return util::make_error(util::ErrorKind::not_found, "build " + std::to_string(id) + " does not exist");
    Build b = build_of(*rows, 0);
    if (auto st = load_children(db, b); !st) return st.error();
    return b;
}

util::Result<std::vector<Build>> load_builds(Conn& db, const BuildFilter& filter) {
    std::string sql = "SELECT " + k_build_columns + " FROM builds WHERE true";
    std::vector<Param> params;
    auto add = [&](const std::string& clause, Param p) {
        params.push_back(std::move(p));
        sql += " AND " + clause + " $" + std::to_string(params.size());
    };
    if (filter.repository) add("repository =", *filter.repository);
    if (filter.state) add("state =", to_string(*filter.state));
    if (filter.rule && filter.repository) {
        add("(repository || '#' || rule_index::text) =", *filter.repository + "#" + std::to_string(*filter.rule));
    } else if (filter.rule) {
        add("rule_index =", static_cast<std::int64_t>(*filter.rule));
    }
    if (filter.ref) add("ref =", *filter.ref);
    if (filter.before_id > 0) add("id <", filter.before_id);
    params.emplace_back(std::clamp(filter.limit, 1, 500));
    sql += " ORDER BY id DESC LIMIT $" + std::to_string(params.size());
    auto rows = db.query(sql, params);
    if (!rows) return rows.error();
    std::vector<Build> out;
    for (int i = 0; i < rows->size(); ++i) {
        out.push_back(build_of(*rows, i));
        if (auto st = load_children(db, out.back()); !st) return st.error();
    }
    return out;
}

util::Result<bool> claim_delivery(Conn& db, const Delivery& d) {
    auto rows = db.query(
        "INSERT INTO deliveries (id, event, repository, received_ms) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (id) DO NOTHING",
        {d.id, d.event, d.repository, d.received_at ? d.received_at : now_ms()});
    if (!rows) return rows.error();
    return rows->affected() == 1;
}

util::Result<std::vector<BuildId>> delivery_builds(Conn& db, const std::string& id) {
    auto rows = db.query("SELECT build_ids FROM deliveries WHERE id = $1", {id});
    if (!rows) return rows.error();
    std::vector<BuildId> out;
    if (rows->empty()) return out;
    auto j = nlohmann::json::parse(rows->text_at(0, 0), nullptr, false);
    if (j.is_array()) {
        for (const auto& v : j) {
            if (v.is_number_integer()) out.push_back(v.get<BuildId>());
        }
    }
    return out;
}

util::Status set_delivery_builds(Conn& db, const std::string& id, const std::vector<BuildId>& builds) {
    return db.exec("UPDATE deliveries SET build_ids = $1 WHERE id = $2",
                   {util::to_json_string(nlohmann::json(builds)), id});
}

util::Status transition(Conn& db, BuildId id, BuildState to) {
    auto rows = db.query("SELECT state FROM builds WHERE id = $1 FOR UPDATE", {id});
    if (!rows) return rows.error();
    if (rows->empty())
        return util::make_error(util::ErrorKind::not_found, "build " + std::to_string(id) + " does not exist");
    const auto from = parse_build_state(rows->text_at(0, 0)).value_or(BuildState::failed);
    if (!can_transition(from, to)) {
        return util::make_error(util::ErrorKind::conflict, "build " + std::to_string(id) + " is " +
                                                               std::string(to_string(from)) + "; it cannot become " +
                                                               std::string(to_string(to)));
    }
    // Running starts the clock; back to queued (crash recovery) clears it; terminal states stop it.
    const bool starts = to == BuildState::running || to == BuildState::queued;
    const std::string sql =
        std::string("UPDATE builds SET state = $1, ") + (starts ? "started_ms" : "finished_ms") + " = $2 WHERE id = $3";
    return db.exec(sql, {to_string(to), to == BuildState::queued ? 0 : now_ms(), id});
}

util::Status queue_events(Conn& db, const EventPlanner& planner, BuildId id) {
    if (!planner) return {};
    auto build = load_build(db, id);
    if (!build) return build.error();
    return queue_events(db, planner, *build);
}

util::Status queue_events(Conn& db, const EventPlanner& planner, const Build& build) {
    if (!planner) return {};
    const auto event = event_for_state(build.state);
    const TimeMs now = now_ms();
    // A state without an event (superseded) plans nothing.
    const auto planned = event.empty() ? std::vector<NewNotification>{} : planner(build, event);
    for (const auto& n : planned) {
        auto st = db.exec(
            "INSERT INTO notifications (build_id, target, event, url, body, delivery, state, created_ms, "
            "next_attempt_ms) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7)",
            {n.build_id, n.target, n.event, n.url, n.body, random_uuid(), now});
        if (!st) return st;
    }
    return {};
}

}  // namespace hookyard::storage::postgres
