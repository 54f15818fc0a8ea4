#include "pipeline/executor/platforms.hpp"

#include <array>
#include <fstream>
#include <set>
#include <utility>

namespace hookyard::pipeline {
namespace {

// GOARCH → the machine name in QEMU's handler names (qemu-user-static registers qemu-<machine>).
constexpr std::array<std::pair<std::string_view, std::string_view>, 8> k_qemu_machines = {{{"amd64", "x86_64"},
                                                                                           {"arm64", "aarch64"},
                                                                                           {"arm", "arm"},
                                                                                           {"386", "i386"},
                                                                                           {"ppc64le", "ppc64le"},
                                                                                           {"s390x", "s390x"},
                                                                                           {"riscv64", "riscv64"},
                                                                                           {"mips64le", "mips64el"}}};

std::string qemu_machine(const std::string& arch) {
    for (const auto& [goarch, machine] : k_qemu_machines) {
        if (arch == goarch) return std::string(machine);
    }
    return arch;
}

// 64-bit x86 and ARM CPUs run their 32-bit siblings' binaries without emulation.
bool runs_natively(const std::string& host_arch, const std::string& arch) {
    return arch == host_arch || (host_arch == "amd64" && arch == "386") || (host_arch == "arm64" && arch == "arm");
}

}  // namespace

std::map<std::string, std::string> platform_build_args(const config::Platform& target, const config::Platform& build) {
    return {{"TARGETPLATFORM", target.text()}, {"TARGETOS", target.os},         {"TARGETARCH", target.arch},
            {"TARGETVARIANT", target.variant}, {"BUILDPLATFORM", build.text()}, {"BUILDOS", build.os},
            {"BUILDARCH", build.arch}};
}

PlatformSupport::PlatformSupport(std::string binfmt_dir) : m_binfmt_dir(std::move(binfmt_dir)) {}

bool PlatformSupport::can_run(const config::Platform& platform) const {
    if (runs_natively(config::host_platform().arch, platform.arch)) return true;
    // A handler file's first line is "enabled" or "disabled".
    std::ifstream handler(m_binfmt_dir + "/qemu-" + qemu_machine(platform.arch));
    std::string state;
    return handler && std::getline(handler, state) && state == "enabled";
}

util::Status PlatformSupport::check(const std::vector<std::string>& platforms) const {
    for (const auto& text : platforms) {
        std::string error;
        const auto platform = config::parse_platform(text, &error);
        if (!platform) return util::make_error(util::ErrorKind::invalid_input, error);
        if (can_run(*platform)) continue;
        return util::make_error(
            util::ErrorKind::invalid_input,
            "platform " + text + " cannot be built on this " + config::host_platform().text() + " host: no enabled " +
                "QEMU handler qemu-" + qemu_machine(platform->arch) + " in " + m_binfmt_dir +
                "; install the Debian package qemu-user-static (with binfmt-support) and run update-binfmts --enable");
    }
    return {};
}

std::vector<std::string> PlatformSupport::warnings(const config::Config& config) const {
    std::set<std::string> platforms(config.builder.platforms.begin(), config.builder.platforms.end());
    for (const auto& repo : config.repositories) {
        for (const auto& rule : repo.rules) platforms.insert(rule.platforms.begin(), rule.platforms.end());
    }
    std::vector<std::string> lines;
    for (const auto& platform : platforms) {
        if (auto st = check({platform}); !st) lines.push_back("WARNING: " + st.error().message);
    }
    return lines;
}

std::string PlatformSupport::describe() const {
    const std::string host_arch = config::host_platform().arch;
    std::string out;
    for (const auto& [goarch, machine] : k_qemu_machines) {
        const auto platform = config::parse_platform("linux/" + std::string(goarch));
        if (!platform || !can_run(*platform)) continue;
        if (!out.empty()) out += ", ";
        out += platform->text() + (runs_natively(host_arch, platform->arch) ? "" : " (QEMU)");
    }
    return out;
}

}  // namespace hookyard::pipeline
