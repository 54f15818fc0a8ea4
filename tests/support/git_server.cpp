#include "tests/support/git_server.hpp"

#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

namespace hookyard::test {

namespace {

// A fixed identity and no global/system config, so tests behave the same on every machine.
const std::map<std::string, std::string>& git_env() {
    static const std::map<std::string, std::string> env = {
        {"GIT_AUTHOR_NAME", "Hookyard Test"},
        {"GIT_AUTHOR_EMAIL", "test@hookyard.invalid"},
        {"GIT_COMMITTER_NAME", "Hookyard Test"},
        {"GIT_COMMITTER_EMAIL", "test@hookyard.invalid"},
        {"GIT_CONFIG_NOSYSTEM", "1"},
        {"GIT_CONFIG_GLOBAL", "/dev/null"},
        {"GIT_TERMINAL_PROMPT", "0"},
    };
    return env;
}

// The CGI host: one thread per request, git http-backend per request, real basic-auth check.
constexpr const char* k_cgi_host = R"PY(
import base64, os, subprocess, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, root, user, password, fail_file = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
expected = ('Basic ' + base64.b64encode(f'{user}:{password}'.encode()).decode()) if user else None

class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def read_body(self):
        if self.headers.get('Transfer-Encoding', '').lower() == 'chunked':
            data = b''
            while True:
                size = int(self.rfile.readline().strip().split(b';')[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get('Content-Length') or 0))

    def reply(self, code, headers, body):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def fail_now(self):
        # fail_file holds how many more requests to answer 503 (a server having a bad moment).
        try:
            with open(fail_file) as f:
                left = int(f.read().strip() or 0)
        except (OSError, ValueError):
            return False
        if left <= 0:
            return False
        with open(fail_file, 'w') as f:
            f.write(str(left - 1))
        return True

    def handle_git(self):
        body = self.read_body()
        if self.fail_now():
            print('503 unavailable', self.path, flush=True)
            return self.reply(503, [('Content-Type', 'text/plain')], b'try again later\n')
        if expected and self.headers.get('Authorization') != expected:
            print('401 unauthorized', self.path, flush=True)
            return self.reply(401, [('WWW-Authenticate', 'Basic realm="git"'), ('Content-Type', 'text/plain')],
                              b'authentication required\n')
        path, _, query = self.path.partition('?')
        env = dict(os.environ, GIT_PROJECT_ROOT=root, GIT_HTTP_EXPORT_ALL='1', PATH_INFO=path,
                   QUERY_STRING=query, REQUEST_METHOD=self.command, CONTENT_LENGTH=str(len(body)),
                   CONTENT_TYPE=self.headers.get('Content-Type', ''), REMOTE_ADDR='127.0.0.1',
                   REMOTE_USER=user or 'anonymous')
        for name, var in (('Content-Encoding', 'HTTP_CONTENT_ENCODING'), ('Git-Protocol', 'GIT_PROTOCOL')):
            if self.headers.get(name):
                env[var] = self.headers.get(name)
        out = subprocess.run(['git', 'http-backend'], input=body, env=env, capture_output=True).stdout
        sep = b'\r\n\r\n' if b'\r\n\r\n' in out else b'\n\n'
        head, _, payload = out.partition(sep)
        code, headers = 200, []
        for line in head.decode('latin-1').splitlines():
            if ':' not in line:
                continue
            k, v = line.split(':', 1)
            if k.lower() == 'status':
                code = int(v.strip().split()[0])
            else:
                headers.append((k.strip(), v.strip()))
        self.reply(code, headers, payload)

    do_GET = handle_git
    do_POST = handle_git

    def log_message(self, fmt, *args):
        print(fmt % args, flush=True)

ThreadingHTTPServer.daemon_threads = True
server = ThreadingHTTPServer(('127.0.0.1', port), Handler)
if len(sys.argv) > 6:
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[6], sys.argv[7])
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
)PY";

}  // namespace

