#include "storage/sqlite_build_rows.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "storage/sqlite_reuse.hpp"
#include "util/json.hpp"

namespace hookyard::storage::sqlite {
namespace {

using util::ErrorKind;
using util::make_error;

const std::string k_columns =
    "id, state, repository, ref, commit_sha, rule_index, image, tags, digest, error, created_ms, started_ms, "
    "finished_ms, clone_url, dockerfile, context, build_args, source_type, source_name, delivery_id, "
    "head_commit_message, pusher, superseded_by, retry_of, attempts, cancel_requested, log_size, crash_streak, forced, "
    "sanitized_tags, trigger_type, trigger_reason, pull_request, pull_request_external, no_push, instance";

template <class T>
T parse_json_or(const std::string& text, T fallback) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) return fallback;
    try {
        return j.get<T>();
    } catch (const nlohmann::json::exception&) {
        return fallback;
    }
}

Build row_to_build(const Stmt& s) {
    Build b;
    b.id = s.int_at(0);
    b.state = parse_build_state(s.text_at(1)).value_or(BuildState::failed);
    b.repository = s.text_at(2);
    b.ref = s.text_at(3);
    b.commit = s.text_at(4);
    b.rule = static_cast<std::size_t>(s.int_at(5));
    b.image = s.text_at(6);
    b.tags = parse_json_or<std::vector<std::string>>(s.text_at(7), {});
    b.digest = s.text_at(8);
    b.error = s.text_at(9);
    b.created_at = s.int_at(10);
    b.started_at = s.int_at(11);
    b.finished_at = s.int_at(12);
    b.clone_url = s.text_at(13);
    b.dockerfile = s.text_at(14);
    b.context = s.text_at(15);
    b.build_args = parse_json_or<std::map<std::string, std::string>>(s.text_at(16), {});
    b.source_type = s.text_at(17);
    b.source_name = s.text_at(18);
    b.delivery = s.text_at(19);
    b.head_commit_message = s.text_at(20);
    b.pusher = s.text_at(21);
    b.superseded_by = s.int_at(22);
    b.retry_of = s.int_at(23);
    b.attempts = static_cast<int>(s.int_at(24));
    b.cancel_requested = s.int_at(25) != 0;
    b.log_size = s.int_at(26);
    b.crash_streak = static_cast<int>(s.int_at(27));
    b.forced = s.int_at(28) != 0;
    b.sanitized_tags = parse_json_or<std::vector<std::string>>(s.text_at(29), {});
    b.trigger_type = s.text_at(30);
    b.trigger_reason = s.text_at(31);
    b.pull_request = s.int_at(32);
    b.pull_request_external = s.int_at(33) != 0;
    b.push = s.int_at(34) == 0;
    b.instance = s.text_at(35);
    return b;
}

util::Status load_pushed(Db& db, Build& b) {
    auto q = db.query("SELECT image, digest FROM pushed_images WHERE build_id = ?");
    if (!q) return q.error();
    q->bind_all(b.id);
    return q->each_row([&] { b.pushed[q->text_at(0)] = q->text_at(1); });
}

util::Status load_stages(Db& db, Build& b) {
    auto q = db.query(
        "SELECT name, state, started_ms, finished_ms, duration_ms, error FROM build_stages "
        "WHERE build_id = ? ORDER BY seq");
    if (!q) return q.error();
    q->bind_all(b.id);
    for (;;) {
        auto row = q->step();
        if (!row) return row.error();
        if (!*row) return {};
        Stage st;
        st.name = q->text_at(0);
        st.state = parse_build_state(q->text_at(1)).value_or(BuildState::failed);
        st.started_at = q->int_at(2);
        st.finished_at = q->int_at(3);
        st.duration_ms = q->int_at(4);
        st.error = q->text_at(5);
        b.stages.push_back(std::move(st));
    }
}

}  // namespace

