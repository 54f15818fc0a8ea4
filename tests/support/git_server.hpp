#pragma once
// Real git servers on 127.0.0.1 for tests: `git daemon` (git://), smart HTTP through `git http-backend`
// behind a small CGI host with optional basic auth, and a source repository to commit and push to.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/support.hpp"

namespace hookyard::test {

// Runs `git args...` in `cwd` with a fixed identity and no user config; records a test failure (with
// git's output) when it exits non-zero. Returns stdout+stderr, trailing newline removed.
std::string git(const std::vector<std::string>& args, const std::string& cwd = "");

// `git daemon` serving every repository under `base_dir` (fetch and push) on a free loopback port.
// Ready when constructed; killed on destruction.
class GitDaemon {
public:
    explicit GitDaemon(const std::string& base_dir);
    // git://127.0.0.1:<port>/<repo>, e.g. url("app.git").
    std::string url(const std::string& repo) const;
    int port() const { return m_port; }

private:
    int m_port = 0;
    std::unique_ptr<Process> m_process;
};

// Smart HTTP: `git http-backend` (GIT_PROJECT_ROOT=project_root, GIT_HTTP_EXPORT_ALL) behind a threaded
// python3 CGI host. With a non-empty `username`, every request without exactly those basic-auth
// credentials gets 401 + `WWW-Authenticate: Basic`. With `tls`, serves https with a fresh self-signed
// certificate (which nothing trusts). Ready when constructed; killed on destruction.
class GitHttpServer {
public:
    GitHttpServer(const std::string& project_root, const std::string& scratch_dir, const std::string& username = "",
                  const std::string& password = "", bool tls = false);
    // http(s)://127.0.0.1:<port>/<repo>
    std::string url(const std::string& repo) const;
    int port() const { return m_port; }
    // Requests answered 401 so far (read from the server log).
    int unauthorized_count() const;
    // Answers the next `requests` requests with 503 Service Unavailable.
    void fail_next(int requests);

private:
    int m_port = 0;
    bool m_tls = false;
    std::string m_fail_file;
    std::unique_ptr<Process> m_process;
};

// sshd on a free loopback port (own config, host key and authorized_keys under `dir`), accepting the
// key `client_key()` for the current user; git over ssh runs git-upload-pack from PATH. Ready when
// constructed; killed on destruction.
class SshGitServer {
public:
    explicit SshGitServer(const std::string& dir);
    // ssh://<user>@127.0.0.1:<port><absolute_repo_path>
    std::string url(const std::string& absolute_repo_path) const;
    int port() const { return m_port; }
    // The private key sshd accepts, and a known_hosts file listing this server's host key.
    const std::string& client_key() const { return m_client_key; }
    const std::string& known_hosts() const { return m_known_hosts; }

private:
    int m_port = 0;
    std::string m_user;
    std::string m_client_key;
    std::string m_known_hosts;
    std::unique_ptr<Process> m_process;
};

// A bare repository `<base_dir>/<name>.git` (default branch main) with a work clone beside it to make
// commits in and push from.
class SourceRepo {
public:
    SourceRepo(const std::string& base_dir, const std::string& name);
    const std::string& bare() const { return m_bare; }
    const std::string& work() const { return m_work; }
    // Writes `files` (path → content) in the work clone, commits them, returns the new commit's sha.
    std::string commit(const std::map<std::string, std::string>& files, const std::string& message);
    // Pushes HEAD to `branch` on the bare repository (with --force when asked).
    void push(const std::string& branch = "main", bool force = false);
    // Moves the work clone's HEAD to `rev` (git reset --hard).
    void reset_hard(const std::string& rev);
    // Creates annotated tag `name` at HEAD and pushes it.
    void push_tag(const std::string& name);
    // Records `sub_url` at commit `sha` as submodule `path` (gitlink + .gitmodules) and commits.
    std::string add_submodule(const std::string& path, const std::string& sub_url, const std::string& sha);

private:
    std::string m_bare;
    std::string m_work;
};

}  // namespace hookyard::test
