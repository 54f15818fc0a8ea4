#include "webhook/notify/dispatcher.hpp"

#include <algorithm>
#include <random>

#include "util/log.hpp"
#include "util/signature.hpp"
#include "webhook/notify/notify_planner.hpp"

namespace hookyard::notify {
namespace {

constexpr const char* k_component = "dispatcher";
constexpr int k_per_target = 8;  // notifications one worker sends to its target in a row

double random_unit() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

DispatcherOptions dispatcher_options(const config::Config& config) {
    DispatcherOptions o;
    o.max_attempts = config.notify.max_attempts;
    o.timeout = config.notify.timeout;
    o.initial_backoff = config.notify.initial_backoff;
    return o;
}

std::chrono::milliseconds backoff_delay(std::chrono::milliseconds initial, int attempt, double jitter) {
    const auto cap = std::chrono::milliseconds(std::chrono::hours(1));
    auto delay = initial;
    for (int i = 1; i < attempt && delay < cap; ++i) delay *= 2;
    delay = std::min(delay, cap);
    const double factor = 0.8 + 0.4 * std::clamp(jitter, 0.0, 1.0);
    return std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(delay.count()) * factor));
}

Dispatcher::Dispatcher(storage::Store& store, const config::Config& config, http::Client& client,
                       DispatcherOptions options)
    : m_store(store),
      m_config(config),
      m_client(client),
      m_options(options),
      m_loop([this] { step(); }, options.poll_interval) {
    if (m_options.workers < 1) m_options.workers = 1;
}

Dispatcher::~Dispatcher() { stop(); }

void Dispatcher::start() { m_loop.start(); }

void Dispatcher::wake() { m_loop.wake(); }

void Dispatcher::stop() {
    m_loop.stop();
    std::map<std::string, std::thread> workers;
    std::vector<std::thread> finished;
    {
        std::lock_guard lock(m_mutex);
        workers.swap(m_workers);
        finished.swap(m_finished);
    }
    for (auto& [t, w] : workers) w.join();
    for (auto& w : finished) w.join();
}

void Dispatcher::step() {
    std::vector<std::string> busy;
    std::vector<std::thread> to_join;
    int free_workers = 0;
    {
        std::lock_guard lock(m_mutex);
        busy.assign(m_busy.begin(), m_busy.end());
        free_workers = m_options.workers - static_cast<int>(m_busy.size());
        to_join.swap(m_finished);
    }
    for (auto& t : to_join) t.join();
    if (free_workers <= 0) return;
    const auto lease = m_options.timeout * k_per_target + std::chrono::seconds(30);
    auto due = m_store.claim_due_notifications(free_workers, k_per_target, busy, lease);
    if (!due) {
        util::log_error(k_component, "cannot read the outbox: " + due.error().message);
        return;
    }
    std::map<std::string, std::vector<storage::Notification>> by_target;
    for (auto& n : *due) by_target[n.target].push_back(std::move(n));
    std::lock_guard lock(m_mutex);
    for (auto& [target, batch] : by_target) {
        m_busy.insert(target);
        m_workers[target] = std::thread(
            [this, target = target, batch = std::move(batch)]() mutable { deliver_all(target, std::move(batch)); });
    }
}

void Dispatcher::deliver_all(std::string target, std::vector<storage::Notification> batch) {
    for (const auto& n : batch) {
        if (m_loop.stopping()) break;  // the rest stay leased and are retried after the next start
        try {
            deliver(n);
        } catch (const std::exception& e) {
            // The notification stays leased and is retried when the lease ends; the worker goes on.
            util::log_error(k_component, "notification " + std::to_string(n.id) + " failed: " + e.what());
        }
    }
    {
        std::lock_guard lock(m_mutex);
        m_busy.erase(target);
        auto it = m_workers.find(target);
        if (it != m_workers.end()) {
            m_finished.push_back(std::move(it->second));
            m_workers.erase(it);
        }
    }
    m_loop.wake();
}

http::Request Dispatcher::make_request(const storage::Notification& n, std::string& problem) const {
    http::Request req;
    req.method = "POST";
    req.url = n.url;
    req.body = n.body;
    req.timeout = m_options.timeout;
    req.headers = {{"Content-Type", "application/json"}};
    if (n.target == k_github_target) {
        if (m_config.github.token.empty()) problem = "github.token is no longer configured";
        req.headers.push_back({"Authorization", "Bearer " + m_config.github.token});
        req.headers.push_back({"Accept", "application/vnd.github+json"});
        req.headers.push_back({"X-GitHub-Api-Version", "2022-11-28"});
        return req;
    }
    const auto it = std::find_if(m_config.subscribers.begin(), m_config.subscribers.end(),
                                 [&](const config::Subscriber& s) { return s.name == n.target; });
    if (it == m_config.subscribers.end()) {
        problem = "subscriber '" + n.target + "' is no longer in the config";
        return req;
    }
    if (it->format == config::PayloadFormat::hookyard) {
        req.headers.push_back({"X-Hookyard-Event", n.event});
        req.headers.push_back({"X-Hookyard-Delivery", n.delivery});
        if (!it->secret.empty()) {
            req.headers.push_back({"X-Hookyard-Signature-256", "sha256=" + util::hmac_sha256_hex(it->secret, n.body)});
        }
    }
    return req;
}

void Dispatcher::deliver(const storage::Notification& n) {
    storage::NotificationAttempt attempt;
    attempt.at = storage::now_ms();
    std::string problem;
    const auto req = make_request(n, problem);
    bool delivered = false, retry = false;
    if (!problem.empty()) {
        attempt.error = problem;
    } else {
        const auto started = std::chrono::steady_clock::now();
        auto res = m_client.request(req);
        attempt.latency_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
        if (!res) {
            attempt.error = res.error().message;
            retry = true;
        } else {
            attempt.status = res->status;
            delivered = res->status >= 200 && res->status < 300;
            if (!delivered) {
                attempt.error = "receiver answered HTTP " + std::to_string(res->status);
                retry = is_retryable_status(res->status);
            }
        }
    }
    const int attempts_after = n.attempts + 1;
    storage::TimeMs next = 0;
    if (!delivered && retry && attempts_after < m_options.max_attempts) {
        next = storage::now_ms() + backoff_delay(m_options.initial_backoff, attempts_after, random_unit()).count();
    }
    if (auto st = m_store.record_notification_attempt(n.id, attempt, delivered, next); !st) {
        util::log_error(k_component, "notification " + std::to_string(n.id) + ": " + st.error().message);
    }
    const std::string what =
        n.event + " for build " + std::to_string(n.build_id) + " to " + n.target + " (" + util::redact_url(n.url) + ")";
    if (delivered) {
        util::log_info(k_component, "delivered " + what + " in " + std::to_string(attempt.latency_ms) + " ms");
    } else if (next != 0) {
        util::log_warn(k_component, "attempt " + std::to_string(attempts_after) + " of " + what +
                                        " failed: " + attempt.error + "; retrying");
    } else {
        util::log_error(k_component, "giving up on " + what + " after " + std::to_string(attempts_after) +
                                         " attempt(s): " + attempt.error);
    }
}

}  // namespace hookyard::notify
