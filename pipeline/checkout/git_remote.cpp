#include "pipeline/checkout/git_remote.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "pipeline/cancel.hpp"
#include "pipeline/checkout/stall_watchdog.hpp"
#include "util/log.hpp"

namespace hookyard::pipeline {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

bool contains(std::string_view haystack, std::string_view needle) {
    return lower(haystack).find(needle) != std::string::npos;
}

int default_port(std::string_view scheme) {
    if (scheme == "https") return 443;
    if (scheme == "http") return 80;
    if (scheme == "ssh") return 22;
    if (scheme == "git") return 9418;
    return 0;
}

std::string base64_decode(std::string_view in) {
    std::string out(in.size() / 4 * 3 + 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
    if (n < 0) return {};
    std::size_t len = static_cast<std::size_t>(n);
    // EVP_DecodeBlock counts padding bytes as output; drop them.
    for (std::size_t i = in.size(); i > 0 && in[i - 1] == '=' && len > 0; --i) --len;
    out.resize(len);
    return out;
}

// One host pattern of a known_hosts line against "host" or "[host]:port" as OpenSSH writes it.
bool host_pattern_matches(std::string_view pattern, const std::string& written) {
    if (pattern.rfind("|1|", 0) == 0) {
        const auto sep = pattern.find('|', 3);
        if (sep == std::string_view::npos) return false;
        const std::string salt = base64_decode(pattern.substr(3, sep - 3));
        const std::string want = base64_decode(pattern.substr(sep + 1));
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int mac_len = 0;
        if (HMAC(EVP_sha1(), salt.data(), static_cast<int>(salt.size()),
                 reinterpret_cast<const unsigned char*>(written.data()), written.size(), mac, &mac_len) == nullptr) {
            return false;
        }
        return want == std::string(reinterpret_cast<const char*>(mac), mac_len);
    }
    return lower(pattern) == lower(written);
}

void note_progress(RemoteCallState& state) {
    if (state.watchdog != nullptr) state.watchdog->progress();
}

bool canceled(const RemoteCallState& state) { return state.cancel != nullptr && state.cancel->canceled(); }

// Non-zero makes libgit2 abort the transfer.
int transfer_progress_cb(const git_indexer_progress* /*stats*/, void* payload) {
    auto& state = *static_cast<RemoteCallState*>(payload);
    note_progress(state);
    return canceled(state) ? GIT_EUSER : 0;
}

int sideband_cb(const char* /*text*/, int /*len*/, void* payload) {
    auto& state = *static_cast<RemoteCallState*>(payload);
    note_progress(state);
    return canceled(state) ? GIT_EUSER : 0;
}

int credentials_cb(git_credential** out, const char* /*url*/, const char* username_from_url, unsigned int allowed_types,
                   void* payload) {
    auto& state = *static_cast<RemoteCallState*>(payload);
    note_progress(state);
    const GitAuth& auth = *state.auth;
    // A second request on one connection means the server turned down what we sent: stop rather than
    // loop, and remember why so the error can say so.
    if (++state.credential_calls > 1) {
        state.auth_refused = true;
        return GIT_EUSER;
    }
    if ((allowed_types & GIT_CREDENTIAL_USERPASS_PLAINTEXT) != 0) {
        if (!auth.token.empty())
            return git_credential_userpass_plaintext_new(out, "x-access-token", auth.token.c_str());
        if (!auth.password.empty() || !auth.username.empty()) {
            return git_credential_userpass_plaintext_new(out, auth.username.c_str(), auth.password.c_str());
        }
    }
    const char* user = username_from_url != nullptr && *username_from_url != '\0'
                           ? username_from_url
                           : (auth.username.empty() ? "git" : auth.username.c_str());
    if ((allowed_types & GIT_CREDENTIAL_SSH_KEY) != 0 && !auth.ssh_key_file.empty()) {
        return git_credential_ssh_key_new(out, user, nullptr, auth.ssh_key_file.c_str(), nullptr);
    }
    if ((allowed_types & GIT_CREDENTIAL_USERNAME) != 0) return git_credential_username_new(out, user);
    state.auth_missing = true;
    return GIT_EUSER;
}

int certificate_cb(git_cert* cert, int valid, const char* host, void* payload) {
    auto& state = *static_cast<RemoteCallState*>(payload);
    if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2) return GIT_PASSTHROUGH;  // TLS: libgit2's own checks
    (void)valid;
    const auto* hostkey = reinterpret_cast<const git_cert_hostkey*>(cert);
    std::string file = state.auth->ssh_known_hosts_file;
    if (file.empty()) {
        const char* home = std::getenv("HOME");
        file = std::string(home != nullptr ? home : "") + "/.ssh/known_hosts";
    }
    std::ifstream in(file);
    if (!in) {
        state.host_key_error = "cannot verify the ssh host key of " + std::string(host) + ": known_hosts file '" +
                               file + "' cannot be read; set git.ssh_known_hosts_file";
        return GIT_ECERTIFICATE;
    }
    if ((hostkey->type & GIT_CERT_SSH_RAW) == 0) {
        state.host_key_error = "the ssh server " + std::string(host) + " did not present a raw host key to verify";
        return GIT_ECERTIFICATE;
    }
    std::stringstream content;
    content << in.rdbuf();
    const std::string_view key(hostkey->hostkey, hostkey->hostkey_len);
    if (!known_hosts_accepts(content.str(), host, state.url.port, key)) {
        state.host_key_error = "the ssh host key of " + std::string(host) + " is not listed in " + file +
                               "; add it (ssh-keyscan) after checking its fingerprint";
        return GIT_ECERTIFICATE;
    }
    return 0;
}

}  // namespace