std::string git(const std::vector<std::string>& args, const std::string& cwd) {
    std::vector<std::string> argv{"git", "-c", "protocol.file.allow=always", "-c", "init.defaultBranch=main"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out;
    const int rc = run(argv, &out, cwd, git_env());
    if (rc != 0) {
        std::ostringstream cmd;
        for (const auto& a : argv) cmd << a << ' ';
        ADD_FAILURE() << cmd.str() << "(in " << cwd << ") exited " << rc << ": " << out;
    }
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

GitDaemon::GitDaemon(const std::string& base_dir) {
    m_port = free_port();
    m_process =
        std::make_unique<Process>(std::vector<std::string>{"git", "daemon", "--export-all", "--base-path=" + base_dir,
                                                           "--port=" + std::to_string(m_port), "--listen=127.0.0.1",
                                                           "--reuseaddr", "--enable=receive-pack", base_dir},
                                  base_dir + "/git-daemon-" + std::to_string(m_port) + ".log", git_env());
    if (!wait_until([&] { return port_open(m_port); }, std::chrono::seconds(10))) {
        ADD_FAILURE() << "git daemon did not start: " << m_process->log();
    }
}

std::string GitDaemon::url(const std::string& repo) const {
    return "git://127.0.0.1:" + std::to_string(m_port) + "/" + repo;
}

GitHttpServer::GitHttpServer(const std::string& project_root, const std::string& scratch_dir,
                             const std::string& username, const std::string& password, bool tls)
    : m_tls(tls) {
    m_port = free_port();
    const std::string script = scratch_dir + "/git_cgi_host.py";
    m_fail_file = scratch_dir + "/git-http-fail-" + std::to_string(m_port);
    write_file(script, k_cgi_host);
    std::vector<std::string> argv{"python3",    "-u",     script,   std::to_string(m_port),
                                  project_root, username, password, m_fail_file};
    if (tls) {
        // A self-signed certificate: no system store trusts it.
        const std::string key = scratch_dir + "/git-http-tls.key", cert = scratch_dir + "/git-http-tls.crt";
        if (run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"}) != 0) {
            ADD_FAILURE() << "openssl could not make a test certificate";
        }
        argv.push_back(cert);
        argv.push_back(key);
    }
    m_process =
        std::make_unique<Process>(argv, scratch_dir + "/git-http-" + std::to_string(m_port) + ".log", git_env());
    if (!wait_until([&] { return port_open(m_port); }, std::chrono::seconds(10))) {
        ADD_FAILURE() << "git http server did not start: " << m_process->log();
    }
}

std::string GitHttpServer::url(const std::string& repo) const {
    return std::string(m_tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(m_port) + "/" + repo;
}

void GitHttpServer::fail_next(int requests) { write_file(m_fail_file, std::to_string(requests)); }

int GitHttpServer::unauthorized_count() const {
    std::istringstream in(m_process->log());
    int count = 0;
    for (std::string line; std::getline(in, line);) count += line.rfind("401 unauthorized", 0) == 0 ? 1 : 0;
    return count;
}

SshGitServer::SshGitServer(const std::string& dir) {
    std::filesystem::create_directories(dir);
    const passwd* pw = getpwuid(getuid());
    m_user = pw != nullptr ? pw->pw_name : "root";
    m_port = free_port();
    m_client_key = dir + "/client_key";
    m_known_hosts = dir + "/known_hosts";
    // ECDSA keys: what every libssh2 build libgit2 links against can verify.
    for (const std::string& key : {dir + "/host_key", m_client_key}) {
        if (run({"ssh-keygen", "-q", "-t", "ecdsa", "-b", "256", "-N", "", "-f", key}) != 0) {
            ADD_FAILURE() << "ssh-keygen failed for " << key;
        }
    }
    write_file(dir + "/authorized_keys", read_file(m_client_key + ".pub"));
    std::istringstream host_pub(read_file(dir + "/host_key.pub"));
    std::string type, blob;
    host_pub >> type >> blob;
    write_file(m_known_hosts, "[127.0.0.1]:" + std::to_string(m_port) + " " + type + " " + blob + "\n");
    write_file(dir + "/sshd_config", "Port " + std::to_string(m_port) + "\nListenAddress 127.0.0.1\nHostKey " + dir +
                                         "/host_key\nAuthorizedKeysFile " + dir + "/authorized_keys\nPidFile " + dir +
                                         "/sshd.pid\n"
                                         "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                                         "PubkeyAuthentication yes\nStrictModes no\nUsePAM no\n"
                                         "PermitRootLogin prohibit-password\n");
    // sshd running as root insists on its privilege-separation directory, which the Debian service
    // would create at boot; creating it is idempotent and harmless.
    if (getuid() == 0) std::filesystem::create_directories("/run/sshd");
    m_process = std::make_unique<Process>(
        std::vector<std::string>{"/usr/sbin/sshd", "-D", "-e", "-f", dir + "/sshd_config"}, dir + "/sshd.log");
    if (!wait_until([&] { return port_open(m_port); }, std::chrono::seconds(10))) {
        ADD_FAILURE() << "sshd did not start: " << m_process->log();
    }
}

std::string SshGitServer::url(const std::string& absolute_repo_path) const {
    return "ssh://" + m_user + "@127.0.0.1:" + std::to_string(m_port) + absolute_repo_path;
}

SourceRepo::SourceRepo(const std::string& base_dir, const std::string& name)
    : m_bare(base_dir + "/" + name + ".git"), m_work(base_dir + "/" + name + ".work") {
    std::filesystem::create_directories(base_dir);
    git({"init", "-q", "--bare", m_bare});
    git({"init", "-q", m_work});
    git({"remote", "add", "origin", m_bare}, m_work);
}

std::string SourceRepo::commit(const std::map<std::string, std::string>& files, const std::string& message) {
    for (const auto& [path, content] : files) {
        std::filesystem::create_directories(std::filesystem::path(m_work + "/" + path).parent_path());
        write_file(m_work + "/" + path, content);
        git({"add", "--", path}, m_work);
    }
    git({"commit", "-q", "--allow-empty", "-m", message}, m_work);
    return git({"rev-parse", "HEAD"}, m_work);
}

void SourceRepo::push(const std::string& branch, bool force) {
    std::vector<std::string> args{"push", "-q", "origin", "HEAD:refs/heads/" + branch};
    if (force) args.push_back("--force");
    git(args, m_work);
}

void SourceRepo::reset_hard(const std::string& rev) { git({"reset", "-q", "--hard", rev}, m_work); }

void SourceRepo::push_tag(const std::string& name) {
    git({"tag", "-a", "-m", "release " + name, name}, m_work);
    git({"push", "-q", "origin", "refs/tags/" + name}, m_work);
}

std::string SourceRepo::add_submodule(const std::string& path, const std::string& sub_url, const std::string& sha) {
    const std::string gitmodules = "[submodule \"" + path + "\"]\n\tpath = " + path + "\n\turl = " + sub_url + "\n";
    write_file(m_work + "/.gitmodules", gitmodules);
    git({"add", ".gitmodules"}, m_work);
    git({"update-index", "--add", "--cacheinfo", "160000," + sha + "," + path}, m_work);
    git({"commit", "-q", "-m", "add submodule " + path}, m_work);
    return git({"rev-parse", "HEAD"}, m_work);
}

}  // namespace hookyard::test
