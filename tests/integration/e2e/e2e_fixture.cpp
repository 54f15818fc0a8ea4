#include "tests/integration/e2e/e2e_fixture.hpp"

#include <signal.h>

#include <filesystem>

#include "util/signature.hpp"

namespace hookyard::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string hookyard_bin() { return binary_dir() + "/hookyard"; }

}  // namespace

std::string PipelineE2E::dockerfile(const std::string& run_script) const {
    // Exec form: buildah's OCI format ignores SHELL, and there is no /bin/sh in a scratch image.
    return "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"" + run_script +
           "\"]\nCMD [\"/bin/busybox\", \"cat\", \"/version\"]\n";
}

void PipelineE2E::SetUp() {
    RegistryServerOptions reg;
    reg.auth = RegistryServerOptions::Auth::htpasswd;
    m_registry = std::make_unique<RegistryServer>(reg);
    const auto git_root = m_dir / "git";
    std::filesystem::create_directories(git_root);
    m_repo = std::make_unique<SourceRepo>(git_root, "app");
    m_git = std::make_unique<GitDaemon>(git_root);
    // busybox goes in executable (the Dockerfile's SHELL runs it), so it is added with its mode.
    write_file(m_repo->work() + "/busybox", read_file("/bin/busybox"), true);
    write_file(m_repo->work() + "/services/api/busybox", read_file("/bin/busybox"), true);
    git({"add", "busybox", "services/api/busybox"}, m_repo->work());
    m_head = commit_and_push({{"Dockerfile", dockerfile("echo v1 > /version")},
                              {"services/api/Dockerfile", dockerfile("echo api > /version")},
                              {"docs/README.md", "docs\n"}},
                             "initial");
    m_port = free_port();
    m_down_port = free_port();
    m_slow_receiver.set_delay(20s);
    const std::string reg_host = m_registry->host();
    m_config = m_dir / "hookyard.yaml";
    write_file(m_config,
               "server:\n"
               "  listen: \"127.0.0.1:" +
                   std::to_string(m_port) +
                   "\"\n"
                   "  webhook_secret: " +
                   k_secret +
                   "\n"
                   "  api_token: " +
                   k_token +
                   "\n"
                   "data_dir: " +
                   (m_dir / "data") +
                   "\n"
                   // network none: these RUN steps need none, and a serve with the filtered network rewrites
                   // the host's nftables table, racing the executor's NetworkTest and its allow list.
                   "builder: { concurrency: 2, timeout: 5m, keep_failed_workdirs: true, network: { mode: none } }\n"
                   "notify: { max_attempts: 10, timeout: 5s, initial_backoff: 1s }\n"
                   "github: { token: " +
                   k_github_token + ", api_url: '" + m_github.url("/api/v3") +
                   "' }\n"
                   "registries:\n"
                   "  local: { endpoint: '" +
                   m_registry->url() + "', username: " + m_registry->username() + ", password: '" +
                   m_registry->password() +
                   "' }\n"
                   "repositories:\n"
                   "  - github: acme/app\n"
                   "    registry: local\n"
                   "    push_repo: " +
                   reg_host +
                   "/acme/app\n"
                   "    clone_url: " +
                   m_git->url("app.git") +
                   "\n"
                   "    trigger_token: " +
                   k_trigger_token +
                   "\n"
                   "    rules:\n"
                   "      - { source_type: branch, source: main, tag: 'latest,{sourceref}' }\n"
                   "      - { source_type: tag, source: '/^v([0-9]+)\\.([0-9]+)$/', tag: 'v{\\1}.{\\2},v{\\1}' }\n"
                   "  - github: acme/monorepo\n"
                   "    registry: local\n"
                   "    push_repo: " +
                   reg_host +
                   "/acme/api\n"
                   "    clone_url: " +
                   m_git->url("app.git") +
                   "\n"
                   "    rules:\n"
                   "      - { source_type: branch, source: main, tag: latest, context: services/api, paths: "
                   "['services/api/**'] }\n"
                   // Every branch is its own tag: `lat@est` and `latest` render the same one (tag collisions).
                   "  - github: acme/tags\n"
                   "    registry: local\n"
                   "    push_repo: " +
                   reg_host +
                   "/acme/tags\n"
                   "    clone_url: " +
                   m_git->url("app.git") +
                   "\n"
                   "    rules:\n"
                   "      - { source_type: branch, source: '/.*/', tag: '{sourceref}' }\n"
                   "subscribers:\n"
                   "  - { name: hub-team, url: '" +
                   m_hub_receiver.url("/hub") +
                   "', format: dockerhub, repositories: [acme/app] }\n"
                   "  - { name: ops, url: '" +
                   m_ops_receiver.url("/ops") + "', format: hookyard, secret: " + k_ops_secret +
                   " }\n"
                   "  - { name: down, url: 'http://127.0.0.1:" +
                   std::to_string(m_down_port) +
                   "/x', format: hookyard }\n"
                   "  - { name: slow, url: '" +
                   m_slow_receiver.url("/slow") + "', format: hookyard }\n");
    std::string yaml = read_file(m_config);
    adjust_config(yaml);
    write_file(m_config, yaml);
    start_hookyard();
}

