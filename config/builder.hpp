#pragma once
// The builder: section of the config (engine, budgets, the build sandbox's isolation, network and limits)
// and what `config check` says about the sandbox.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.hpp"
#include "config/platform.hpp"  // builder.platforms
#include "config/yaml_reader.hpp"

namespace hookyard::config {

// An IPv4 or IPv6 network, as in builder.network.allow.
struct Cidr {
    bool v6 = false;
    std::string address;  // canonical text of the network address, host bits cleared
    int prefix = 0;
    std::string text() const { return address + "/" + std::to_string(prefix); }
};

// "10.0.0.0/8", "2001:db8::/32"; a bare address is a host network (/32, /128). nullopt when malformed.
std::optional<Cidr> parse_cidr(std::string_view text);

// Reads the builder: mapping `n` (absent = defaults) into `b`; problems go to the reader's diagnostics.
void parse_builder(YamlReader& reader, const YAML::Node& n, BuilderConfig& b);

// Reads builder.isolation, builder.network and builder.limits of the builder mapping `n` into `b`.
void parse_builder_sandbox(YamlReader& reader, const YAML::Node& n, BuilderConfig& b);

// What an operator must know about the sandbox: a warning when RUN steps are not isolated (chroot) or have
// no limits, and the repositories whose hooks run on the host. One line each, for `config check` and the log.
std::vector<std::string> sandbox_warnings(const Config& c);

}  // namespace hookyard::config
