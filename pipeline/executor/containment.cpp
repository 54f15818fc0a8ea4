#include "pipeline/executor/containment.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "pipeline/executor/build_cgroup.hpp"

namespace hookyard::pipeline {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// How long a killed cgroup may take to empty before we give up removing it (the kernel is quick; a
// process in uninterruptible sleep is not).
constexpr std::chrono::seconds k_empty_timeout{5};
constexpr std::chrono::milliseconds k_empty_poll{20};

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool write_file(const std::string& path, const std::string& text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    return ok;
}

std::string trim(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

// The cgroup2 mount point: /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid one.
std::string read_cgroup2_mount() {
    std::ifstream mounts("/proc/self/mounts");
    std::string device, dir, type, rest;
    while (mounts >> device >> dir >> type && std::getline(mounts, rest)) {
        if (type == "cgroup2") return dir;
    }
    return "";
}

// Read once, as build_cgroup.cpp's v1 mounts: every build asked, and /proc/self/mounts is slow on a busy host.
const std::string& cgroup2_mount() {
    static const std::string k_mount = read_cgroup2_mount();
    return k_mount;
}

// A short stable name for the data dir, so each instance on a host has its own cgroup parent.
std::string instance_key(const std::string& data_dir) {
    std::error_code ec;
    std::string path = fs::weakly_canonical(fs::absolute(data_dir, ec), ec).string();
    std::uint64_t hash = 1469598103934665603ULL;  // FNV-1a
    for (unsigned char c : path) hash = (hash ^ c) * 1099511628211ULL;
    char buf[20];
    std::snprintf(buf, sizeof buf, "i%016llx", static_cast<unsigned long long>(hash));
    return buf;
}

std::vector<pid_t> cgroup_pids(const std::string& dir) {
    std::vector<pid_t> pids;
    std::istringstream in(read_file(dir + "/cgroup.procs"));
    for (long pid; in >> pid;) pids.push_back(static_cast<pid_t>(pid));
    return pids;
}

// Fields of /proc/<pid>/stat after the command name: state is field 3, pgrp 5, starttime 22.
std::vector<std::string> stat_fields(pid_t pid) {
    const std::string text = read_file("/proc/" + std::to_string(pid) + "/stat");
    const auto close = text.rfind(')');
    std::vector<std::string> fields;
    if (close == std::string::npos) return fields;
    std::istringstream in(text.substr(close + 1));
    for (std::string f; in >> f;) fields.push_back(f);
    return fields;
}

struct ProcInfo {
    char state = '?';  // Z: a zombie, already dead
    pid_t pgrp = 0;
    unsigned long long start = 0;  // clock ticks since boot
};

std::optional<ProcInfo> proc_info(pid_t pid) {
    const auto f = stat_fields(pid);
    if (f.size() < 20) return std::nullopt;
    return ProcInfo{f[0].empty() ? '?' : f[0][0], static_cast<pid_t>(std::stol(f[2])), std::stoull(f[19])};
}

std::string describe_pid(pid_t pid) { return std::to_string(pid) + " (" + process_cmdline(pid) + ")"; }

}  // namespace

std::string cgroup_relative(const std::string& dir) {
    const std::string mount = cgroup2_mount();
    if (mount.empty() || dir.rfind(mount + "/", 0) != 0) return "";
    return dir.substr(mount.size());
}

std::string process_cmdline(pid_t pid) {
    std::string text = read_file("/proc/" + std::to_string(pid) + "/cmdline");
    for (char& c : text) c = c == '\0' ? ' ' : c;
    return trim(text);
}

std::vector<pid_t> kill_cgroup(const std::string& dir) {
    std::vector<pid_t> seen;
    // Children first (an OCI runtime's container cgroup under a build's): a cgroup with children cannot go.
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (!entry.is_directory(ec)) continue;
        const auto below = kill_cgroup(entry.path().string());
        seen.insert(seen.end(), below.begin(), below.end());
    }
    const auto here = cgroup_pids(dir);
    seen.insert(seen.end(), here.begin(), here.end());
    const bool has_kill = write_file(dir + "/cgroup.kill", "1");
    const auto until = Clock::now() + k_empty_timeout;
    while (true) {
        const auto left = cgroup_pids(dir);
        // An empty cgroup.procs is not yet an unpopulated cgroup: a killed task counts until the kernel has
        // released it, and rmdir fails with EBUSY until then. Callers rely on the directory being gone
        // (remove_buildah_leftovers reads an existing scope as a running build).
        if (left.empty() && (::rmdir(dir.c_str()) == 0 || errno != EBUSY)) break;
        if (Clock::now() >= until) break;
        // Without cgroup.kill (kernels before 5.14) a fork can race a kill of each pid: repeat until empty.
        if (!has_kill) {
            for (pid_t pid : left) ::kill(pid, SIGKILL);
        }
        std::this_thread::sleep_for(k_empty_poll);
    }
    return seen;
}

ContainmentScope::ContainmentScope(std::shared_ptr<ProcessContainment> owner, std::string cgroup)
    : m_owner(std::move(owner)), m_cgroup(std::move(cgroup)) {}

ContainmentScope::~ContainmentScope() {
    if (!m_cgroup.empty()) kill_cgroup(m_cgroup);
}