void PipelineE2E::TearDown() {
    if (m_hookyard && m_hookyard->running()) {
        m_hookyard->signal(SIGTERM);
        if (m_hookyard->wait(20s) < 0) m_hookyard->signal(SIGKILL);
    }
    if (HasFailure() && m_hookyard) std::cerr << "hookyard log:\n" << m_hookyard->log() << "\n";
}

void PipelineE2E::start_hookyard() {
    m_hookyard = std::make_unique<Process>(std::vector<std::string>{hookyard_bin(), "serve", "-c", m_config},
                                           m_dir / ("hookyard-" + std::to_string(++m_starts) + ".log"));
    // Generous: on a loaded machine the start-up's sandbox probes alone took more than 30 s.
    ASSERT_TRUE(wait_until([&] { return port_open(m_port) && api_get("/healthz").status == 200; }, 120s))
        << m_hookyard->log();
}

void PipelineE2E::kill_hookyard() {
    ::kill(m_hookyard->pid(), SIGKILL);
    ASSERT_EQ(m_hookyard->wait(10s), 128 + SIGKILL);
}

std::string PipelineE2E::commit_and_push(const std::map<std::string, std::string>& files, const std::string& message) {
    const auto sha = m_repo->commit(files, message);
    m_repo->push("main");
    return sha;
}

HttpResult PipelineE2E::request(const std::string& method, const std::string& path, const std::string& body,
                                const std::vector<std::string>& headers) {
    const auto body_file = m_dir / "request-body";
    const auto out_file = m_dir / "response-body";
    write_file(body_file, body);
    const auto headers_file = m_dir / "response-headers";
    std::vector<std::string> argv = {"curl", "-s",           "-o", out_file, "-D",         headers_file,
                                     "-w",   "%{http_code}", "-X", method,   "--max-time", "30"};
    for (const auto& h : headers) {
        argv.push_back("-H");
        argv.push_back(h);
    }
    if (method != "GET") {
        argv.push_back("--data-binary");
        argv.push_back("@" + body_file);
    }
    argv.push_back("http://127.0.0.1:" + std::to_string(m_port) + path);
    std::string code;
    HttpResult r;
    if (run(argv, &code) != 0) return r;
    r.status = std::atoi(code.c_str());
    r.body = read_file(out_file);
    r.headers = read_file(headers_file);
    return r;
}

HttpResult PipelineE2E::api_get(const std::string& path) {
    return request("GET", path, "", {std::string("Authorization: Bearer ") + k_token});
}

HttpResult PipelineE2E::send_push(const std::string& ref, const std::string& before, const std::string& after,
                                  const std::vector<std::string>& changed, const std::string& message,
                                  const std::string& repository) {
    return send_payload(push_payload(ref, before, after, changed, message, repository));
}

json PipelineE2E::push_payload(const std::string& ref, const std::string& before, const std::string& after,
                               const std::vector<std::string>& changed, const std::string& message,
                               const std::string& repository) {
    return {{"ref", ref},
            {"before", before},
            {"after", after},
            {"created", false},
            {"deleted", false},
            {"forced", false},
            {"repository",
             {{"full_name", repository},
              {"name", repository.substr(repository.find('/') + 1)},
              {"clone_url", m_git->url("app.git")}}},
            {"pusher", {{"name", "octocat"}, {"email", "octocat@example.com"}}},
            {"head_commit",
             {{"id", after},
              {"message", message},
              {"added", json::array()},
              {"modified", changed},
              {"removed", json::array()}}},
            {"commits", json::array({{{"id", after},
                                      {"message", message},
                                      {"added", json::array()},
                                      {"modified", changed},
                                      {"removed", json::array()}}})}};
}

HttpResult PipelineE2E::send_payload(const json& payload) {
    const std::string body = payload.dump();
    const std::string after = payload.value("after", std::string(8, '0'));
    static int delivery = 0;
    return request("POST", "/hooks/github", body,
                   {"Content-Type: application/json", "X-GitHub-Event: push",
                    "X-GitHub-Delivery: e2e-" + std::to_string(::getpid()) + "-" + std::to_string(++delivery) + "-" +
                        after.substr(0, 8),
                    "X-Hub-Signature-256: sha256=" + util::hmac_sha256_hex(k_secret, body)});
}

std::vector<long long> PipelineE2E::build_ids(const HttpResult& accepted) {
    std::vector<long long> out;
    const auto j = accepted.json();
    if (!j.is_object() || !j.contains("builds")) return out;
    for (const auto& b : j["builds"]) out.push_back(b.is_object() ? b["id"].get<long long>() : b.get<long long>());
    return out;
}

json PipelineE2E::wait_terminal(long long id, std::chrono::seconds timeout) {
    json build;
    wait_until(
        [&] {
            const auto r = api_get("/api/v1/builds/" + std::to_string(id));
            if (r.status != 200) return false;
            build = r.json();
            const auto state = build.value("state", "");
            return state != "queued" && state != "running";
        },
        timeout);
    return build;
}

json PipelineE2E::skopeo_inspect(const std::string& repo_and_tag) {
    std::vector<std::string> argv = {"skopeo", "inspect"};
    for (const auto& o : m_registry->skopeo_options("")) argv.push_back(o);
    argv.push_back("docker://" + m_registry->host() + "/" + repo_and_tag);
    std::string out;
    if (run(argv, &out) != 0) return nullptr;
    return json::parse(out, nullptr, false);
}

}  // namespace hookyard::test
