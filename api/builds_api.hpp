#pragma once
// The REST API over builds, behind a bearer token (server.api_token; none configured = API off, 401):
//   GET  /api/v1/builds?repository=&state=&limit=&before=   newest first
//   GET  /api/v1/builds/{id}
//   GET  /api/v1/builds/{id}/log?offset=&follow=1            a page of the log, or a stream until terminal
//   GET  /api/v1/builds/{id}/notifications                   the build's outbox with attempts, and callbacks
//   POST /api/v1/builds/{id}/cancel                          200, 409 when already finished
//   POST /api/v1/builds/{id}/retry                           201 with the new build
//   GET  /api/v1/builds/{id}/provenance                      the SLSA v1 provenance statement (in-toto)
// Every error answer is {"error": "..."} with the status that names the class of problem.

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "http/route_table.hpp"
#include "storage/store.hpp"

namespace hookyard::api {

class BuildsApi {
public:
    // `api_token` empty disables the API; `store` must outlive this; `on_queued` (called after a retry
    // queued a build) may be empty. `wait_reasons` (may be empty) says why queued builds are not being
    // claimed (low disk space); while it gives reasons, every queued build's JSON carries them as
    // "waiting": [...]. Thread-safe.
    BuildsApi(std::string api_token, storage::Store& store, std::function<void()> on_queued,
              std::function<std::vector<std::string>()> wait_reasons = {});

    // The routes above, label "api". This must outlive the table.
    void add_routes(http::RouteTable& table);

private:
    using Query = std::map<std::string, std::string>;
    using Handler = http::ServerResponse (BuildsApi::*)(storage::BuildId id, const Query& query);

    // Adds a route that answers 401 without the bearer token and 400 for an {id} that is not a build id.
    void add_guarded(http::RouteTable& table, std::string method, std::string_view pattern, Handler handler);
    // Null when the request carries the token, else the 401 answer.
    std::optional<http::ServerResponse> unauthorised(const http::ServerRequest& request) const;

    // `id` is 0 for the list.
    http::ServerResponse list(storage::BuildId id, const Query& query);
    http::ServerResponse get(storage::BuildId id, const Query& query);
    http::ServerResponse log(storage::BuildId id, const Query& query);
    http::ServerResponse notifications(storage::BuildId id, const Query& query);
    http::ServerResponse cancel(storage::BuildId id, const Query& query);
    http::ServerResponse retry(storage::BuildId id, const Query& query);
    // The build's SLSA v1 provenance statement (api/provenance.hpp).
    http::ServerResponse provenance(storage::BuildId id, const Query& query);
    http::ServerResponse follow_log(storage::BuildId id, storage::LogChunk first);
    // The build's JSON, with "waiting" for a queued build while the pipeline holds claims.
    nlohmann::json to_json(const storage::Build& b, const std::vector<std::string>& waiting) const;
    http::ServerResponse build_response(unsigned status, const storage::Build& b) const;

    std::string m_token;
    storage::Store& m_store;
    std::function<void()> m_on_queued;
    std::function<std::vector<std::string>()> m_wait_reasons;
};

}  // namespace hookyard::api
