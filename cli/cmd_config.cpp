// hookyard config check -c FILE

#include <cstdio>

#include "config/loader.hpp"
#include "cli/commands.hpp"

namespace hookyard::cli {

std::string config_path(const Args& args) {
    for (std::size_t i = 1; i < args.size(); ++i) {
        if ((args[i] == "-c" || args[i] == "--config") && i + 1 < args.size()) return args[i + 1];
        if (args[i].rfind("--config=", 0) == 0) return args[i].substr(9);
    }
    return "";
}

int cmd_config(const Args& args) {
    const bool help = args.size() > 1 && (args.back() == "--help" || args.back() == "-h");
    if (help || args.size() < 2 || args[1] != "check" || config_path(args).empty()) {
        std::fprintf(help ? stdout : stderr, "usage: hookyard config check -c FILE\n");
        return help ? 0 : 2;
    }
    const auto outcome = config::load_config_file(config_path(args));
    if (!outcome.config) {
        for (const auto& d : outcome.diagnostics) std::fprintf(stderr, "%s\n", d.str().c_str());
        std::fprintf(stderr, "%zu problem(s) found\n", outcome.diagnostics.size());
        return 2;
    }
    std::printf("%s\n", config::summarize(*outcome.config).c_str());
    return 0;
}

}  // namespace hookyard::cli
