#include "tests/support/proc.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace hookyard::test {
namespace {

// Reads a whole /proc file; "" when the process went away meanwhile (libstdc++ may throw on that read).
std::string slurp(const std::filesystem::path& path) {
    try {
        std::ifstream in(path);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    } catch (const std::exception&) {
        return "";
    }
}

bool read_proc(const std::filesystem::path& dir, ProcInfo& info) {
    const std::string text = slurp(dir / "stat");
    // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses, so parse after the last ')'.
    const auto close = text.rfind(')');
    if (close == std::string::npos) return false;
    std::istringstream rest(text.substr(close + 1));
    int ppid = 0;
    rest >> info.state >> ppid >> info.pgid;
    if (!rest) return false;
    std::string raw = slurp(dir / "cmdline");
    for (char& c : raw) {
        if (c == '\0') c = ' ';
    }
    info.cmdline = raw;
    return true;
}

}  // namespace

std::vector<ProcInfo> live_processes() {
    std::vector<ProcInfo> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        ProcInfo info;
        info.pid = std::atoi(name.c_str());
        if (read_proc(entry.path(), info) && info.state != 'Z' && info.state != 'X') out.push_back(info);
    }
    return out;
}

std::vector<ProcInfo> live_processes_in_group(int pgid) {
    std::vector<ProcInfo> out;
    for (auto& p : live_processes()) {
        if (p.pgid == pgid) out.push_back(p);
    }
    return out;
}

std::vector<ProcInfo> live_processes_matching(const std::string& needle) {
    std::vector<ProcInfo> out;
    const int self = static_cast<int>(getpid());
    for (auto& p : live_processes()) {
        if (p.pid != self && p.cmdline.find(needle) != std::string::npos) out.push_back(p);
    }
    return out;
}

}  // namespace hookyard::test
