#include "pipeline/executor/sandbox.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "pipeline/executor/build_cgroup.hpp"
#include "pipeline/executor/child_process.hpp"

namespace hookyard::pipeline {
namespace {

constexpr std::chrono::seconds k_probe_timeout{60};

struct Captured {
    int exit_code = -1;
    std::vector<std::string> lines;
    std::string failure;  // why it did not run at all
};

Captured capture(std::vector<std::string> argv, const std::map<std::string, std::string>& env) {
    Captured out;
    const CancelSignal never;
    const ChildLimits limits{std::chrono::steady_clock::now() + k_probe_timeout, std::chrono::milliseconds(2000)};
    const auto outcome = run_child(
        {std::move(argv), env, "", {}}, [&](std::string_view line) { out.lines.emplace_back(line); }, limits, never);
    if (!outcome) {
        out.failure = outcome.error().message;
    } else if (outcome->signal != 0 || outcome->timed_out) {
        out.failure = "killed (signal " + std::to_string(outcome->signal) + ")";
    } else {
        out.exit_code = outcome->exit_code;
    }
    return out;
}

// The line of buildah's output that says why a container did not start.
std::string reason(const Captured& c) {
    if (!c.failure.empty()) return c.failure;
    std::string why = c.lines.empty() ? "exit code " + std::to_string(c.exit_code) : c.lines.back();
    for (const auto& line : c.lines) {
        if (line.find("create failed") != std::string::npos || line.find("error running container") == 0) why = line;
    }
    const auto msg = why.find("msg=\"");
    if (msg != std::string::npos) why = why.substr(msg + 5);
    if (why.size() > 300) why.resize(300);
    while (!why.empty() && (why.back() == '"' || why.back() == ' ')) why.pop_back();
    return why;
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::string human_size(std::uint64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int unit = 0;
    double value = static_cast<double>(bytes);
    while (value >= 1024 && unit < 4) {
        value /= 1024;
        ++unit;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g %s", std::round(value * 10) / 10, units[unit]);
    return buf;
}

}  // namespace

util::Result<RuntimeChoice> probe_oci_runtime(const std::vector<std::string>& buildah_argv,
                                              const std::map<std::string, std::string>& env) {
    RuntimeChoice choice;
    const auto from = capture(concat(buildah_argv, {"from", "--quiet", "scratch"}), env);
    if (from.exit_code != 0 || from.lines.empty()) {
        return util::make_error(util::ErrorKind::not_found,
                                "cannot test OCI isolation: buildah from scratch failed: " + reason(from));
    }
    const std::string container = from.lines.back();
    std::vector<std::string> mounts{"-v", "/usr:/usr:ro", "-v", "/lib:/lib:ro"};
    std::error_code ec;
    if (std::filesystem::exists("/lib64", ec)) mounts.insert(mounts.end(), {"-v", "/lib64:/lib64:ro"});
    for (const char* runtime : {"runc", "crun"}) {
        if (find_program(runtime, env).empty()) {
            choice.rejected.push_back(std::string(runtime) + ": not installed");
            continue;
        }
        for (const char* manager : {"cgroupfs", "systemd"}) {
            auto argv = concat(buildah_argv, {"--cgroup-manager", manager, "run", "--isolation", "oci", "--runtime",
                                              runtime, "--network", "none"});
            argv = concat(argv, mounts);
            const auto run = capture(concat(argv, {container, "/usr/bin/true"}), env);
            if (run.exit_code == 0 && choice.runtime.empty()) {
                choice.runtime = runtime;
                choice.cgroup_manager = manager;
            } else if (run.exit_code != 0) {
                choice.rejected.push_back(std::string(runtime) + " with " + manager + ": " + reason(run));
            }
            if (!choice.runtime.empty()) break;
        }
        if (!choice.runtime.empty()) break;
    }
    capture(concat(buildah_argv, {"rm", container}), env);
    if (choice.runtime.empty()) {
        std::string tried;
        for (const auto& r : choice.rejected) tried += (tried.empty() ? "" : "; ") + r;
        return util::make_error(util::ErrorKind::not_found,
                                "no OCI runtime can start a build container on this host (" + tried +
                                    "); install the Debian package runc (scripts/setup does), or set "
                                    "builder.isolation: chroot to build without a sandbox");
    }
    return choice;
}

std::vector<std::string> sandbox_build_flags(const SandboxOptions& sandbox, const std::string& cgroup_parent,
                                             bool limits_in_parent) {
    if (sandbox.isolation == config::Isolation::chroot) return {"--isolation", "chroot"};
    // No --pid/--uts private: buildah 1.28 reads them after --network and turns the network back on for
    // each (containers/buildah#4227), so `--network none` would get the default CNI network, at ~200 ms of
    // set-up per RUN step. Those namespaces are private by the containers.conf of containers_conf_text.
    std::vector<std::string> flags{"--isolation", "oci",     "--runtime", sandbox.runtime,
                                   "--ipc",       "private", "--network", sandbox.network};
    if (!cgroup_parent.empty()) flags.insert(flags.end(), {"--cgroup-parent", cgroup_parent});
    if (limits_in_parent) return flags;
    // Without a build cgroup each RUN step gets the limits on its own; pids have no such flag.
    if (sandbox.limits.memory > 0) flags.insert(flags.end(), {"--memory", std::to_string(sandbox.limits.memory) + "b"});
    if (sandbox.limits.cpus > 0) {
        const auto quota = static_cast<long>(std::lround(sandbox.limits.cpus * k_cpu_period_us));
        flags.insert(flags.end(),
                     {"--cpu-period", std::to_string(k_cpu_period_us), "--cpu-quota", std::to_string(quota)});
    }
    return flags;
}

std::string containers_conf_text(const std::string& network_section) {
    return "# Written by hookyard at every start (builder.isolation oci).\n[containers]\n"
           "ipcns = \"private\"\npidns = \"private\"\nutsns = \"private\"\n" +
           network_section;
}

util::Result<std::string> write_containers_conf(const std::string& dir, const std::string& network_section) {
    const auto path = std::filesystem::path(dir) / "containers.conf";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    std::ofstream out(path, std::ios::trunc);
    out << containers_conf_text(network_section);
    out.flush();
    if (!out) return util::make_error(util::ErrorKind::internal, "cannot write " + path.string());
    return path.string();
}

std::string describe(const SandboxOptions& sandbox) {
    if (sandbox.isolation == config::Isolation::chroot) return "isolation chroot (no sandbox)";
    std::string text = "isolation oci (runtime " + sandbox.runtime + ", cgroup manager " + sandbox.cgroup_manager +
                       "), network " + sandbox.network + ", limits per build:";
    const auto& l = sandbox.limits;
    text += l.memory > 0 ? " memory " + human_size(l.memory) : " memory unlimited";
    text += l.pids > 0 ? ", pids " + std::to_string(l.pids) : ", pids unlimited";
    char cpus[32];
    std::snprintf(cpus, sizeof cpus, "%g", l.cpus);
    text += l.cpus > 0 ? std::string(", cpus ") + cpus : ", cpus unlimited";
    return text;
}

std::string cache_scope_key(const std::string& docker_repo) {
    if (docker_repo.empty()) return "local";
    std::uint64_t hash = 1469598103934665603ULL;  // FNV-1a
    for (unsigned char c : docker_repo) hash = (hash ^ c) * 1099511628211ULL;
    char buf[20];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash));
    std::string tail;
    for (auto it = docker_repo.rbegin(); it != docker_repo.rend() && *it != '/' && tail.size() < 32; ++it) {
        tail.insert(tail.begin(), std::isalnum(static_cast<unsigned char>(*it)) ? *it : '_');
    }
    return std::string(buf) + "-" + tail;
}

}  // namespace hookyard::pipeline
