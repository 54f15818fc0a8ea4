#include "pipeline/executor/build_cgroup.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "pipeline/executor/containment.hpp"

namespace hookyard::pipeline {
namespace {

namespace fs = std::filesystem;

struct Mount {
    std::string dir;
    std::vector<std::string> options;
};

std::vector<Mount> read_v1_mounts() {
    std::vector<Mount> mounts;
    std::ifstream in("/proc/self/mounts");
    std::string device, dir, type, options, rest;
    while (in >> device >> dir >> type >> options && std::getline(in, rest)) {
        if (type != "cgroup") continue;
        Mount m{dir, {}};
        std::istringstream opts(options);
        for (std::string o; std::getline(opts, o, ',');) m.options.push_back(o);
        mounts.push_back(std::move(m));
    }
    return mounts;
}

// The cgroup v1 mounts of this process's mount namespace with their options (the controllers). Read once:
// /proc/self/mounts takes 15-40 ms on a host with a thousand mounts (every container's overlay), which
// every build paid several times, and the cgroup hierarchies do not move while hookyard runs.
const std::vector<Mount>& v1_mounts() {
    static const std::vector<Mount> k_mounts = read_v1_mounts();
    return k_mounts;
}

bool write_value(const std::string& path, const std::string& value) {
    std::ofstream out(path);
    out << value;
    out.flush();
    return static_cast<bool>(out);
}

// The number after `key` in a "key value" per line file (memory.oom_control, pids.events); 0 when absent.
long long keyed_value(const std::string& path, const std::string& key) {
    std::ifstream in(path);
    std::string k;
    long long v = 0;
    while (in >> k >> v) {
        if (k == key) return v;
    }
    return 0;
}

// SIGKILL to every process in `dir` and the cgroups below it; the cgroups stay (the runtime removes them).
void kill_all_in(const std::string& dir) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.is_directory(ec)) kill_all_in(entry.path().string());
    }
    std::ifstream procs(dir + "/cgroup.procs");
    for (long pid; procs >> pid;) ::kill(static_cast<pid_t>(pid), SIGKILL);
}

long long number(const std::string& path) {
    std::ifstream in(path);
    long long v = 0;
    in >> v;
    return v;
}

std::string mib(std::uint64_t bytes) { return std::to_string(bytes / (1024 * 1024)) + " MiB"; }

}  // namespace

std::string cgroup_v1_mount(const std::string& controller) {
    for (const auto& m : v1_mounts()) {
        for (const auto& o : m.options) {
            if (o == controller) return m.dir;
        }
    }
    return "";
}

void remove_v1_cgroup(const std::string& relative) {
    // Never a hierarchy's root (or anything outside hookyard's own subtree): that would kill the host.
    if (relative.rfind("/hookyard/", 0) != 0 || relative.find("..") != std::string::npos) return;
    for (const auto& m : v1_mounts()) {
        const std::string dir = m.dir + relative;
        std::error_code ec;
        if (fs::is_directory(dir, ec)) kill_cgroup(dir);
    }
}

BuildCgroup::BuildCgroup(std::string relative, const config::BuilderLimits& limits)
    : m_relative(std::move(relative)), m_limits(limits) {
    if (m_relative.rfind("/hookyard/", 0) != 0) {
        m_missing = "all (no build cgroup)";
        return;
    }
    // One controller at a time: a host may have some v1 controllers and not others.
    auto prepare = [&](const std::string& controller, const std::string& file, const std::string& value) {
        const std::string mount = cgroup_v1_mount(controller);
        std::error_code ec;
        const std::string dir = mount + m_relative;
        if (mount.empty()) {
            m_missing += (m_missing.empty() ? "" : ", ") + controller + " (no cgroup v1 " + controller + " hierarchy)";
            return std::string();
        }
        fs::create_directories(dir, ec);
        if (ec || !write_value(dir + "/" + file, value)) {
            m_missing += (m_missing.empty() ? "" : ", ") + controller + " (cannot write " + dir + "/" + file + ")";
            return std::string();
        }
        return dir;
    };
    if (limits.memory > 0) m_memory_dir = prepare("memory", "memory.limit_in_bytes", std::to_string(limits.memory));
    if (limits.pids > 0) m_pids_dir = prepare("pids", "pids.max", std::to_string(limits.pids));
    if (limits.cpus > 0) {
        const auto quota = std::lround(limits.cpus * k_cpu_period_us);
        const std::string dir = prepare("cpu", "cpu.cfs_period_us", std::to_string(k_cpu_period_us));
        if (!dir.empty() && !write_value(dir + "/cpu.cfs_quota_us", std::to_string(quota))) {
            m_missing += (m_missing.empty() ? "" : ", ") + std::string("cpu (cannot write cpu.cfs_quota_us)");
        }
    }
}

BuildCgroup::~BuildCgroup() { remove_v1_cgroup(m_relative); }

// The counters of a limit hit (oom_kill, pids.events max) land on the RUN container's own cgroup, which
// the runtime removes when the step ends; the build cgroup keeps what is hierarchical: how often a charge
// failed at its memory limit, and its peak process count.
std::string BuildCgroup::exceeded() const {
    if (!m_memory_dir.empty() && number(m_memory_dir + "/memory.failcnt") > 0) {
        return "a RUN step ran out of memory: the build reached its limit of " + mib(m_limits.memory) +
               " (builder.limits.memory), where the kernel kills a process over it; raise the limit or make the "
               "build use less memory";
    }
    if (at_pids_limit()) {
        return "a RUN step hit the build's process limit of " + std::to_string(m_limits.pids) +
               " (builder.limits.pids): fork failed; raise the limit or start fewer processes";
    }
    return "";
}

bool BuildCgroup::at_pids_limit() const {
    if (m_pids_dir.empty()) return false;
    if (std::filesystem::exists(m_pids_dir + "/pids.peak")) return number(m_pids_dir + "/pids.peak") >= m_limits.pids;
    return keyed_value(m_pids_dir + "/pids.events", "max") > 0;
}

bool BuildCgroup::stop_at_pids_limit() {
    if (!at_pids_limit()) return false;
    kill_all_in(m_pids_dir);
    return true;
}

}  // namespace hookyard::pipeline