UrlParts parse_clone_url(std::string_view url) {
    UrlParts parts;
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) {
        // scp-like "user@host:path" (a colon before any slash), else a local path.
        const auto colon = url.find(':');
        const auto slash = url.find('/');
        if (colon != std::string_view::npos && (slash == std::string_view::npos || colon < slash) && colon > 1) {
            std::string_view host = url.substr(0, colon);
            if (const auto at = host.rfind('@'); at != std::string_view::npos) host = host.substr(at + 1);
            return {"ssh", std::string(host), 22};
        }
        return {"file", "", 0};
    }
    parts.scheme = lower(url.substr(0, scheme_end));
    if (parts.scheme == "git+ssh" || parts.scheme == "ssh+git") parts.scheme = "ssh";
    std::string_view rest = url.substr(scheme_end + 3);
    // The authority ends at the first '/', '?' or '#', as libgit2 reads it: in https://evil?@github.com/x the
    // host is evil, not github.com.
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
    parts.port = default_port(parts.scheme);
    if (const auto colon = rest.rfind(':');
        colon != std::string_view::npos && rest.find(']', colon) == std::string_view::npos) {
        parts.port = std::atoi(std::string(rest.substr(colon + 1)).c_str());
        rest = rest.substr(0, colon);
    }
    if (rest.size() > 1 && rest.front() == '[' && rest.back() == ']') rest = rest.substr(1, rest.size() - 2);
    parts.host = std::string(rest);
    return parts;
}

util::ErrorKind classify_git_error(int rc, int klass, std::string_view message) {
    using util::ErrorKind;
    if (rc == GIT_EAUTH || rc == GIT_ECERTIFICATE) return ErrorKind::auth;
    if (contains(message, "401") || contains(message, "403") || contains(message, "authentication required") ||
        contains(message, "failed to authenticate") || contains(message, "authentication failed")) {
        return ErrorKind::auth;
    }
    if (contains(message, "404") || contains(message, "not found") || contains(message, "not exported") ||
        contains(message, "does not appear to be a git repository") || contains(message, "could not find repository") ||
        contains(message, "no such file or directory") || contains(message, "failed to resolve path")) {
        return ErrorKind::not_found;
    }
    if (contains(message, "timed out") || contains(message, "timeout")) return ErrorKind::timeout;
    if (klass == GIT_ERROR_NET || klass == GIT_ERROR_OS || klass == GIT_ERROR_SSL || klass == GIT_ERROR_SSH ||
        contains(message, "failed to connect") || contains(message, "connection refused") ||
        contains(message, "early eof") || contains(message, "unexpected eof") ||
        contains(message, "unexpected http status code: 5") || contains(message, "failed to resolve address") ||
        contains(message, "connection reset") || contains(message, "broken pipe")) {
        return ErrorKind::transient;
    }
    if (rc == GIT_ENOTFOUND) return ErrorKind::not_found;
    return ErrorKind::internal;
}

