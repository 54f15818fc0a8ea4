#include "config/platform.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <utility>

#include "util/split.hpp"

namespace hookyard::config {
namespace {

constexpr std::array<std::string_view, 8> k_arches = {"amd64",   "arm64", "arm",     "386",
                                                      "ppc64le", "s390x", "riscv64", "mips64le"};
// Machine names (uname -m) people write by habit, and the OCI name to use instead.
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> k_machine_names = {
    {{"x86_64", "amd64"}, {"aarch64", "arm64"}, {"armhf", "arm/v7"}, {"i386", "386"}, {"i686", "386"}}};

bool valid_variant(std::string_view arch, std::string_view variant) {
    if (variant.empty()) return true;
    if (arch == "arm") return variant == "v5" || variant == "v6" || variant == "v7";
    if (arch == "arm64") return variant == "v8";
    return false;
}

}  // namespace

std::string Platform::text() const { return os + "/" + arch + (variant.empty() ? "" : "/" + variant); }

std::optional<Platform> parse_platform(std::string_view text, std::string* error) {
    const auto fail = [&](std::string message) -> std::optional<Platform> {
        if (error) *error = std::move(message);
        return std::nullopt;
    };
    const auto parts = util::split(text, '/');
    if (parts.size() < 2 || parts.size() > 3) {
        return fail("'" + std::string(text) + "' is not a platform; write os/arch[/variant], e.g. linux/arm64");
    }
    Platform p{std::string(parts[0]), std::string(parts[1]), parts.size() == 3 ? std::string(parts[2]) : ""};
    if (p.os != "linux") return fail("platform '" + std::string(text) + "': only os linux is built (buildah)");
    for (const auto& [machine, name] : k_machine_names) {
        if (p.arch == machine) {
            return fail("platform '" + std::string(text) + "': " + p.arch +
                        " is not an OCI architecture name; use linux/" + std::string(name));
        }
    }
    if (std::find(k_arches.begin(), k_arches.end(), p.arch) == k_arches.end()) {
        return fail("platform '" + std::string(text) +
                    "': unknown architecture; use one of amd64, arm64, arm, 386, ppc64le, s390x, riscv64, mips64le");
    }
    if (!valid_variant(p.arch, p.variant)) {
        return fail("platform '" + std::string(text) + "': variant '" + p.variant + "' does not exist for " + p.arch +
                    " (arm: v5, v6, v7; arm64: v8)");
    }
    return p;
}

Platform host_platform() {
    struct utsname u {};
    ::uname(&u);
    const std::string_view machine = u.machine;
    for (const auto& [m, name] : k_machine_names) {
        if (machine == m) {
            const auto parsed = parse_platform("linux/" + std::string(name));
            if (parsed) return *parsed;
        }
    }
    return Platform{"linux", std::string(machine), ""};
}

std::vector<std::string> platforms_for(const BuilderConfig& builder, const Rule* rule) {
    if (rule != nullptr && !rule->platforms.empty()) return rule->platforms;
    return builder.platforms;
}

bool is_multi_platform(const std::vector<std::string>& platforms) {
    return platforms.size() > 1 || (platforms.size() == 1 && platforms.front() != host_platform().text());
}

void read_platforms(YamlReader& reader, const YAML::Node& n, const std::string& where, std::vector<std::string>& out) {
    if (!n["platforms"]) return;
    std::vector<std::string> names;
    reader.read(n, "platforms", names);
    const int line = YamlReader::line_of(n["platforms"]);
    if (names.empty() && n["platforms"].IsSequence()) {
        reader.diags().add(line, where + ".platforms is empty; leave it out to build the host's platform");
    }
    for (const auto& name : names) {
        std::string error;
        const auto platform = parse_platform(name, &error);
        if (!platform) {
            reader.diags().add(line, where + ".platforms: " + error);
            continue;
        }
        if (std::find(out.begin(), out.end(), platform->text()) != out.end()) {
            reader.diags().add(line, where + ".platforms lists " + platform->text() + " twice");
            continue;
        }
        out.push_back(platform->text());
    }
}

void read_manifest_format(YamlReader& reader, const YAML::Node& n, const std::string& where, ManifestFormat& out) {
    read_choice(reader, n, "manifest_format", where + ": manifest_format",
                {{"oci", ManifestFormat::oci}, {"docker", ManifestFormat::docker}}, out);
}

}  // namespace hookyard::config