ChildPlacement ContainmentScope::placement() const {
    ChildPlacement p;
    if (!m_cgroup.empty()) {
        p.cgroup = m_cgroup;
        p.kill_all = [dir = m_cgroup] { write_file(dir + "/cgroup.kill", "1"); };
        return p;
    }
    std::weak_ptr<ProcessContainment> owner = m_owner;
    p.on_spawn = [owner](pid_t pgid) -> util::Status {
        auto o = owner.lock();
        return o ? o->record(pgid) : util::Status{};
    };
    p.on_reaped = [owner](pid_t pgid) {
        if (auto o = owner.lock()) o->forget(pgid);
    };
    return p;
}

std::shared_ptr<ProcessContainment> ProcessContainment::make(ContainmentOptions options) {
    return std::shared_ptr<ProcessContainment>(new ProcessContainment(std::move(options)));
}

ProcessContainment::ProcessContainment(ContainmentOptions options) : m_options(std::move(options)) {
    m_journal = (fs::path(m_options.data_dir) / "run" / "process-groups").string();
    m_boot_id = trim(read_file("/proc/sys/kernel/random/boot_id"));
    std::string root = m_options.cgroup_root;
    if (root == "none") {
        m_why_not = "cgroups turned off";
        return;
    }
    if (root.empty()) {
        const std::string mount = cgroup2_mount();
        if (mount.empty()) {
            m_why_not = "no cgroup2 hierarchy is mounted";
            return;
        }
        root = mount + "/hookyard";
    }
    const std::string dir = root + "/" + instance_key(m_options.data_dir);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || ::access((dir + "/cgroup.procs").c_str(), W_OK) != 0) {
        m_why_not = "cannot create cgroup " + dir + (ec ? ": " + ec.message() : "");
        return;
    }
    m_instance_cgroup = dir;
}

std::string ProcessContainment::describe() const {
    if (uses_cgroups()) return "cgroup " + m_instance_cgroup;
    return "process groups journaled in " + m_journal + " (" + m_why_not + ")";
}

std::unique_ptr<ContainmentScope> ProcessContainment::open(const std::string& name) {
    std::string cgroup;
    if (uses_cgroups()) {
        std::string safe;
        for (char c : name) safe.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
        unsigned long n = 0;
        {
            const std::lock_guard lock(m_mutex);
            n = m_next++;
        }
        const std::string dir =
            m_instance_cgroup + "/b" + safe + "-" + std::to_string(::getpid()) + "-" + std::to_string(n);
        // A scope that cannot get its cgroup still works in the process-group mode.
        if (::mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) cgroup = dir;
    }
    return std::make_unique<ContainmentScope>(shared_from_this(), cgroup);
}

std::vector<std::string> ProcessContainment::kill_leftovers() {
    std::vector<std::string> killed;
    if (uses_cgroups()) {
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(m_instance_cgroup, ec)) {
            if (!entry.is_directory(ec)) continue;
            std::vector<std::string> names;
            for (pid_t pid : cgroup_pids(entry.path().string())) names.push_back(describe_pid(pid));
            kill_cgroup(entry.path().string());
            // The RUN containers' cgroups in the v1 hierarchies (build_cgroup.hpp) have the same path.
            remove_v1_cgroup(cgroup_relative(entry.path().string()));
            for (auto& n : names) killed.push_back("killed " + n + " left in " + entry.path().string());
        }
    }
    for (auto& line : kill_journaled()) killed.push_back(std::move(line));
    return killed;
}

std::vector<std::string> ProcessContainment::kill_journaled() {
    std::vector<std::string> killed;
    const std::lock_guard lock(m_mutex);
    std::istringstream in(read_file(m_journal));
    std::string boot;
    long pgid = 0;
    unsigned long long start = 0;
    while (in >> pgid >> start >> boot) {
        if (boot != m_boot_id || pgid <= 1) continue;  // another boot: those processes are long gone
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator("/proc", ec)) {
            const std::string name = entry.path().filename().string();
            if (name.find_first_not_of("0123456789") != std::string::npos) continue;
            const pid_t pid = static_cast<pid_t>(std::stol(name));
            const auto info = proc_info(pid);
            // A member of the recorded group started no earlier than its leader; a group id cannot be
            // reused while any member lives, so together with the boot id this is the same group.
            if (!info || info->pgrp != pgid || info->start < start || info->state == 'Z') continue;
            killed.push_back("killed " + describe_pid(pid) + " of process group " + std::to_string(pgid));
            ::kill(pid, SIGKILL);
        }
    }
    std::error_code ec;
    fs::remove(m_journal, ec);
    return killed;
}

util::Status ProcessContainment::record(pid_t pgid) {
    const auto info = proc_info(pgid);
    if (!info) return util::make_error(util::ErrorKind::internal, "child " + std::to_string(pgid) + " vanished");
    const std::lock_guard lock(m_mutex);
    std::error_code ec;
    fs::create_directories(fs::path(m_journal).parent_path(), ec);
    const int fd = ::open(m_journal.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    const std::string line = std::to_string(pgid) + " " + std::to_string(info->start) + " " + m_boot_id + "\n";
    const bool ok =
        fd >= 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!ok) {
        return util::make_error(util::ErrorKind::internal, "cannot record the build's process group in " + m_journal +
                                                               ": " + std::strerror(errno));
    }
    return {};
}

void ProcessContainment::forget(pid_t pgid) {
    const std::lock_guard lock(m_mutex);
    std::istringstream in(read_file(m_journal));
    std::string kept;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(std::to_string(pgid) + " ", 0) != 0) kept += line + "\n";
    }
    const std::string tmp = m_journal + ".tmp";
    std::ofstream(tmp, std::ios::trunc) << kept;
    std::error_code ec;
    fs::rename(tmp, m_journal, ec);
}

}  // namespace hookyard::pipeline
