#include "pipeline/registry/auth.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pipeline/registry/errors.hpp"

namespace hookyard::pipeline {
namespace {

using util::ErrorKind;
using util::make_error;

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Minimum lifetime the token service may claim; the spec's default when expires_in is absent.
constexpr std::chrono::seconds k_default_token_lifetime{60};
// Tokens are refreshed this long before they expire, so one never expires mid-request.
constexpr std::chrono::seconds k_token_margin{10};

}  // namespace

util::Result<std::optional<Credentials>> read_docker_config(const std::string& path, std::string_view registry_host) {
    std::ifstream in(path);
    if (!in) return make_error(ErrorKind::invalid_input, "cannot read credentials file " + path);
    std::stringstream text;
    text << in.rdbuf();
    const auto j = nlohmann::json::parse(text.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return make_error(ErrorKind::invalid_input, "credentials file " + path +
                                                        " is not JSON (expected docker "
                                                        "config.json with \"auths\")");
    }
    if (!j.contains("auths") || !j["auths"].is_object()) return std::optional<Credentials>{};
    const std::string host(registry_host);
    const bool hub = host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io";
    for (const auto& [key, entry] : j["auths"].items()) {
        std::string k = key;
        for (std::string_view scheme : {"https://", "http://"}) {
            if (k.rfind(scheme, 0) == 0) k = k.substr(scheme.size());
        }
        if (const auto slash = k.find('/'); slash != std::string::npos) k = k.substr(0, slash);
        const bool key_hub = k == "docker.io" || k == "index.docker.io" || k == "registry-1.docker.io";
        if (!(k == host || (hub && key_hub)) || !entry.is_object()) continue;
        Credentials c;
        if (entry.contains("auth") && entry["auth"].is_string() && !entry["auth"].get<std::string>().empty()) {
            const auto decoded = http::base64_decode(entry["auth"].get<std::string>());
            const auto colon = decoded ? decoded->find(':') : std::string::npos;
            if (colon == std::string::npos) {
                return make_error(ErrorKind::invalid_input, "credentials file " + path + ": the \"auth\" entry for " +
                                                                key + " is not base64(user:password)");
            }
            c.username = decoded->substr(0, colon);
            c.password = decoded->substr(colon + 1);
        } else {
            if (entry.contains("username") && entry["username"].is_string()) c.username = entry["username"];
            if (entry.contains("password") && entry["password"].is_string()) c.password = entry["password"];
        }
        if (!c.empty()) return std::optional<Credentials>(std::move(c));
    }
    return std::optional<Credentials>{};
}

std::optional<Challenge> parse_challenge(std::string_view header) {
    std::size_t i = 0;
    while (i < header.size() && header[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < header.size() && header[i] != ' ') ++i;
    Challenge c;
    c.scheme = lower(header.substr(start, i - start));
    if (c.scheme != "basic" && c.scheme != "bearer") return std::nullopt;
    while (i < header.size()) {
        while (i < header.size() && (header[i] == ' ' || header[i] == ',')) ++i;
        const std::size_t key_start = i;
        while (i < header.size() && header[i] != '=') ++i;
        if (i >= header.size()) break;
        const std::string key = lower(header.substr(key_start, i - key_start));
        ++i;
        std::string value;
        if (i < header.size() && header[i] == '"') {
            ++i;
            while (i < header.size() && header[i] != '"') {
                if (header[i] == '\\' && i + 1 < header.size()) ++i;
                value += header[i++];
            }
            ++i;
        } else {
            while (i < header.size() && header[i] != ',') value += header[i++];
        }
        c.params[key] = value;
    }
    return c;
}

Authenticator::Authenticator(http::Client& client, std::string registry, Credentials credentials)
    : m_client(client), m_registry(std::move(registry)), m_credentials(std::move(credentials)) {}

bool Authenticator::on_unauthorized(const http::Response& response, const std::string& scope) {
    auto challenge = parse_challenge(response.header("WWW-Authenticate"));
    std::lock_guard lock(m_mutex);
    m_tokens.erase(scope);
    if (!challenge) return false;
    m_challenge = std::move(challenge);
    return true;
}

util::Result<std::string> Authenticator::authorization(const std::string& scope) {
    std::optional<Challenge> challenge;
    {
        std::lock_guard lock(m_mutex);
        if (!m_challenge) return std::string();
        if (m_challenge->scheme == "basic") {
            if (m_credentials.empty()) return std::string();
            return http::basic_authorization(m_credentials.username, m_credentials.password);
        }
        const auto it = m_tokens.find(scope);
        if (it != m_tokens.end() && std::chrono::steady_clock::now() < it->second.expires) {
            return "Bearer " + it->second.token;
        }
        challenge = m_challenge;
    }
    // Fetched outside the lock: parallel uploads for the same scope may fetch twice, which is harmless.
    return fetch_token(*challenge, scope);
}

util::Result<std::string> Authenticator::fetch_token(const Challenge& challenge, const std::string& scope) {
    const auto realm_it = challenge.params.find("realm");
    if (realm_it == challenge.params.end()) {
        return make_error(ErrorKind::invalid_input, m_registry + " asked for a bearer token without a realm");
    }
    auto parsed = boost::urls::parse_absolute_uri(realm_it->second);
    if (!parsed) {
        return make_error(ErrorKind::invalid_input,
                          m_registry + " named an invalid token realm '" + realm_it->second + "'");
    }
    boost::urls::url url(*parsed);
    if (const auto s = challenge.params.find("service"); s != challenge.params.end()) {
        url.params().append({"service", s->second});
    }
    // A scope list is space separated; the token service takes each as its own parameter.
    std::istringstream scopes(scope);
    for (std::string one; scopes >> one;) url.params().append({"scope", one});
    if (!m_credentials.empty()) url.params().append({"account", m_credentials.username});

    http::Request request;
    request.url = std::string(url.buffer());
    if (!m_credentials.empty()) {
        request.headers.emplace_back("Authorization",
                                     http::basic_authorization(m_credentials.username, m_credentials.password));
    }
    auto response = m_client.request(request);
    if (!response) return response.error();
    if (response->status != 200) {
        ErrorContext context{m_registry, "", "", m_credentials.empty()};
        if (response->status == 401 || response->status == 403) {
            return make_error(ErrorKind::auth, "credentials for " + m_registry + " were refused by its token service" +
                                                   " (HTTP " + std::to_string(response->status) +
                                                   "); check the username and password or token");
        }
        return response_error(*response, "requesting a token", context);
    }
    const auto j = nlohmann::json::parse(response->body, nullptr, false);
    std::string token;
    if (!j.is_discarded() && j.is_object()) {
        if (j.contains("token") && j["token"].is_string()) token = j["token"];
        if (token.empty() && j.contains("access_token") && j["access_token"].is_string()) token = j["access_token"];
    }
    if (token.empty()) {
        return make_error(ErrorKind::transient, "the token service of " + m_registry + " answered without a token");
    }
    auto lifetime = k_default_token_lifetime;
    if (j.contains("expires_in") && j["expires_in"].is_number_integer()) {
        lifetime = std::max(k_default_token_lifetime, std::chrono::seconds(j["expires_in"].get<long>()));
    }
    {
        std::lock_guard lock(m_mutex);
        m_tokens[scope] = CachedToken{token, std::chrono::steady_clock::now() + lifetime - k_token_margin};
    }
    return "Bearer " + token;
}

}  // namespace hookyard::pipeline
