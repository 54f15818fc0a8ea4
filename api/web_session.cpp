#include "api/web_session.hpp"

#include <boost/url/parse_query.hpp>
#include <charconv>
#include <random>
#include <vector>

#include "util/signature.hpp"
#include "util/split.hpp"

namespace hookyard::api {
namespace {

constexpr std::string_view k_cookie = "hy_session";
constexpr std::int64_t k_login_form_seconds = 3600;

std::int64_t unix_seconds(WebAuth::Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string to_hex(std::string_view text) {
    static constexpr char k_hex[] = "0123456789abcdef";
    std::string out;
    for (const char ch : text) {
        out += k_hex[static_cast<unsigned char>(ch) >> 4];
        out += k_hex[static_cast<unsigned char>(ch) & 15];
    }
    return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
    if (hex.size() % 2 != 0) return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        unsigned v = 0;
        auto [p, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, v, 16);
        if (ec != std::errc() || p != hex.data() + i + 2) return std::nullopt;
        out += static_cast<char>(v);
    }
    return out;
}

std::optional<std::int64_t> to_int(std::string_view text) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
    return v;
}

std::string random_key() {
    std::random_device rd;
    std::string out;
    for (int i = 0; i < 8; ++i) out += std::to_string(rd());
    return out;
}

}  // namespace

WebAuth::WebAuth(const config::Config& config) : m_config(config) {
    const std::string& secret = !config.ui.session_secret.empty()       ? config.ui.session_secret
                                : !config.server.webhook_secret.empty() ? config.server.webhook_secret
                                                                        : config.server.api_token;
    // A derived key, so the configured secret itself never signs anything a browser holds.
    m_key = util::hmac_sha256_hex(secret.empty() ? random_key() : secret, "hookyard ui session key v1");
}

std::string WebAuth::sign(std::string_view purpose, std::string_view data) const {
    return util::hmac_sha256_hex(m_key, std::string(purpose) + "|" + std::string(data));
}

std::optional<Session> WebAuth::login(std::string_view token, Clock::time_point now) const {
    if (token.empty()) return std::nullopt;
    std::optional<Session> found;
    // Every entry is compared, matched or not, so the time taken says nothing about which one matched.
    for (const auto& u : m_config.ui.users) {
        if (util::constant_time_equal(token, u.token)) {
            found = Session{u.name, u.role == config::UiRole::operator_role, 0, ""};
        }
    }
    if (!m_config.server.api_token.empty() && util::constant_time_equal(token, m_config.server.api_token)) {
        found = Session{"api", true, 0, ""};
    }
    if (!found) return std::nullopt;
    found->expires_at = unix_seconds(now) + m_config.ui.session_ttl.count();
    const std::string payload =
        to_hex(found->name) + "." + (found->operator_role ? "o" : "v") + "." + std::to_string(found->expires_at);
    found->cookie_value = payload + "." + sign("session", payload);
    return found;
}

std::string WebAuth::set_cookie(const Session& s) const {
    const bool https = m_config.server.public_url.rfind("https://", 0) == 0;
    return std::string(k_cookie) + "=" + s.cookie_value +
           "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(m_config.ui.session_ttl.count()) +
           (https ? "; Secure" : "");
}

std::string WebAuth::clear_cookie() const {
    const bool https = m_config.server.public_url.rfind("https://", 0) == 0;
    return std::string(k_cookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" + (https ? "; Secure" : "");
}

std::optional<Session> WebAuth::session(std::string_view cookie_header, Clock::time_point now) const {
    std::string_view value;
    for (std::string_view rest = cookie_header; !rest.empty();) {
        const auto semi = rest.find(';');
        std::string_view item = rest.substr(0, semi);
        rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        if (item.size() > k_cookie.size() && item.starts_with(k_cookie) && item[k_cookie.size()] == '=') {
            value = item.substr(k_cookie.size() + 1);
        }
    }
    const auto parts = util::split(value, '.');
    if (parts.size() != 4 || (parts[1] != "o" && parts[1] != "v")) return std::nullopt;
    const auto payload = value.substr(0, value.size() - parts[3].size() - 1);
    if (!util::constant_time_equal(parts[3], sign("session", payload))) return std::nullopt;
    const auto name = from_hex(parts[0]);
    const auto expires = to_int(parts[2]);
    if (!name || !expires || *expires <= unix_seconds(now)) return std::nullopt;
    return Session{*name, parts[1] == "o", *expires, std::string(value)};
}

std::string WebAuth::csrf_token(const Session& s) const { return sign("csrf", s.cookie_value); }

bool WebAuth::check_csrf(const Session& s, std::string_view token) const {
    return !token.empty() && util::constant_time_equal(token, csrf_token(s));
}

std::string WebAuth::login_csrf(Clock::time_point now) const {
    const std::string expiry = std::to_string(unix_seconds(now) + k_login_form_seconds);
    return expiry + "." + sign("login", expiry);
}

bool WebAuth::check_login_csrf(std::string_view token, Clock::time_point now) const {
    const auto parts = util::split(token, '.');
    if (parts.size() != 2) return false;
    const auto expiry = to_int(parts[0]);
    return expiry && *expiry > unix_seconds(now) && util::constant_time_equal(parts[1], sign("login", parts[0]));
}

std::string form_value(std::string_view body, std::string_view name) {
    auto query = boost::urls::parse_query(body);
    if (!query) return "";
    boost::urls::encoding_opts form;
    form.space_as_plus = true;
    for (const auto& param : *query) {
        if (param.key.decode(form) == name) return param.has_value ? param.value.decode(form) : "";
    }
    return "";
}

}  // namespace hookyard::api
