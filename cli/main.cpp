// hookyard: the command line. Dispatches to one function per subcommand (cli/cmd_*.cpp).

#include <cstdio>
#include <cstring>
#include <string_view>

#include "cli/commands.hpp"

namespace {

// Each command's usage line is in k_help, in this order.
struct Command {
    const char* name;
    int (*run)(const hookyard::cli::Args&);
};

const Command k_commands[] = {
    {"config", hookyard::cli::cmd_config}, {"build", hookyard::cli::cmd_build},
    {"serve", hookyard::cli::cmd_serve},   {"checkout", hookyard::cli::cmd_checkout},
    {"push", hookyard::cli::cmd_push},     {"build-local", hookyard::cli::cmd_build_local},
    {"prune", hookyard::cli::cmd_prune},   {"migrate", hookyard::cli::cmd_migrate},
};

constexpr const char* k_help =
    "hookyard — self-hosted automated image builder (GitHub push → build → registry → webhooks)\n\n"
    "usage: hookyard <command> [options]\n\ncommands:\n"
    "  hookyard config check -c FILE          validate a config; exit 0 valid, 2 with FILE:LINE: messages\n"
    "  hookyard build -c FILE --repo owner/name --ref REF [--commit SHA] [--verbose]   one build in the foreground\n"
    "  hookyard serve -c FILE                 run the service: GitHub webhooks, REST API, /metrics\n"
    "  hookyard checkout --url U --ref R --dest DIR --mirror-dir D   fetch + check out one commit (no build)\n"
    "  hookyard push OCI_LAYOUT_DIR IMAGE_REF... [-c FILE]   push an OCI layout with hookyard's registry client\n"
    "  hookyard build-local --context DIR --layout DIR   build a local directory into an OCI layout (no push)\n"
    "  hookyard prune -c FILE [--dry-run]     remove what retention: lets go, now\n"
    "  hookyard migrate -c FILE               bring the database (SQLite or PostgreSQL) to this schema\n"
    "\nhookyard <command> --help shows a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
        std::strcmp(argv[1], "help") == 0) {
        std::printf("%s", k_help);
        return argc < 2 ? 2 : 0;
    }
    hookyard::cli::Args args(argv + 1, argv + argc);
    for (const auto& c : k_commands) {
        if (args[0] == c.name) return c.run(args);
    }
    std::fprintf(stderr, "hookyard: unknown command '%s'; run hookyard --help\n", argv[1]);
    return 2;
}