util::Result<BuildId> insert_build(Db& db, const NewBuild& b, const std::string& delivery, BuildId retry_of) {
    auto q = db.query(
        "INSERT INTO builds (state, repository, ref, commit_sha, rule_index, image, tags, clone_url, dockerfile, "
        "context, build_args, source_type, source_name, delivery_id, head_commit_message, pusher, created_ms, "
        "retry_of, forced, sanitized_tags, trigger_type, trigger_reason, pull_request, pull_request_external, no_push) "
        "VALUES ('queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!q) return q.error();
    const std::string tags = util::to_json_string(nlohmann::json(b.tags));
    const std::string args = util::to_json_string(nlohmann::json(b.build_args));
    const std::string sanitized = util::to_json_string(nlohmann::json(b.sanitized_tags));
    q->bind_all(b.repository, b.ref, b.commit, b.rule, b.image, tags, b.clone_url, b.dockerfile, b.context, args,
                b.source_type, b.source_name, delivery, b.head_commit_message, b.pusher, now_ms(), retry_of,
                b.forced ? 1 : 0, sanitized, b.trigger_type, b.trigger_reason, b.pull_request,
                b.pull_request_external ? 1 : 0, b.push ? 0 : 1);
    if (auto st = q->run(); !st) return st.error();
    const BuildId id = db.last_insert_id();
    if (auto st = insert_reuse_flag(db, id, b); !st) return st.error();
    return id;
}

util::Result<Build> load_build(Db& db, BuildId id) {
    auto q = db.query("SELECT " + k_columns + " FROM builds WHERE id = ?");
    if (!q) return q.error();
    q->bind_all(id);
    auto row = q->step();
    if (!row) return row.error();
    if (!*row) return make_error(ErrorKind::not_found, "build " + std::to_string(id) + " does not exist");
    Build b = row_to_build(*q);
    if (auto st = load_stages(db, b); !st) return st.error();
    if (auto st = load_pushed(db, b); !st) return st.error();
    if (auto st = load_reuse(db, b); !st) return st.error();
    return b;
}

util::Result<std::vector<Build>> load_builds(Db& db, const BuildFilter& filter) {
    std::string sql = "SELECT " + k_columns + " FROM builds WHERE 1 = 1";
    if (filter.repository) sql += " AND repository = ?";
    if (filter.state) sql += " AND state = ?";
    if (filter.rule) sql += " AND rule_index = ?";
    if (filter.ref) sql += " AND ref = ?";
    if (filter.before_id > 0) sql += " AND id < ?";
    sql += " ORDER BY id DESC LIMIT ?";
    auto q = db.query(sql);
    if (!q) return q.error();
    int i = 0;
    if (filter.repository) q->bind(++i, std::string_view(*filter.repository));
    if (filter.state) q->bind(++i, to_string(*filter.state));
    if (filter.rule) q->bind(++i, static_cast<std::int64_t>(*filter.rule));
    if (filter.ref) q->bind(++i, std::string_view(*filter.ref));
    if (filter.before_id > 0) q->bind(++i, filter.before_id);
    q->bind(++i, static_cast<std::int64_t>(std::clamp(filter.limit, 1, 500)));
    std::vector<Build> out;
    if (auto st = q->each_row([&] { out.push_back(row_to_build(*q)); }); !st) {
        return st.error();
    }
    for (auto& b : out) {
        if (auto st = load_stages(db, b); !st) return st.error();
        if (auto st = load_pushed(db, b); !st) return st.error();
        if (auto st = load_reuse(db, b); !st) return st.error();
    }
    return out;
}

util::Result<std::optional<std::vector<BuildId>>> delivery_builds(Db& db, const std::string& id) {
    auto q = db.query("SELECT build_ids FROM deliveries WHERE id = ?");
    if (!q) return q.error();
    q->bind_all(id);
    auto row = q->step();
    if (!row) return row.error();
    if (!*row) return std::optional<std::vector<BuildId>>{};
    return std::optional<std::vector<BuildId>>(parse_json_or<std::vector<BuildId>>(q->text_at(0), {}));
}

util::Status insert_delivery(Db& db, const Delivery& d, const std::vector<BuildId>& builds) {
    auto q = db.query("INSERT INTO deliveries (id, event, repository, received_ms, build_ids) VALUES (?, ?, ?, ?, ?)");
    if (!q) return q.error();
    return q
        ->bind_all(d.id, d.event, d.repository, d.received_at ? d.received_at : now_ms(),
                   util::to_json_string(nlohmann::json(builds)))
        .run();
}

util::Status transition(Db& db, BuildId id, BuildState to) {
    auto q = db.query("SELECT state FROM builds WHERE id = ?");
    if (!q) return q.error();
    q->bind_all(id);
    auto row = q->step();
    if (!row) return row.error();
    if (!*row) return make_error(ErrorKind::not_found, "build " + std::to_string(id) + " does not exist");
    const auto from = parse_build_state(q->text_at(0)).value_or(BuildState::failed);
    if (!can_transition(from, to)) {
        return make_error(ErrorKind::conflict, "build " + std::to_string(id) + " is " + std::string(to_string(from)) +
                                                   "; it cannot become " + std::string(to_string(to)));
    }
    std::string sql = "UPDATE builds SET state = ?";
    // Running starts the clock; back to queued (crash recovery) clears it; terminal states stop it.
    sql += (to == BuildState::running || to == BuildState::queued) ? ", started_ms = ?" : ", finished_ms = ?";
    sql += " WHERE id = ?";
    auto u = db.query(sql);
    if (!u) return u.error();
    const std::int64_t when = to == BuildState::queued ? 0 : now_ms();
    return u->bind_all(to_string(to), when, id).run();
}

}  // namespace hookyard::storage::sqlite
