// hookyard migrate -c FILE: applies the schema migrations of the config's storage: (SQLite or PostgreSQL)
// now, e.g. before rolling a new version out to several instances; serve applies them at start too.

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "cli/commands.hpp"
#include "cli/config_file.hpp"
#include "storage/store.hpp"
#include "util/log.hpp"

namespace hookyard::cli {

namespace {

constexpr const char* k_migrate_usage =
    "usage: hookyard migrate -c FILE\n"
    "  brings the database of storage: (sqlite:PATH or postgresql://…) to this hookyard's schema;\n"
    "  `serve` does the same at start. A database newer than this hookyard is refused, unchanged.\n";

}  // namespace

int cmd_migrate(const Args& args) {
    const auto parsed = parse_args(args, {{{"--config", "-c"}}});
    const bool usable = !parsed.help && parsed.problems.empty() && !parsed.value("--config").empty();
    if (!usable) return print_usage(k_migrate_usage, parsed.help);
    const auto cfg = load_config_or_report(parsed.value("--config"));
    if (!cfg) return 2;
    // A new SQLite file holds secrets and build history: owner-only, as serve creates it.
    const mode_t previous_umask = ::umask(077);
    std::error_code ec;
    std::filesystem::create_directories(cfg->data_dir, ec);
    auto store = storage::open_store(cfg->storage);
    ::umask(previous_umask);
    if (!store) {
        std::fprintf(stderr, "hookyard: %s\n", store.error().message.c_str());
        return 1;
    }
    std::printf("%s is at schema version %d\n", util::redact(cfg->storage).c_str(),
                storage::schema_version_for(cfg->storage));
    return 0;
}

}  // namespace hookyard::cli
