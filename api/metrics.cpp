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

namespace {

// The HELP and TYPE lines of one metric family.
void family(std::ostream& out, const char* name, const char* type, const char* help) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << "\n";
}

// One sample per entry of `counts`, keyed by the values of two labels.
template <class Counts>
void by_labels(std::ostream& out, const char* name, const char* first, const char* second, const Counts& counts) {
    for (const auto& [key, n] : counts) {
        out << name << '{' << first << "=\"" << key.first << "\"," << second << "=\"" << key.second << "\"} " << n
            << "\n";
    }
}

}  // namespace

std::string Metrics::render(const storage::StoreStats* stats) const {
    std::ostringstream out;
    std::lock_guard lock(m_mutex);
    family(out, "hookyard_http_requests_total", "counter", "HTTP requests answered, by route and status.");
    by_labels(out, "hookyard_http_requests_total", "route", "status", m_requests);
    family(out, "hookyard_http_request_duration_seconds", "histogram", "Time from a complete request to its response.");
    for (std::size_t i = 0; i < k_buckets.size(); ++i) {
        out << "hookyard_http_request_duration_seconds_bucket{le=\"" << k_buckets[i] << "\"} " << m_bucket_counts[i]
            << "\n";
    }
    out << "hookyard_http_request_duration_seconds_bucket{le=\"+Inf\"} " << m_latency_count << "\n"
        << "hookyard_http_request_duration_seconds_sum " << m_latency_sum << "\n"
        << "hookyard_http_request_duration_seconds_count " << m_latency_count << "\n";
    family(out, "hookyard_webhook_deliveries_total", "counter", "GitHub deliveries, by event and outcome.");
    by_labels(out, "hookyard_webhook_deliveries_total", "event", "outcome", m_deliveries);
    family(out, "hookyard_prune_runs_total", "counter", "Retention runs of this process.");
    out << "hookyard_prune_runs_total " << m_prune_runs << "\n";
    family(out, "hookyard_pruned_rows_total", "counter", "Store rows removed by retention.");
    out << "hookyard_pruned_rows_total " << m_pruned_rows << "\n";
    family(out, "hookyard_cache_bytes", "gauge", "Disk used by buildah's storage (the layer cache), last measured.");
    out << "hookyard_cache_bytes " << m_cache_bytes << "\n";
    family(out, "hookyard_store_up", "gauge", "Whether the store answered this scrape.");
    out << "hookyard_store_up " << (stats ? 1 : 0) << "\n";
    if (!stats) return out.str();
    const auto builds_in = [&](storage::BuildState s) {
        const auto it = stats->builds_by_state.find(s);
        return it == stats->builds_by_state.end() ? 0 : it->second;
    };
    family(out, "hookyard_builds", "gauge", "Builds in the store, by state.");
    for (auto s : {storage::BuildState::queued, storage::BuildState::running, storage::BuildState::succeeded,
                   storage::BuildState::failed, storage::BuildState::canceled, storage::BuildState::superseded}) {
        out << "hookyard_builds{state=\"" << storage::to_string(s) << "\"} " << builds_in(s) << "\n";
    }
    family(out, "hookyard_queue_depth", "gauge", "Builds waiting to run.");
    out << "hookyard_queue_depth " << builds_in(storage::BuildState::queued) << "\n";
    family(out, "hookyard_stored_deliveries", "gauge", "Deliveries remembered for deduplication.");
    out << "hookyard_stored_deliveries " << stats->deliveries << "\n";
    return out.str();
}

}  // namespace hookyard::api