bool known_hosts_accepts(std::string_view known_hosts, const std::string& host, int port, std::string_view key) {
    const std::string written = (port == 0 || port == 22) ? host : "[" + host + "]:" + std::to_string(port);
    std::istringstream lines{std::string(known_hosts)};
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string hosts, type, blob;
        if (!(fields >> hosts) || hosts.empty() || hosts[0] == '#' || hosts[0] == '@') continue;
        if (!(fields >> type >> blob)) continue;
        bool host_ok = false;
        std::istringstream patterns(hosts);
        for (std::string p; std::getline(patterns, p, ',');) host_ok = host_ok || host_pattern_matches(p, written);
        if (host_ok && base64_decode(blob) == key) return true;
    }
    return false;
}

void set_remote_callbacks(git_remote_callbacks& callbacks, RemoteCallState& state) {
    callbacks.credentials = credentials_cb;
    callbacks.certificate_check = certificate_cb;
    callbacks.transfer_progress = transfer_progress_cb;
    callbacks.sideband_progress = sideband_cb;
    callbacks.payload = &state;
}

util::Error git_failure(int rc, std::string_view action, std::string_view url, const RemoteCallState& state) {
    const git_error* e = git_error_last();
    const std::string raw = e != nullptr && e->message != nullptr ? e->message : "unknown libgit2 error";
    const int klass = e != nullptr ? e->klass : 0;
    const std::string where = util::redact_url(url);
    const std::string host = state.url.host.empty() ? where : state.url.host;
    const std::string name = state.auth != nullptr ? state.auth->credential_name : "git (none)";
    auto scrub = [&](std::string text) {
        return util::redact(state.auth != nullptr ? state.auth->scrub(std::move(text)) : std::move(text));
    };
    if (canceled(state)) {
        return util::make_error(util::ErrorKind::canceled, std::string(action) + " " + where + " canceled");
    }
    if (state.watchdog != nullptr && state.watchdog->fired()) {
        const auto ms = state.watchdog->limit().count();
        const std::string limit = ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
        return util::make_error(util::ErrorKind::timeout,
                                scrub(std::string(action) + " " + where + " timed out: no data from " + host + " for " +
                                      limit + " (" + raw + ")"));
    }
    if (!state.host_key_error.empty()) return util::make_error(util::ErrorKind::auth, scrub(state.host_key_error));
    if (state.auth_refused) {
        return util::make_error(util::ErrorKind::auth, "credentials " + name + " were refused by " + host + " while " +
                                                           std::string(action) + " " + where +
                                                           "; check that this credential has access to the repository");
    }
    if (state.auth_missing) {
        return util::make_error(util::ErrorKind::auth, host + " requires authentication for " + where +
                                                           " and no usable git credentials are configured (" + name +
                                                           "); set git.token (https) or git.ssh_key_file (ssh)");
    }
    if (rc == GIT_ECERTIFICATE || klass == GIT_ERROR_SSL) {
        return util::make_error(
            util::ErrorKind::auth,
            scrub("the TLS certificate of " + host + " is not trusted while " + std::string(action) + " " + where +
                  " (" + raw + "); fix the server's certificate or add its CA to the system store"));
    }
    const util::ErrorKind kind = classify_git_error(rc, klass, raw);
    std::string message = std::string(action) + " " + where + " failed: " + raw;
    if (kind == util::ErrorKind::auth) message = "credentials " + name + " were refused by " + host + ": " + raw;
    if (kind == util::ErrorKind::not_found) message += " (check the repository's clone_url)";
    return util::make_error(kind, scrub(message));
}

util::Error git_local_failure(int rc, std::string_view action) {
    const git_error* e = git_error_last();
    const std::string raw = e != nullptr && e->message != nullptr ? e->message : "unknown libgit2 error";
    const auto kind = rc == GIT_ENOTFOUND ? util::ErrorKind::not_found : util::ErrorKind::internal;
    return util::make_error(kind, util::redact(std::string(action) + " failed: " + raw));
}

}  // namespace hookyard::pipeline
