#include "config/builder.hpp"

#include <arpa/inet.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <initializer_list>
#include <utility>

namespace hookyard::config {
namespace {

const std::vector<std::string> k_builder_keys = {"engine",
                                                 "concurrency",
                                                 "timeout",
                                                 "cache",
                                                 "keep_failed_workdirs",
                                                 "max_log_size",
                                                 "min_free_space",
                                                 "cache_max_size",
                                                 "pull",
                                                 "isolation",
                                                 "network",
                                                 "limits",
                                                 "platforms",
                                                 "platform_parallelism"};
const std::vector<std::string> k_network_keys = {"mode", "allow"};
const std::vector<std::string> k_limits_keys = {"memory", "pids", "cpus"};

void parse_network(YamlReader& r, const YAML::Node& n, BuilderNetwork& net) {
    if (!n || !r.expect_map(n, "builder.network")) return;
    r.check_keys(n, k_network_keys, "builder.network");
    read_choice(r, n, "mode", "builder.network.mode", {{"private", NetworkMode::filtered}, {"none", NetworkMode::none}},
                net.mode);
    std::vector<std::string> allow;
    r.read(n, "allow", allow);
    for (const auto& text : allow) {
        const auto cidr = parse_cidr(text);
        if (!cidr) {
            r.diags().add(YamlReader::line_of(n["allow"]),
                          "builder.network.allow: '" + text + "' is not a CIDR; write e.g. 10.1.2.0/24 or 10.1.2.3");
            continue;
        }
        net.allow.push_back(cidr->text());
    }
}

void parse_limits(YamlReader& r, const YAML::Node& n, BuilderLimits& limits) {
    if (!n || !r.expect_map(n, "builder.limits")) return;
    r.check_keys(n, k_limits_keys, "builder.limits");
    r.read_size(n, "memory", limits.memory);
    r.read(n, "pids", limits.pids, 16, 4194304);
    if (const auto node = n["cpus"]) {
        const std::string text = node.IsScalar() ? node.Scalar() : "";
        char* end = nullptr;
        const double cpus = std::strtod(text.c_str(), &end);
        if (text.empty() || end == nullptr || *end != '\0' || !std::isfinite(cpus) || cpus < 0.01 || cpus > 1024) {
            r.diags().add(YamlReader::line_of(node), "builder.limits.cpus must be a number of CPUs like 2 or 0.5");
        } else {
            limits.cpus = cpus;
        }
    }
}

}  // namespace

const char* to_string(Isolation i) { return i == Isolation::oci ? "oci" : "chroot"; }

std::optional<Cidr> parse_cidr(std::string_view text) {
    const auto slash = text.find('/');
    const std::string addr(text.substr(0, slash));
    std::array<unsigned char, 16> bytes{};
    Cidr cidr;
    cidr.v6 = addr.find(':') != std::string::npos;
    if (::inet_pton(cidr.v6 ? AF_INET6 : AF_INET, addr.c_str(), bytes.data()) != 1) return std::nullopt;
    const int max = cidr.v6 ? 128 : 32;
    cidr.prefix = max;
    if (slash != std::string_view::npos) {
        const std::string prefix(text.substr(slash + 1));
        if (prefix.empty() || prefix.size() > 3 || prefix.find_first_not_of("0123456789") != std::string::npos) {
            return std::nullopt;
        }
        cidr.prefix = std::stoi(prefix);
        if (cidr.prefix > max) return std::nullopt;
    }
    for (int bit = cidr.prefix; bit < max; ++bit) {
        bytes[static_cast<std::size_t>(bit / 8)] &= static_cast<unsigned char>(~(0x80U >> (bit % 8)));
    }
    char buf[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(cidr.v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
    cidr.address = buf;
    return cidr;
}

void parse_builder_sandbox(YamlReader& reader, const YAML::Node& n, BuilderConfig& b) {
    read_choice(reader, n, "isolation", "builder.isolation", {{"oci", Isolation::oci}, {"chroot", Isolation::chroot}},
                b.isolation);
    parse_network(reader, n["network"], b.network);
    parse_limits(reader, n["limits"], b.limits);
}

void parse_builder(YamlReader& r, const YAML::Node& n, BuilderConfig& b) {
    if (!n || !r.expect_map(n, "builder")) return;
    r.check_keys(n, k_builder_keys, "builder");
    r.read(n, "engine", b.engine);
    r.read(n, "concurrency", b.concurrency, 1, 256);
    r.read(n, "timeout", b.timeout);
    read_platforms(r, n, "builder", b.platforms);
    r.read(n, "platform_parallelism", b.platform_parallelism, 1, 64);
    r.read(n, "cache", b.cache);
    r.read(n, "keep_failed_workdirs", b.keep_failed_workdirs);
    r.read_size(n, "max_log_size", b.max_log_size);
    r.read_size(n, "min_free_space", b.min_free_space);
    r.read_size(n, "cache_max_size", b.cache_max_size);
    read_choice<std::string>(r, n, "pull", "builder.pull",
                             {{"always", "always"}, {"missing", "missing"}, {"never", "never"}}, b.pull);
    parse_builder_sandbox(r, n, b);
    if (b.engine != "buildah") {
        r.diags().add(YamlReader::line_of(n["engine"]),
                      "builder.engine '" + b.engine + "' is not supported; use buildah");
    }
}

std::vector<std::string> sandbox_warnings(const Config& c) {
    std::vector<std::string> lines;
    if (c.builder.isolation == Isolation::chroot) {
        lines.push_back(
            "WARNING: builder.isolation is chroot: RUN steps share the host's processes and network; any "
            "Dockerfile can read other builds' command lines and reach services on 127.0.0.1, and "
            "builder.network and builder.limits do not apply. Use isolation: oci (the default) on a shared "
            "builder.");
    }
    for (const auto& repo : c.repositories) {
        if (repo.hooks) {
            lines.push_back("WARNING: repository " + repo.github +
                            " has hooks: true: its hooks/ scripts run on the host as the service user, "
                            "outside the sandbox");
        }
    }
    return lines;
}

}  // namespace hookyard::config
