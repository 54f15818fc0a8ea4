#pragma once
// Status badges for READMEs, public (no login), behind the public rate limiter:
//   GET /badge/{owner}/{repo}.svg | .json          the repository's latest finished build (any rule)
//   GET /badge/{owner}/{repo}/{tag}.svg | .json    the same, among the builds that push image tag {tag}
// "passing" / "failing" by the latest succeeded or failed build, "building" while a newer one runs,
// "unknown" before any. .json is shields.io's endpoint format. An unconfigured repository gets 404 (with
// a "not found" badge, so a README shows the typo).

#include <string>
#include <string_view>
#include <vector>

#include "api/page_workers.hpp"
#include "config/model.hpp"
#include "http/rate_limiter.hpp"
#include "http/route_table.hpp"
#include "storage/store.hpp"

namespace hookyard::api {

enum class BadgeStatus { passing, failing, building, unknown };

// The badge's message ("passing", …) and its colour as shields names it ("brightgreen", …).
std::string_view badge_message(BadgeStatus s);
std::string_view badge_colour(BadgeStatus s);

// Folds builds of one repository, newest first, into a badge; `tag` non-empty keeps only builds pushing
// it. `verdict_found` is set when the fold saw a succeeded or failed build (later pages cannot change it).
BadgeStatus badge_status(const std::vector<storage::Build>& newest_first, std::string_view tag, bool& verdict_found);

// A flat badge "label | message" in SVG, the text escaped. Pure.
std::string badge_svg(std::string_view label, std::string_view message, std::string_view colour);
// {"schemaVersion": 1, "label": …, "message": …, "color": …}. Pure.
std::string badge_json(std::string_view label, std::string_view message, std::string_view colour);

class BadgeRoutes {
public:
    // `config` and `store` must outlive this. Thread-safe.
    BadgeRoutes(const config::Config& config, storage::Store& store) : m_config(config), m_store(store) {}

    // The routes above, label "badge", behind `limiter` (null = no limit), answered on `workers` (null = on
    // the server's thread). This must outlive the table.
    void add_routes(http::RouteTable& table, http::RateLimiter* limiter, PageWorkers* workers = nullptr);

    // The badge of a repository (owner/name as configured) and tag ("" = any); an error when the store
    // cannot be read.
    util::Result<BadgeStatus> status(const std::string& repository, std::string_view tag);

private:
    http::ServerResponse answer(const std::string& owner, const std::string& repo, const std::string& file);

    const config::Config& m_config;
    storage::Store& m_store;
};

}  // namespace hookyard::api
