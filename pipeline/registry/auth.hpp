#pragma once
// Registry authentication: credentials from the config or a docker config.json, the WWW-Authenticate
// challenge (Basic or Bearer realm/service/scope), and bearer tokens cached until they expire.

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "http/client.hpp"
#include "util/result.hpp"

namespace hookyard::pipeline {

struct Credentials {
    std::string username;
    std::string password;  // secret: never logged
    bool empty() const { return username.empty() && password.empty(); }
};

// Reads the credentials for `registry_host` from a docker config.json ({"auths":{host:{"auth":
// base64(user:pass)}}} or username/password fields). Keys match as "host", "https://host", "http://host"
// or with a "/v1/" suffix (Docker Hub's "https://index.docker.io/v1/" serves docker.io). Returns nullopt
// when the file has no entry for the host; invalid_input when the file is unreadable or malformed.
util::Result<std::optional<Credentials>> read_docker_config(const std::string& path, std::string_view registry_host);

// A parsed WWW-Authenticate challenge.
struct Challenge {
    std::string scheme;                         // "basic" or "bearer" (lower case)
    std::map<std::string, std::string> params;  // realm, service, scope, error …
};

// Parses `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`; nullopt when unparseable.
std::optional<Challenge> parse_challenge(std::string_view header);

// Produces Authorization header values for one registry. Thread-safe; tokens are cached per scope until
// shortly before they expire.
class Authenticator {
public:
    Authenticator(http::Client& client, std::string registry, Credentials credentials);

    // The Authorization value to send for `scope`: "" before any challenge (anonymous) or when the
    // challenge is Basic and no credentials exist; fetches a token when a Bearer challenge is known and no
    // valid token is cached. Errors: auth when the token service refuses the credentials, transient/timeout
    // when it cannot be reached.
    util::Result<std::string> authorization(const std::string& scope);

    // Records the challenge of a 401 response and drops the cached token for `scope`, so the next
    // authorization() starts over. Returns false when the response carried no usable challenge.
    bool on_unauthorized(const http::Response& response, const std::string& scope);

    bool anonymous() const { return m_credentials.empty(); }

private:
    util::Result<std::string> fetch_token(const Challenge& challenge, const std::string& scope);

    struct CachedToken {
        std::string token;
        std::chrono::steady_clock::time_point expires;
    };
    http::Client& m_client;
    const std::string m_registry;
    const Credentials m_credentials;
    std::mutex m_mutex;
    std::optional<Challenge> m_challenge;
    std::map<std::string, CachedToken> m_tokens;
};

}  // namespace hookyard::pipeline
