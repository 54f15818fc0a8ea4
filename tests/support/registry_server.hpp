#pragma once
// A real docker-registry (CNCF distribution 2.8, Debian's /usr/bin/docker-registry) on 127.0.0.1 for
// tests: anonymous, htpasswd basic auth, or token auth against a JWT issuer started alongside
// (tests/support/token_issuer.py); plain HTTP or TLS with a CA made by the test with the openssl CLI.
// Storage and logs live in the server's own temporary directory.

#include <memory>
#include <string>
#include <vector>

#include "tests/support/support.hpp"

namespace hookyard::test {

struct RegistryServerOptions {
    enum class Auth { none, htpasswd, token };
    Auth auth = Auth::none;
    bool tls = false;
    std::string username = "hookyard";
    std::string password = "pa55-w0rd";
    // Token auth: repositories under this prefix get only pull access (so pushes there are denied).
    std::string read_only_prefix = "readonly/";
};

class RegistryServer {
public:
    // Starts the registry (and the token issuer) on free ports and waits until /v2/ answers. Throws
    // std::runtime_error with the server log when it does not come up within 20 s.
    explicit RegistryServer(RegistryServerOptions options = {});
    ~RegistryServer();
    RegistryServer(const RegistryServer&) = delete;
    RegistryServer& operator=(const RegistryServer&) = delete;

    int port() const { return m_port; }
    // "127.0.0.1:PORT", the registry host in image references.
    std::string host() const;
    // "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT".
    std::string url() const;
    const std::string& username() const { return m_options.username; }
    const std::string& password() const { return m_options.password; }
    // PEM CA certificate that signed the server certificate; "" without TLS.
    std::string ca_file() const;
    // Directory holding ca.crt, for `skopeo --cert-dir`; "" without TLS.
    std::string cert_dir() const;
    std::string storage_dir() const;
    // skopeo options reaching this registry as source or destination prefix `--src`/`--dest` ("" for
    // inspect), e.g. {"--dest-tls-verify=false", "--dest-creds", "u:p"}.
    std::vector<std::string> skopeo_options(const std::string& prefix) const;
    // Requests served so far, from the access log, as "METHOD /path?query".
    std::vector<std::string> requests() const;
    // The Bearer challenge the registry sends (token auth only), e.g. for a proxy that fakes an expiry.
    std::string token_challenge() const;
    // Tokens issued by the token issuer so far (token auth only).
    int tokens_issued() const;
    std::string log() const;

private:
    void make_tls_material();
    void start_token_issuer();

    RegistryServerOptions m_options;
    TempDir m_dir;
    int m_port = 0;
    int m_token_port = 0;
    std::unique_ptr<Process> m_issuer;
    std::unique_ptr<Process> m_registry;
};

}  // namespace hookyard::test
