#pragma once
// Looking at live processes through /proc, for tests that check nothing was left running.

#include <string>
#include <vector>

namespace hookyard::test {

struct ProcInfo {
    int pid = 0;
    int pgid = 0;
    char state = '?';     // R, S, D, Z (zombie), ...
    std::string cmdline;  // arguments joined by spaces
};

// Every process that is not a zombie, as /proc shows it now.
std::vector<ProcInfo> live_processes();
// Live (non-zombie) processes in process group `pgid`.
std::vector<ProcInfo> live_processes_in_group(int pgid);
// Live processes whose command line contains `needle`, excluding the calling process.
std::vector<ProcInfo> live_processes_matching(const std::string& needle);

}  // namespace hookyard::test
