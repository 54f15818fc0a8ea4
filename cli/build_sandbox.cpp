#include "cli/build_sandbox.hpp"

#include "config/builder.hpp"
#include "pipeline/executor/buildah_env.hpp"
#include "pipeline/executor/sandbox_setup.hpp"
#include "util/log.hpp"

namespace hookyard::cli {

util::Result<pipeline::SandboxOptions> start_sandbox(const config::Config& cfg) {
    for (const auto& line : config::sandbox_warnings(cfg)) util::log_warn("sandbox", line);
    auto prepared = pipeline::prepare_sandbox(cfg, pipeline::buildah_options_from_environment());
    if (!prepared) {
        return util::make_error(prepared.error().kind, "cannot isolate builds: " + prepared.error().message);
    }
    for (const auto& line : prepared->notes) util::log_info("sandbox", line);
    for (const auto& line : prepared->warnings) util::log_warn("sandbox", "WARNING: " + line);
    util::log_info("sandbox", "RUN steps: " + pipeline::describe(prepared->options));
    return prepared->options;
}

}  // namespace hookyard::cli
