#pragma once
// Image platforms (os/arch[/variant], as in `docker buildx --platform`): names, validation, the host's, and
// which platforms a rule builds (rule `platforms:`, else `builder.platforms:`, else the host's alone).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.hpp"
#include "config/yaml_reader.hpp"

namespace hookyard::config {

struct Platform {
    std::string os;       // linux
    std::string arch;     // GOARCH names: amd64, arm64, arm, 386, ppc64le, s390x, riscv64, mips64le
    std::string variant;  // arm: v5|v6|v7, arm64: v8; empty when none
    // "linux/arm/v7"; "linux/amd64" without a variant.
    std::string text() const;
};

// Parses "os/arch[/variant]" (lower case). Errors are a message naming the fix ("aarch64 is not an OCI
// architecture name; use linux/arm64").
std::optional<Platform> parse_platform(std::string_view text, std::string* error = nullptr);

// The platform this process runs on (linux/amd64 on x86_64, linux/arm64 on aarch64, …).
Platform host_platform();

// The platforms a build of `rule` is for: the rule's, else builder.platforms. Empty means "the host's
// only": a single-platform build exactly as without the feature (no --platform, a plain manifest).
std::vector<std::string> platforms_for(const BuilderConfig& builder, const Rule* rule);

// True when `platforms` asks for more than a plain build of the host's platform.
bool is_multi_platform(const std::vector<std::string>& platforms);

// Reads the list at `key` of mapping `n` (e.g. a rule's platforms:) into `out`, normalised; a malformed or
// repeated name is reported at its line as "<where>.platforms: …".
void read_platforms(YamlReader& reader, const YAML::Node& n, const std::string& where, std::vector<std::string>& out);

// Reads a registry's manifest_format: (oci | docker) at mapping `n` into `out`; anything else is reported.
void read_manifest_format(YamlReader& reader, const YAML::Node& n, const std::string& where, ManifestFormat& out);

}  // namespace hookyard::config
