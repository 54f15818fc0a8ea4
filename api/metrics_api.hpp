#pragma once
// GET /metrics: the Prometheus text exposition of the request and delivery counters (api/metrics.hpp) and
// the pipeline's builds by state, read at scrape time.

#include "api/metrics.hpp"
#include "api/pipeline_status.hpp"
#include "http/route_table.hpp"

namespace hookyard::api {

class MetricsApi {
public:
    // `metrics` and `status` must outlive this. Thread-safe.
    MetricsApi(Metrics& metrics, PipelineStatus& status) : m_metrics(metrics), m_status(status) {}

    // GET /metrics, label "metrics". This must outlive the table.
    void add_routes(http::RouteTable& table);
    http::ServerResponse scrape();

private:
    Metrics& m_metrics;
    PipelineStatus& m_status;
};

}  // namespace hookyard::api
