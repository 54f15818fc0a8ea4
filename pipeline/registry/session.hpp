#pragma once
// One registry conversation: URLs under api_base, Authorization on every request (re-authenticating
// once on a 401), and the retry-with-backoff loop for transient faults. Internal to hookyard_registry.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "http/client.hpp"
#include "pipeline/registry/auth.hpp"
#include "pipeline/registry/errors.hpp"
#include "pipeline/registry/registry_client.hpp"

namespace hookyard::pipeline::detail {

// Facts one attempt of a step learned that the retry loop needs.
struct Attempt {
    std::chrono::milliseconds retry_after{0};  // the registry's Retry-After, if it sent one
};

class Session {
public:
    // `auth` must outlive the session. `scope` is the token scope list for everything this session does.
    Session(http::Client& http, Authenticator& auth, const RegistryClientOptions& options, ErrorContext context,
            std::string scope);

    // Absolute URL for a path under api_base ("/v2/…"), or a Location header value (absolute or relative).
    std::string url(std::string_view path_or_location) const;

    // Sends `request` with authorization (only when its URL is under api_base); on a 401 records the
    // challenge and sends it once more. Returns the final response whatever its status; errors are network
    // faults and token-service failures.
    util::Result<http::Response> send(http::Request request);

    // Checks that `response` has status `expected` (or `also`); otherwise the mapped registry error, and
    // for retryable statuses the Retry-After recorded in `attempt`.
    util::Status expect(const http::Response& response, int expected, std::string_view what, Attempt& attempt,
                        int also = 0) const;

    // Runs `step` until it succeeds, fails permanently, `max_attempts` is reached or `abort` is set; waits
    // backoff_base·2^n (at least the Retry-After) between attempts.
    util::Status retrying(std::string_view what, const std::function<util::Status(Attempt&)>& step,
                          const std::atomic<bool>* abort = nullptr) const;

    // Every request of the session ends (ErrorKind::canceled) once *abort is true; so do retrying() steps.
    void set_abort(const std::atomic<bool>* abort) { m_abort = abort; }
    bool aborted() const { return m_abort != nullptr && m_abort->load(); }
    const ErrorContext& context() const { return m_context; }
    ErrorContext context_for_tag(const std::string& tag) const;

private:
    bool is_registry_url(const std::string& url) const;

    http::Client& m_http;
    Authenticator& m_auth;
    const RegistryClientOptions& m_options;
    ErrorContext m_context;
    std::string m_scope;
    const std::atomic<bool>* m_abort = nullptr;
};

}  // namespace hookyard::pipeline::detail
