#pragma once
// GET /healthz: 200 {"status":"ok"} while the service can take work, 200 {"status":"degraded","reasons":[…]}
// while it takes work but holds builds (low disk space), 503 {"error": why} when it cannot take work.

#include "api/pipeline_status.hpp"
#include "http/route_table.hpp"

namespace hookyard::api {

class HealthApi {
public:
    // `status` must outlive this. Thread-safe.
    explicit HealthApi(PipelineStatus& status) : m_status(status) {}

    // GET /healthz, label "healthz". This must outlive the table.
    void add_routes(http::RouteTable& table);
    http::ServerResponse healthz();

private:
    PipelineStatus& m_status;
};

}  // namespace hookyard::api
