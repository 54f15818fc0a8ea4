#pragma once
// Building for other platforms: the build args BuildKit sets automatically (so that
// `FROM --platform=$BUILDPLATFORM … ARG TARGETARCH` Dockerfiles work), and which platforms this host can run
// RUN steps of (natively, or under QEMU user emulation registered in binfmt_misc).

#include <map>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "config/platform.hpp"
#include "util/result.hpp"

namespace hookyard::pipeline {

// TARGETPLATFORM, TARGETOS, TARGETARCH, TARGETVARIANT (empty when none), BUILDPLATFORM, BUILDOS, BUILDARCH,
// as `docker buildx build --platform` sets them, for a build of `target` on `build` (the host).
std::map<std::string, std::string> platform_build_args(const config::Platform& target, const config::Platform& build);

// What this host can run. Reads binfmt_misc at each call (cheap: a few small files), so a handler registered
// after start-up counts. Thread-safe.
class PlatformSupport {
public:
    // `binfmt_dir` is where the kernel lists binfmt_misc handlers; tests point it at a directory of their own.
    explicit PlatformSupport(std::string binfmt_dir = "/proc/sys/fs/binfmt_misc");

    // True when RUN steps of `platform` run here: the host's architecture (or one it runs natively, 386 on
    // amd64, arm on arm64), or an enabled qemu-<machine> handler in binfmt_dir.
    bool can_run(const config::Platform& platform) const;
    // Success when every platform (os/arch[/variant] text) can run; otherwise invalid_input naming the first
    // that cannot, the missing handler, and the fix (install the Debian package qemu-user-static).
    util::Status check(const std::vector<std::string>& platforms) const;
    // One line per configured platform (builder.platforms and every rule's) that cannot be built here, for
    // `config check` and the start-up log; empty when all can.
    std::vector<std::string> warnings(const config::Config& config) const;
    // The platforms of the known architectures this host can run, e.g. "linux/amd64, linux/arm64 (QEMU)".
    std::string describe() const;

private:
    std::string m_binfmt_dir;
};

}  // namespace hookyard::pipeline
