// hookyard prune -c FILE [--dry-run]: one retention run now, as serve's pruning job does every
// retention.interval (see storage/retention.hpp).

#include <cstdio>
#include <filesystem>

#include "cli/commands.hpp"
#include "cli/config_file.hpp"
#include "storage/retention.hpp"

namespace hookyard::cli {

int cmd_prune(const Args& args) {
    const auto parsed = parse_args(args, {{{"--config", "-c"}, bool_flag("--dry-run")}});
    const std::string path = parsed.value("--config");
    if (parsed.help || path.empty() || !parsed.problems.empty()) {
        return print_usage(
            "usage: hookyard prune -c FILE [--dry-run]\n"
            "  removes what retention: lets go (old builds with their logs, stages, notifications,\n"
            "  attempts and callbacks; old deliveries; expired kept/ work dirs); --dry-run counts only\n",
            parsed.help);
    }
    const auto cfg = load_config_or_report(path);
    if (!cfg) return 2;
    std::error_code ec;
    std::filesystem::create_directories(cfg->data_dir, ec);
    auto store = storage::open_store(cfg->storage);
    if (!store) {
        std::fprintf(stderr, "hookyard: %s\n", store.error().message.c_str());
        return 1;
    }
    const bool dry_run = parsed.has("--dry-run");
    auto r = storage::run_retention(**store, *cfg, dry_run);
    if (!r) {
        std::fprintf(stderr, "hookyard: prune failed: %s\n", r.error().message.c_str());
        return 1;
    }
    std::printf("%s %lld builds, %lld deliveries (%lld rows), %lld kept work dirs\n",
                dry_run ? "would remove" : "removed", static_cast<long long>(r->store.builds),
                static_cast<long long>(r->store.deliveries), static_cast<long long>(r->store.rows),
                static_cast<long long>(r->kept_workdirs));
    return 0;
}

}  // namespace hookyard::cli
