#pragma once
// Prometheus metrics for the intake: requests by route and status, a request latency histogram and
// webhook deliveries by event and outcome. Builds by state and queue depth come from the store at scrape
// time. Thread-safe.

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "storage/records.hpp"

namespace hookyard::api {

class Metrics {
public:
    // Counts one answered request and its latency.
    void observe_request(std::string_view route, unsigned status, double seconds);
    // Counts one webhook delivery: outcome is accepted | duplicate | ignored | rejected.
    void count_delivery(std::string_view event, std::string_view outcome);
    // Counts one pruning run that removed `rows` rows.
    void count_prune(std::uint64_t rows);
    // The disk buildah's storage (the layer cache) uses, as last measured.
    void set_cache_bytes(std::uint64_t bytes);
    // The Prometheus text exposition (version 0.0.4); `stats` null when the store could not answer.
    std::string render(const storage::StoreStats* stats) const;

private:
    static constexpr std::array<double, 12> k_buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                         0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
    mutable std::mutex m_mutex;
    std::map<std::pair<std::string, unsigned>, std::uint64_t> m_requests;
    std::map<std::pair<std::string, std::string>, std::uint64_t> m_deliveries;
    std::array<std::uint64_t, k_buckets.size()> m_bucket_counts{};
    std::uint64_t m_latency_count = 0;
    std::uint64_t m_prune_runs = 0;
    std::uint64_t m_pruned_rows = 0;
    std::uint64_t m_cache_bytes = 0;
    double m_latency_sum = 0;
};

}  // namespace hookyard::api
