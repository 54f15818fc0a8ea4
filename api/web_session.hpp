#pragma once
// Dashboard logins without server-side state: the session is a cookie "hy_session=<payload>.<hmac>" whose
// payload names the user, the role and the expiry, signed with a key derived from the configured secret, so
// every instance sharing the config accepts it and a restart keeps people logged in. CSRF tokens are HMACs
// of the session (or, on the login form, of an expiry), so they need no storage either.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "config/model.hpp"

namespace hookyard::api {

struct Session {
    std::string name;
    bool operator_role = false;
    std::int64_t expires_at = 0;  // unix seconds
    std::string cookie_value;     // as the browser sends it (the CSRF token is derived from it)
};

class WebAuth {
public:
    using Clock = std::chrono::system_clock;

    // Keys from ui.session_secret, else server.webhook_secret, else server.api_token; with none of them a
    // random key (sessions then end at restart and do not carry across instances). `config` must outlive this.
    explicit WebAuth(const config::Config& config);

    // Whether pages may be read without a login.
    bool public_read() const { return m_config.ui.public_read; }
    // Whether the config lets anyone log in at all (a user or the API token).
    bool has_logins() const { return !m_config.ui.users.empty() || !m_config.server.api_token.empty(); }

    // The session a login `token` opens: a ui user's token, or server.api_token (operator "api"). nullopt
    // when it matches none. Compared in constant time.
    std::optional<Session> login(std::string_view token, Clock::time_point now = Clock::now()) const;
    // The Set-Cookie value for `s`; Secure when server.public_url is https.
    std::string set_cookie(const Session& s) const;
    // A Set-Cookie value that removes the session cookie.
    std::string clear_cookie() const;
    // The valid, unexpired session in a Cookie header; nullopt otherwise.
    std::optional<Session> session(std::string_view cookie_header, Clock::time_point now = Clock::now()) const;

    // The CSRF token of a session: what its forms carry.
    std::string csrf_token(const Session& s) const;
    bool check_csrf(const Session& s, std::string_view token) const;
    // The login form's token: valid for an hour from `now`.
    std::string login_csrf(Clock::time_point now = Clock::now()) const;
    bool check_login_csrf(std::string_view token, Clock::time_point now = Clock::now()) const;

private:
    std::string sign(std::string_view purpose, std::string_view data) const;

    const config::Config& m_config;
    std::string m_key;
};

// The value of `name` in a form body (application/x-www-form-urlencoded) or a query string; "" when absent.
std::string form_value(std::string_view body, std::string_view name);

}  // namespace hookyard::api
