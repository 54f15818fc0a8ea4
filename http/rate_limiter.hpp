#pragma once
// Per-client request rate limiting for the routes anyone may call with a guessed token (the build trigger,
// the Docker Hub callback): a token bucket per client address, in a table of bounded size.

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/route_table.hpp"

namespace hookyard::http {

class RateLimiter {
public:
    using Clock = std::chrono::steady_clock;

    // `per_second` requests per second per client, up to `per_second` at once (rounded up, at least 1);
    // 0 turns the limit off. At most `max_clients` addresses are remembered: idle ones are forgotten first,
    // then the least recently seen, so a flood from many addresses costs bounded memory.
    explicit RateLimiter(double per_second, std::size_t max_clients = 4096);

    // Takes one request's token for `client` (an IP address; IPv6 addresses count per /64, which one host
    // usually holds whole). nullopt when allowed, else the whole seconds until the next token (≥ 1), for
    // Retry-After. Thread-safe.
    std::optional<int> take(std::string_view client, Clock::time_point now = Clock::now());

    // Addresses remembered now (for tests).
    std::size_t clients() const;
    // The configured requests per second (0 = no limit).
    double per_second() const { return m_rate; }

    // The key `address` is counted under: IPv4 as is, IPv6 cut to its /64. Pure.
    static std::string client_key(std::string_view address);

private:
    struct Bucket {
        double tokens = 0;
        Clock::time_point last;
    };
    // Forgets full (idle) buckets, or else the least recently seen one; m_mutex held.
    void make_room(Clock::time_point now);

    double m_rate;
    double m_burst;
    std::size_t m_max_clients;
    mutable std::mutex m_mutex;
    std::unordered_map<std::string, Bucket> m_buckets;  // guarded by m_mutex
};

// `handler` behind `limiter` (null = no limit): a client over its rate gets 429 with Retry-After and a JSON
// error naming the wait, without reaching the handler.
SyncRouteHandler rate_limited(RateLimiter* limiter, SyncRouteHandler handler);

}  // namespace hookyard::http
