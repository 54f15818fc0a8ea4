#include "pipeline/executor/sandbox_network.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "pipeline/executor/child_process.hpp"
#include "pipeline/executor/sandbox.hpp"

namespace hookyard::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr const char* k_network = "hookyard";
constexpr const char* k_bridge = "hookyard0";
constexpr const char* k_subnet = "10.213.0.0/20";
constexpr const char* k_gateway = "10.213.0.1";
constexpr std::chrono::seconds k_nft_timeout{30};

const char* const k_blocked4 =
    "0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8, 169.254.0.0/16, 172.16.0.0/12, 192.0.0.0/24, "
    "192.168.0.0/16, 198.18.0.0/15, 224.0.0.0/3";
const char* const k_blocked6 = "::/127, ::ffff:0:0/96, 64:ff9b::/96, fc00::/7, fe80::/10, ff00::/8";

const char* const k_cni_plugin_dirs[] = {"/usr/lib/cni", "/usr/libexec/cni", "/usr/local/lib/cni", "/opt/cni/bin"};

// "ip daddr { a, b }" for the IPv4 (or IPv6) entries of `cidrs`; "" when there are none.
std::string daddr_set(const std::vector<std::string>& cidrs, bool v6) {
    std::string items;
    for (const auto& c : cidrs) {
        if ((c.find(':') != std::string::npos) != v6) continue;
        items += (items.empty() ? "" : ", ") + c;
    }
    return items.empty() ? "" : std::string(v6 ? "ip6" : "ip") + " daddr { " + items + " }";
}

// The accept rules both chains start with.
std::string accepts(const std::vector<std::string>& allow, const std::vector<std::string>& resolvers) {
    std::string rules;
    const std::string in = std::string("    iifname \"") + k_bridge + "\" ";
    for (bool v6 : {false, true}) {
        if (const auto set = daddr_set(allow, v6); !set.empty()) rules += in + set + " accept\n";
        if (const auto set = daddr_set(resolvers, v6); !set.empty()) {
            rules += in + set + " udp dport 53 accept\n" + in + set + " tcp dport 53 accept\n";
        }
    }
    return rules;
}

bool write_text(const fs::path& path, const std::string& text) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    std::ofstream out(path, std::ios::trunc);
    out << text;
    out.flush();
    return static_cast<bool>(out);
}

std::string cni_conflist() {
    return std::string("{\"cniVersion\": \"0.4.0\", \"name\": \"") + k_network +
           "\", \"plugins\": [{\"type\": \"bridge\", \"bridge\": \"" + k_bridge +
           "\", \"isGateway\": true, \"ipMasq\": false, \"hairpinMode\": false, \"ipam\": {\"type\": "
           "\"host-local\", \"routes\": [{\"dst\": \"0.0.0.0/0\"}], \"ranges\": [[{\"subnet\": \"" +
           k_subnet + "\", \"gateway\": \"" + k_gateway + "\"}]]}}]}\n";
}

}  // namespace

std::string network_ruleset(const std::vector<std::string>& allow, const std::vector<std::string>& resolvers) {
    const std::string in = std::string("    iifname \"") + k_bridge + "\" ";
    std::string s = "table inet hookyard {}\ndelete table inet hookyard\ntable inet hookyard {\n";
    s += "  chain input {\n    type filter hook input priority -10; policy accept;\n";
    s += in + "ct state established,related accept\n" + accepts(allow, resolvers) + in + "drop\n  }\n";
    s += "  chain forward {\n    type filter hook forward priority -10; policy accept;\n";
    s += accepts(allow, resolvers);
    s += in + "ip daddr { " + k_blocked4 + " } drop\n";
    s += in + "ip6 daddr { " + k_blocked6 + " } drop\n  }\n";
    // NAT for the bridge here, once, instead of the bridge plugin's ipMasq: that one runs iptables several
    // times for every RUN step (adding and removing a chain per container), and leaves the chain behind
    // when buildah is killed.
    s += "  chain postrouting {\n    type nat hook postrouting priority 100; policy accept;\n";
    s += std::string("    ip saddr ") + k_subnet + " oifname != \"" + k_bridge + "\" masquerade\n  }\n}\n";
    return s;
}

std::vector<std::string> resolvers_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string key, addr;
        if (!(words >> key >> addr) || key != "nameserver") continue;
        if (addr.rfind("127.", 0) == 0 || addr == "::1") continue;
        if (addr.find_first_not_of("0123456789abcdefABCDEF.:") != std::string::npos) continue;
        out.push_back(addr);
    }
    return out;
}

util::Result<FilteredNetwork> prepare_filtered_network(const std::string& run_dir,
                                                       const std::vector<std::string>& allow,
                                                       const std::map<std::string, std::string>& env) {
    using util::ErrorKind;
    const std::string nft = find_program("nft", env);
    if (nft.empty()) {
        return util::make_error(ErrorKind::not_found,
                                "builder.network.mode private needs nft: install the Debian package nftables "
                                "(scripts/setup does), or set builder.network.mode: none");
    }
    std::string plugin_dir;
    std::error_code ec;
    for (const char* dir : k_cni_plugin_dirs) {
        if (plugin_dir.empty() && fs::exists(fs::path(dir) / "bridge", ec)) plugin_dir = dir;
    }
    if (plugin_dir.empty()) {
        return util::make_error(ErrorKind::not_found,
                                "builder.network.mode private needs the CNI bridge plugin: install the Debian "
                                "package containernetworking-plugins, or set builder.network.mode: none");
    }
    std::ifstream resolv("/etc/resolv.conf");
    std::stringstream text;
    text << resolv.rdbuf();
    const fs::path dir = fs::path(run_dir) / "sandbox";
    const fs::path rules = dir / "hookyard.nft";
    const std::string network_section = "[network]\nnetwork_backend = \"cni\"\ncni_plugin_dirs = [\"" + plugin_dir +
                                        "\"]\nnetwork_config_dir = \"" + (dir / "cni").string() +
                                        "\"\ndefault_network = \"" + k_network + "\"\n";
    auto conf = write_containers_conf(dir.string(), network_section);
    if (!conf || !write_text(dir / "cni" / "hookyard.conflist", cni_conflist()) ||
        !write_text(rules, network_ruleset(allow, resolvers_of(text.str())))) {
        return util::make_error(ErrorKind::internal, "cannot write the sandbox network config under " + dir.string());
    }
    FilteredNetwork net{k_network, *conf};
    std::string output;
    const CancelSignal never;
    const ChildLimits limits{std::chrono::steady_clock::now() + k_nft_timeout, std::chrono::milliseconds(1000)};
    const auto outcome = run_child(
        {{nft, "-f", rules.string()}, env, "", {}}, [&](std::string_view line) { output += std::string(line) + " "; },
        limits, never);
    if (!outcome || !outcome->ok()) {
        return util::make_error(ErrorKind::internal, "nft -f " + rules.string() +
                                                         " failed: " + (outcome ? output : outcome.error().message) +
                                                         "; the service needs CAP_NET_ADMIN (run it as root), or "
                                                         "set builder.network.mode: none");
    }
    return net;
}

}  // namespace hookyard::pipeline
