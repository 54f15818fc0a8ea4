#include "http/rate_limiter.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cmath>
#include <sstream>

namespace hookyard::http {

RateLimiter::RateLimiter(double per_second, std::size_t max_clients)
    : m_rate(std::max(per_second, 0.0)),
      m_burst(std::max(1.0, std::ceil(per_second))),
      m_max_clients(std::max<std::size_t>(max_clients, 1)) {}

std::string RateLimiter::client_key(std::string_view address) {
    boost::system::error_code ec;
    const auto parsed = boost::asio::ip::make_address(std::string(address), ec);
    if (ec || !parsed.is_v6()) return std::string(address);
    const auto v6 = parsed.to_v6();
    if (v6.is_v4_mapped()) return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
    auto bytes = v6.to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

std::optional<int> RateLimiter::take(std::string_view client, Clock::time_point now) {
    if (m_rate <= 0) return std::nullopt;
    const std::string key = client_key(client);
    std::lock_guard lock(m_mutex);
    auto it = m_buckets.find(key);
    if (it == m_buckets.end()) {
        if (m_buckets.size() >= m_max_clients) make_room(now);
        it = m_buckets.emplace(key, Bucket{m_burst, now}).first;
    }
    Bucket& b = it->second;
    const double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(m_burst, b.tokens + std::max(elapsed, 0.0) * m_rate);
    b.last = std::max(b.last, now);
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return std::nullopt;
    }
    return std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / m_rate)));
}

std::size_t RateLimiter::clients() const {
    std::lock_guard lock(m_mutex);
    return m_buckets.size();
}

void RateLimiter::make_room(Clock::time_point now) {
    // A bucket that has refilled completely carries no information: dropping it changes no answer.
    const auto refill = std::chrono::duration<double>(m_burst / m_rate);
    for (auto it = m_buckets.begin(); it != m_buckets.end();) {
        it = now - it->second.last >= refill ? m_buckets.erase(it) : std::next(it);
    }
    if (m_buckets.size() < m_max_clients) return;
    const auto oldest = std::min_element(m_buckets.begin(), m_buckets.end(),
                                         [](const auto& a, const auto& b) { return a.second.last < b.second.last; });
    m_buckets.erase(oldest);
}

SyncRouteHandler rate_limited(RateLimiter* limiter, SyncRouteHandler handler) {
    if (limiter == nullptr) return handler;
    return [limiter, handler = std::move(handler)](const ServerRequest& req, const PathParams& params) {
        if (const auto wait = limiter->take(req.remote_address)) {
            std::ostringstream rate;
            rate << limiter->per_second();
            auto r =
                json_error(429, "too many requests from " + req.remote_address + ": server.rate_limit allows " +
                                    rate.str() + " per second per client; retry in " + std::to_string(*wait) + " s");
            r.headers.emplace_back("Retry-After", std::to_string(*wait));
            return r;
        }
        return handler(req, params);
    };
}

}  // namespace hookyard::http
