#include "pipeline/executor/cni_leftovers.hpp"

#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "pipeline/executor/child_process.hpp"

namespace hookyard::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr std::chrono::seconds k_iptables_timeout{30};

bool is_ipv4(const std::string& text) {
    int dots = 0;
    for (char c : text) {
        if (c == '.') ++dots;
        if (c != '.' && !std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    return dots == 3 && !text.empty();
}

// The local addresses of one namespace's fib_trie: an address line followed by "/32 host LOCAL".
void add_fib_locals(const std::string& path, std::set<std::string>& out) {
    std::ifstream in(path);
    std::string previous;
    for (std::string line; std::getline(in, line);) {
        const auto start = line.find_first_not_of(" |+-`");
        const std::string text = start == std::string::npos ? "" : line.substr(start);
        if (text.rfind("/32 host LOCAL", 0) == 0 && is_ipv4(previous)) out.insert(previous);
        previous = text;
    }
}

// Runs iptables with `args`; its output lines go to `lines` when given. True when it exited 0.
bool iptables(const std::string& program, std::vector<std::string> args, const std::map<std::string, std::string>& env,
              std::vector<std::string>* lines = nullptr) {
    args.insert(args.begin(), program);
    const CancelSignal never;
    const ChildLimits limits{std::chrono::steady_clock::now() + k_iptables_timeout, std::chrono::milliseconds(1000)};
    const auto outcome = run_child(
        {std::move(args), env, "", {}},
        [lines](std::string_view line) {
            if (lines) lines->emplace_back(line);
        },
        limits, never);
    return outcome && outcome->ok();
}

// Deletes the bridge plugin's ipMasq rule and chain for container `id` at `address` (as TeardownIPMasq
// would have: the rule by its exact spec, then the chain).
bool remove_nat(const std::string& program, const std::string& network, const std::string& id,
                const std::string& address, const std::map<std::string, std::string>& env) {
    std::vector<std::string> rules;
    if (!iptables(program, {"-w", "-t", "nat", "-S", "POSTROUTING"}, env, &rules)) return false;
    const std::string comment = "name: \"" + network + "\" id: \"" + id + "\"";
    bool ok = true;
    for (const auto& rule : rules) {
        if (rule.find("-s " + address + "/32 ") == std::string::npos) continue;
        if (rule.find("id: \\\"" + id + "\\\"") == std::string::npos) continue;
        const auto jump = rule.rfind("-j CNI-");
        if (jump == std::string::npos) continue;
        const std::string chain = rule.substr(jump + 3, rule.find(' ', jump + 3) - (jump + 3));
        ok = iptables(program,
                      {"-w", "-t", "nat", "-D", "POSTROUTING", "-s", address + "/32", "-m", "comment", "--comment",
                       comment, "-j", chain},
                      env) &&
             ok;
        ok = iptables(program, {"-w", "-t", "nat", "-F", chain}, env) && ok;
        ok = iptables(program, {"-w", "-t", "nat", "-X", chain}, env) && ok;
    }
    return ok;
}

bool is_container_id(const std::string& id) {
    if (id.empty()) return false;
    for (char c : id) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
    }
    return true;
}

}  // namespace

std::string cni_ipam_dir(const std::string& network) { return "/var/lib/cni/networks/" + network; }

std::set<std::string> live_namespace_addresses() {
    std::set<std::string> out;
    std::set<std::string> seen;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        const std::string pid = entry.path().filename().string();
        if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
        char target[64];
        const ssize_t n = ::readlink((entry.path() / "ns/net").c_str(), target, sizeof target - 1);
        if (n <= 0) continue;
        if (!seen.insert(std::string(target, static_cast<std::size_t>(n))).second) continue;
        add_fib_locals((entry.path() / "net/fib_trie").string(), out);
    }
    return out;
}

ReleasedAddresses release_stale_cni_addresses(const std::string& ipam_dir, const std::string& network,
                                              std::chrono::seconds min_age,
                                              const std::map<std::string, std::string>& env) {
    ReleasedAddresses out;
    std::error_code ec;
    if (!fs::is_directory(ipam_dir, ec)) return out;
    const auto live = live_namespace_addresses();
    const std::string program = find_program("iptables", env);
    const auto now = fs::file_time_type::clock::now();
    for (const auto& entry : fs::directory_iterator(ipam_dir, ec)) {
        const std::string address = entry.path().filename().string();
        if (!is_ipv4(address) || live.count(address)) continue;
        std::error_code time_ec;
        const auto written = fs::last_write_time(entry.path(), time_ec);
        if (time_ec || now - written < min_age) continue;
        std::ifstream in(entry.path());
        std::string id;
        std::getline(in, id);
        while (!id.empty() && std::isspace(static_cast<unsigned char>(id.back()))) id.pop_back();
        if (is_container_id(id) && !program.empty() && !remove_nat(program, network, id, address, env)) {
            out.problems.push_back("cannot remove the NAT rule of " + address + " (" + id + ") with iptables");
        }
        std::error_code rm;
        fs::remove(entry.path(), rm);
        if (rm) {
            out.problems.push_back("cannot remove " + entry.path().string() + ": " + rm.message());
        } else {
            out.released.push_back(address + " (" + id + ")");
        }
    }
    return out;
}

}  // namespace hookyard::pipeline
