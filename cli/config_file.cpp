#include "cli/config_file.hpp"

#include <cstdio>

#include "config/loader.hpp"

namespace hookyard::cli {

std::optional<config::Config> load_config_or_report(const std::string& path, bool count_problems) {
    auto outcome = config::load_config_file(path);
    for (const auto& w : outcome.warnings) std::fprintf(stderr, "%s\n", w.str().c_str());
    if (!outcome.config) {
        for (const auto& d : outcome.diagnostics) std::fprintf(stderr, "%s\n", d.str().c_str());
        if (count_problems) std::fprintf(stderr, "%zu problem(s) found\n", outcome.diagnostics.size());
    }
    return std::move(outcome.config);
}

}  // namespace hookyard::cli
