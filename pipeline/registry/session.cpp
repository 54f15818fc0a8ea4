#include "pipeline/registry/session.hpp"

#include <thread>

#include "util/log.hpp"

namespace hookyard::pipeline::detail {
namespace {

// How often a backoff wait checks for a cancel.
constexpr std::chrono::milliseconds k_abort_poll{100};

}  // namespace

Session::Session(http::Client& http, Authenticator& auth, const RegistryClientOptions& options, ErrorContext context,
                 std::string scope)
    : m_http(http), m_auth(auth), m_options(options), m_context(std::move(context)), m_scope(std::move(scope)) {}

std::string Session::url(std::string_view path_or_location) const {
    if (path_or_location.rfind("http://", 0) == 0 || path_or_location.rfind("https://", 0) == 0) {
        return std::string(path_or_location);
    }
    std::string base = m_options.api_base;
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (path_or_location.empty() || path_or_location.front() != '/') base += '/';
    return base + std::string(path_or_location);
}

ErrorContext Session::context_for_tag(const std::string& tag) const {
    ErrorContext c = m_context;
    c.tag = tag;
    return c;
}

bool Session::is_registry_url(const std::string& url) const {
    std::string base = m_options.api_base;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return url.size() >= base.size() && url.compare(0, base.size(), base) == 0 &&
           (url.size() == base.size() || url[base.size()] == '/' || url[base.size()] == '?');
}

util::Result<http::Response> Session::send(http::Request request) {
    request.abort = m_abort;
    // Credentials go to the registry only, never to another host a Location header points at.
    if (!is_registry_url(request.url)) return m_http.request(request);
    const std::size_t plain_headers = request.headers.size();
    for (int round = 0;; ++round) {
        request.headers.resize(plain_headers);
        auto authorization = m_auth.authorization(m_scope);
        if (!authorization) return authorization.error();
        if (!authorization->empty()) request.headers.emplace_back("Authorization", *authorization);
        auto response = m_http.request(request);
        if (!response || response->status != 401 || round > 0) return response;
        // A challenge we can answer gets one more round; anonymous Basic cannot be answered.
        if (!m_auth.on_unauthorized(*response, m_scope)) return response;
        auto next = m_auth.authorization(m_scope);
        if (!next) return next.error();
        if (next->empty()) return response;
    }
}

util::Status Session::expect(const http::Response& response, int expected, std::string_view what, Attempt& attempt,
                             int also) const {
    if (response.status == expected || (also != 0 && response.status == also)) return {};
    if (is_retryable_status(response.status)) attempt.retry_after = retry_after(response, m_options.backoff_max);
    return response_error(response, what, m_context);
}

util::Status Session::retrying(std::string_view what, const std::function<util::Status(Attempt&)>& step,
                               const std::atomic<bool>* abort) const {
    auto delay = m_options.backoff_base;
    for (int attempt_no = 1;; ++attempt_no) {
        if (aborted()) return util::make_error(util::ErrorKind::canceled, "push canceled during " + std::string(what));
        Attempt attempt;
        auto status = step(attempt);
        if (status || !util::is_retryable(status.error().kind)) return status;
        if (attempt_no >= m_options.max_attempts || (abort && abort->load())) {
            return util::make_error(status.error().kind, status.error().message + " (gave up after " +
                                                             std::to_string(attempt_no) + " attempts)");
        }
        const auto wait = std::min(std::max(delay, attempt.retry_after), m_options.backoff_max);
        util::log_warn("registry", "retrying " + std::string(what) + " in " + std::to_string(wait.count()) +
                                       " ms: " + status.error().message);
        // In short steps, so that a cancel does not wait out a long Retry-After.
        for (auto slept = std::chrono::milliseconds(0); slept < wait && !aborted(); slept += k_abort_poll) {
            std::this_thread::sleep_for(std::min(k_abort_poll, wait - slept));
        }
        delay = std::min(delay * 2, m_options.backoff_max);
    }
}

}  // namespace hookyard::pipeline::detail
