#include "api/metrics.hpp"

#include <sstream>

namespace hookyard::api {

void Metrics::observe_request(std::string_view route, unsigned status, double seconds) {
    std::lock_guard lock(m_mutex);
    ++m_requests[{std::string(route), status}];
    ++m_latency_count;
    m_latency_sum += seconds;
    for (std::size_t i = 0; i < k_buckets.size(); ++i) {
        if (seconds <= k_buckets[i]) ++m_bucket_counts[i];
    }
}

void Metrics::count_delivery(std::string_view event, std::string_view outcome) {
    std::lock_guard lock(m_mutex);
    ++m_deliveries[{std::string(event), std::string(outcome)}];
}

void Metrics::count_prune(std::uint64_t rows) {
    std::lock_guard lock(m_mutex);
    ++m_prune_runs;
    m_pruned_rows += rows;
}

void Metrics::set_cache_bytes(std::uint64_t bytes) {
    std::lock_guard lock(m_mutex);
    m_cache_bytes = bytes;
}

std::string Metrics::render(const storage::StoreStats* stats) const {
    std::ostringstream out;
    std::lock_guard lock(m_mutex);
    out << "# HELP hookyard_http_requests_total HTTP requests answered, by route and status.\n"
        << "# TYPE hookyard_http_requests_total counter\n";
    for (const auto& [key, n] : m_requests) {
        out << "hookyard_http_requests_total{route=\"" << key.first << "\",status=\"" << key.second << "\"} " << n
            << "\n";
    }
    out << "# HELP hookyard_http_request_duration_seconds Time from a complete request to its response.\n"
        << "# TYPE hookyard_http_request_duration_seconds histogram\n";
    for (std::size_t i = 0; i < k_buckets.size(); ++i) {
        out << "hookyard_http_request_duration_seconds_bucket{le=\"" << k_buckets[i] << "\"} " << m_bucket_counts[i]
            << "\n";
    }
    out << "hookyard_http_request_duration_seconds_bucket{le=\"+Inf\"} " << m_latency_count << "\n"
        << "hookyard_http_request_duration_seconds_sum " << m_latency_sum << "\n"
        << "hookyard_http_request_duration_seconds_count " << m_latency_count << "\n";
    out << "# HELP hookyard_webhook_deliveries_total GitHub deliveries, by event and outcome.\n"
        << "# TYPE hookyard_webhook_deliveries_total counter\n";
    for (const auto& [key, n] : m_deliveries) {
        out << "hookyard_webhook_deliveries_total{event=\"" << key.first << "\",outcome=\"" << key.second << "\"} " << n
            << "\n";
    }
    out << "# HELP hookyard_prune_runs_total Retention runs of this process.\n# TYPE hookyard_prune_runs_total "
           "counter\n"
        << "hookyard_prune_runs_total " << m_prune_runs << "\n"
        << "# HELP hookyard_pruned_rows_total Store rows removed by retention.\n"
        << "# TYPE hookyard_pruned_rows_total counter\n"
        << "hookyard_pruned_rows_total " << m_pruned_rows << "\n"
        << "# HELP hookyard_cache_bytes Disk used by buildah's storage (the layer cache), last measured.\n"
        << "# TYPE hookyard_cache_bytes gauge\nhookyard_cache_bytes " << m_cache_bytes << "\n";
    out << "# HELP hookyard_store_up Whether the store answered this scrape.\n# TYPE hookyard_store_up gauge\n"
        << "hookyard_store_up " << (stats ? 1 : 0) << "\n";
    if (stats) {
        out << "# HELP hookyard_builds Builds in the store, by state.\n# TYPE hookyard_builds gauge\n";
        for (auto s : {storage::BuildState::queued, storage::BuildState::running, storage::BuildState::succeeded,
                       storage::BuildState::failed, storage::BuildState::canceled, storage::BuildState::superseded}) {
            auto it = stats->builds_by_state.find(s);
            out << "hookyard_builds{state=\"" << storage::to_string(s) << "\"} "
                << (it == stats->builds_by_state.end() ? 0 : it->second) << "\n";
        }
        auto q = stats->builds_by_state.find(storage::BuildState::queued);
        out << "# HELP hookyard_queue_depth Builds waiting to run.\n# TYPE hookyard_queue_depth gauge\n"
            << "hookyard_queue_depth " << (q == stats->builds_by_state.end() ? 0 : q->second) << "\n";
        out << "# HELP hookyard_stored_deliveries Deliveries remembered for deduplication.\n"
            << "# TYPE hookyard_stored_deliveries gauge\nhookyard_stored_deliveries " << stats->deliveries << "\n";
    }
    return out.str();
}

}  // namespace hookyard::api
