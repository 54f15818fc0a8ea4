#pragma once
// Talking to a git server with libgit2: the credential and host-key callbacks, and turning a failed
// libgit2 call into a util::Error of the right kind. Internal to pipeline/checkout, plus the pure
// helpers (URL parts, error classification, known_hosts matching) that unit tests exercise directly.

#include <git2.h>

#include <string>
#include <string_view>

#include "pipeline/checkout/git_auth.hpp"
#include "util/result.hpp"

namespace hookyard::pipeline {

// Host and port of a clone URL (https://, http://, ssh://, git://, scp-like user@host:path); empty host
// for file:// and plain paths. Port is the scheme's default when the URL names none. The authority ends at
// the first '/', '?' or '#' (RFC 3986, and libgit2's parser), so "https://a?@b/x" is host a. Pure.
struct UrlParts {
    std::string scheme;  // "https", "http", "ssh", "git", "file" ("ssh" for scp-like, "file" for paths)
    std::string host;
    int port = 0;
};
UrlParts parse_clone_url(std::string_view url);

// Classifies a libgit2 failure (return code, git_error klass, message) into an ErrorKind:
// auth for refused/missing credentials, not_found for a missing repository, transient for connection
// trouble and 5xx answers, internal otherwise. Pure.
util::ErrorKind classify_git_error(int rc, int klass, std::string_view message);

// True when `known_hosts` (OpenSSH format: plain, [host]:port and hashed |1| entries) lists `host` at
// `port` with exactly the key blob `key` (raw bytes, as libgit2 reports it). Pure.
bool known_hosts_accepts(std::string_view known_hosts, const std::string& host, int port, std::string_view key);

class StallWatchdog;
class CancelToken;

// What the callbacks saw during one connection; read after a failure to explain it.
struct RemoteCallState {
    const GitAuth* auth = nullptr;
    StallWatchdog* watchdog = nullptr;    // told about every sign of progress; fired() = timeout
    const CancelToken* cancel = nullptr;  // canceled: the callbacks stop libgit2, the failure is `canceled`
    UrlParts url;
    int credential_calls = 0;
    bool auth_missing = false;  // the server asked for credentials and none are configured
    bool auth_refused = false;  // the server asked again after we sent ours: they were refused
    std::string host_key_error;
};

// Points `callbacks` at the credential, certificate and progress callbacks, with `state` as payload. `state` must
// outlive every libgit2 call that uses the callbacks.
void set_remote_callbacks(git_remote_callbacks& callbacks, RemoteCallState& state);

// The error for a failed libgit2 call `rc` made while doing `action` against `url` (redacted in the
// message; secrets of `state.auth` scrubbed). Reads git_error_last(); call right after the failure.
util::Error git_failure(int rc, std::string_view action, std::string_view url, const RemoteCallState& state);

// The error for a failed local libgit2 call (no network involved). Reads git_error_last().
util::Error git_local_failure(int rc, std::string_view action);

}  // namespace hookyard::pipeline
