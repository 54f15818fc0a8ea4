// hookyard config check -c FILE

#include <cstdio>

#include "cli/commands.hpp"
#include "cli/config_file.hpp"
#include "config/builder.hpp"
#include "config/loader.hpp"
#include "pipeline/executor/platforms.hpp"

namespace hookyard::cli {

int cmd_config(const Args& args) {
    // Unknown flags are ignored, as they always were; a missing -c or "check" is a usage error.
    const auto parsed = parse_args(args, {{{"--config", "-c"}}});
    const std::string path = parsed.value("--config");
    if (parsed.help || parsed.positionals.empty() || parsed.positionals.front() != "check" || path.empty()) {
        return print_usage("usage: hookyard config check -c FILE\n", parsed.help);
    }
    const auto cfg = load_config_or_report(path, /*count_problems=*/true);
    if (!cfg) return 2;
    std::printf("%s\n", config::summarize(*cfg).c_str());
    // Valid, but worth an operator's attention: unisolated RUN steps, hooks running on the host.
    for (const auto& line : config::sandbox_warnings(*cfg)) std::fprintf(stderr, "%s\n", line.c_str());
    // Configured platforms this host cannot build (no QEMU handler), naming the package to install.
    for (const auto& line : pipeline::PlatformSupport().warnings(*cfg)) std::fprintf(stderr, "%s\n", line.c_str());
    return 0;
}

}  // namespace hookyard::cli
