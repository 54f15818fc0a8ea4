// The test stage's containers and network (test_stage.hpp); the orchestration is in test_stage.cpp.

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>

#include "config/image_ref.hpp"
#include "pipeline/executor/buildah_run.hpp"
#include "pipeline/executor/test_stage_run.hpp"

namespace hookyard::pipeline {
namespace {

using util::ErrorKind;
using util::make_error;

// Removing containers after a failure or cancel must not hang the worker, nor be stopped by the cancel.
constexpr std::chrono::seconds k_test_cleanup_timeout{60};
// How long the network namespace's holder may take to come up.
constexpr std::chrono::seconds k_network_start_timeout{60};
constexpr const char* k_netns_ready = "hookyard-netns-ready";

std::string container_safe(const std::string& text) {
    std::string out;
    for (char c : text) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
    return out;
}

std::vector<std::string> json_words(const nlohmann::json& config, const char* key) {
    std::vector<std::string> out;
    if (!config.contains(key) || !config[key].is_array()) return out;
    for (const auto& word : config[key]) {
        if (word.is_string()) out.push_back(word.get<std::string>());
    }
    return out;
}

}  // namespace

util::Result<int> TestRun::buildah(std::vector<std::string> args, const LogSink& sink, const CancelSignal& cancel,
                                   const std::string& what, const std::map<std::string, std::string>& extra_env) {
    ChildSpec spec{buildah_command(m_options, std::move(args)), m_env, m_work_dir, placement()};
    for (const auto& [k, v] : extra_env) spec.env[k] = v;
    ChildLimits limits = m_limits;
    if (&cancel != &m_cancel) limits.deadline = std::chrono::steady_clock::now() + k_test_cleanup_timeout;
    auto outcome = run_child(spec, sink, limits, cancel);
    if (!outcome) return make_error(outcome.error().kind, what + ": " + outcome.error().message);
    if (outcome->canceled) return make_error(ErrorKind::canceled, "tests canceled during " + what);
    if (outcome->timed_out) {
        return make_error(ErrorKind::timeout, "tests ran past the build timeout during " + what +
                                                  "; raise builder.timeout or make the tests faster");
    }
    if (outcome->signal != 0) {
        return make_error(ErrorKind::internal, what + " was killed by signal " + std::to_string(outcome->signal));
    }
    return outcome->exit_code;
}

util::Status TestRun::create(const TestFile& file, const ComposeService& service) {
    std::vector<std::string> from{"from", "--quiet"};
    // The sandbox as `buildah from` takes it: the runtime and the network are `buildah run`'s flags.
    const auto sandbox = sandbox_build_flags(m_options.sandbox, m_cgroup ? m_cgroup->cgroup_parent() : "",
                                             m_cgroup && m_cgroup->applied());
    for (std::size_t i = 0; i < sandbox.size(); ++i) {
        if (sandbox[i] == "--runtime" || sandbox[i] == "--network") {
            ++i;
        } else {
            from.push_back(sandbox[i]);
        }
    }
    std::map<std::string, std::string> env;
    auto image = image_for(file, service, from, env);
    if (!image) return image.error();
    Container& c = m_containers.emplace_back();
    c.service = &service;
    c.name = k_test_container_prefix + container_safe(m_request.build.build_id) + "-" + std::to_string(::getpid()) +
             "-" + std::to_string(++m_created);
    from.insert(from.end(), {"--name", c.name, *image});
    note("container " + c.name + " for " + service.name + " from " + *image);
    // `buildah from --quiet` prints the container's name; anything else (pull progress, errors) is logged.
    const LogSink log = [this, name = c.name](std::string_view line) {
        if (line != name) note(std::string(line));
    };
    auto code = buildah(from, log, m_cancel, "buildah from " + *image, env);
    if (!code) return code.error();
    if (*code != 0) {
        return make_error(ErrorKind::invalid_input, file.name + ":" + std::to_string(service.line) + ": services." +
                                                        service.name + ": buildah from " + *image +
                                                        " failed with exit code " + std::to_string(*code) +
                                                        "; see the build log");
    }
    auto argv = image_argv(file, c);
    if (!argv) return argv.error();
    c.argv = std::move(*argv);
    return {};
}

util::Result<std::string> TestRun::image_for(const TestFile& file, const ComposeService& service,
                                             std::vector<std::string>& from_flags,
                                             std::map<std::string, std::string>& env) {
    if (service.build_image) {
        if (m_image.empty()) {
            auto stored = buildah({"inspect", "--type", "image", m_request.image_id}, {}, m_cancel, "buildah inspect");
            if (!stored) return stored.error();
            m_pulled_layout = *stored != 0;
            m_image = m_pulled_layout ? m_request.layout : m_request.image_id;
        }
        if (!m_pulled_layout) from_flags.emplace_back("--pull=never");
        return m_image;
    }
    const std::string where = file.name + ":" + std::to_string(service.line) + ": services." + service.name + ": ";
    auto ref = config::parse_image_ref(service.image);
    if (!ref)
        return make_error(ErrorKind::invalid_input, where + "image " + service.image + ": " + ref.error().message);
    std::string hosts;
    const auto& registries = m_options.pull_registries;
    for (const auto& r : registries) hosts += (hosts.empty() ? "" : ", ") + r.host;
    const auto it =
        std::find_if(registries.begin(), registries.end(), [&](const PullRegistry& r) { return r.host == ref->host; });
    if (it == registries.end()) {
        return make_error(ErrorKind::invalid_input,
                          where + "image " + service.image + " is neither this build's image (build: . or " +
                              "$IMAGE_NAME) nor on a configured registry (" + (hosts.empty() ? "none" : hosts) +
                              "); add " + ref->host + " under registries: in the config");
    }
    if (!m_pull) {
        auto pull = PullCredentials::write(m_options.credentials_root, m_request.build.build_id + "-test",
                                           m_options.pull_registries, m_env);
        if (!pull) return pull.error();
        m_pull = std::move(*pull);
    }
    if (!m_pull->auth_file().empty()) from_flags.insert(from_flags.end(), {"--authfile", m_pull->auth_file()});
    if (!m_pull->registries_conf().empty()) env["CONTAINERS_REGISTRIES_CONF"] = m_pull->registries_conf();
    return ref->str();
}

util::Result<std::vector<std::string>> TestRun::image_argv(const TestFile& file, const Container& c) {
    std::string text;
    const LogSink capture = [&text](std::string_view line) { text.append(line).append("\n"); };
    auto code = buildah({"inspect", "--type", "container", c.name}, capture, m_cancel, "buildah inspect");
    if (!code) return code.error();
    const auto json = nlohmann::json::parse(text, nullptr, false);
    if (*code != 0 || json.is_discarded()) {
        return make_error(ErrorKind::internal, "buildah inspect of test container " + c.name + " failed: " + text);
    }
    nlohmann::json config = nlohmann::json::object();
    if (json.contains("OCIv1") && json["OCIv1"].contains("config")) config = json["OCIv1"]["config"];
    auto argv = container_argv(*c.service, json_words(config, "Entrypoint"), json_words(config, "Cmd"));
    if (argv.empty()) {
        return make_error(ErrorKind::invalid_input, file.name + ":" + std::to_string(c.service->line) + ": services." +
                                                        c.service->name +
                                                        " has no command, and neither has its image; add command:");
    }
    return argv;
}

std::vector<std::string> TestRun::run_args(const Container& c) const {
    const SandboxOptions& sandbox = m_options.sandbox;
    std::vector<std::string> args{"run"};
    if (sandbox.isolation == config::Isolation::chroot) {
        args.insert(args.end(), {"--isolation", "chroot"});
    } else {
        args.insert(args.end(), {"--isolation", "oci", "--runtime", sandbox.runtime, "--network",
                                 m_netns.empty() ? sandbox.network : "ns:" + m_netns});
    }
    if (!m_hosts_file.empty()) args.insert(args.end(), {"--no-hosts", "-v", m_hosts_file + ":/etc/hosts:ro"});
    for (const auto& kv : c.service->environment) args.insert(args.end(), {"-e", kv});
    if (!c.service->working_dir.empty()) args.insert(args.end(), {"--workingdir", c.service->working_dir});
    args.push_back(c.name);
    args.emplace_back("--");
    args.insert(args.end(), c.argv.begin(), c.argv.end());
    return args;
}

util::Status TestRun::start_network(const TestFile& file) {
    std::string names;
    for (const auto& s : file.services) names += " " + s.name;
    m_hosts_file = m_work_dir + "/hosts";
    std::ofstream hosts(m_hosts_file);
    hosts << "127.0.0.1\tlocalhost" << names << "\n::1\tlocalhost" << names << "\n";
    hosts.close();
    if (!hosts) return make_error(ErrorKind::internal, "cannot write " + m_hosts_file);
    // chroot isolation shares the host's network: the services meet on its loopback.
    if (m_options.sandbox.isolation == config::Isolation::chroot) return {};
    if (find_program("unshare", m_env).empty() || find_program("ip", m_env).empty()) {
        return make_error(ErrorKind::not_found,
                          "a test with depends_on needs unshare and ip; install the Debian "
                          "packages util-linux and iproute2");
    }
    m_holder_scope = side_scope("netns");
    ChildPlacement holder = m_holder_scope ? m_holder_scope->placement() : ChildPlacement{};
    holder.on_spawn = [this, inner = holder.on_spawn](pid_t pid) {
        m_holder_pid = pid;  // unshare and sh exec in place: this pid ends up in the namespace
        return inner ? inner(pid) : util::Status{};
    };
    const ChildSpec spec{{"unshare", "--net", "--", "/bin/sh", "-c",
                          std::string("ip link set lo up && echo ") + k_netns_ready + " && exec sleep 2147483647"},
                         m_env,
                         m_work_dir,
                         holder};
    m_holder_stop = std::make_unique<CancelSignal>();
    m_holder_up = false;
    m_holder = std::thread([this, spec] {
        const LogSink sink = [this](std::string_view line) {
            if (line != k_netns_ready) {
                note("test network: " + std::string(line));
                return;
            }
            const std::lock_guard lock(m_holder_mutex);
            m_holder_up = true;
            m_holder_ready.notify_all();
        };
        (void)run_child(spec, sink, m_limits, *m_holder_stop);
        const std::lock_guard lock(m_holder_mutex);
        m_holder_pid = 0;
        m_holder_up = true;
        m_holder_ready.notify_all();
    });
    std::unique_lock lock(m_holder_mutex);
    const auto until = std::chrono::steady_clock::now() + k_network_start_timeout;
    while (!m_holder_up && !m_cancel.raised() && std::chrono::steady_clock::now() < until) {
        m_holder_ready.wait_for(lock, std::chrono::milliseconds(100));
    }
    if (m_cancel.raised()) return make_error(ErrorKind::canceled, "tests canceled while creating their network");
    if (m_holder_pid == 0 || !m_holder_up) {
        return make_error(ErrorKind::internal, "could not create the network namespace for " + file.name +
                                                   " (unshare --net; see the build log)");
    }
    m_netns = "/proc/" + std::to_string(m_holder_pid.load()) + "/ns/net";
    return {};
}

void TestRun::stop_network() {
    if (m_holder.joinable()) {
        m_holder_stop->raise();
        m_holder.join();
    }
    m_holder_scope.reset();
    m_netns.clear();
    m_hosts_file.clear();
}

void TestRun::remove_containers() {
    const CancelSignal never;
    for (const auto& c : m_containers) {
        auto code = buildah({"rm", c.name}, {}, never, "buildah rm");
        if (!code || *code != 0) note("could not remove test container " + c.name + "; remove it with buildah rm");
    }
    m_containers.clear();
}

}  // namespace hookyard::pipeline
