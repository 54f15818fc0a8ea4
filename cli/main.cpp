// hookyard: the command line. Dispatches to one function per subcommand (src/cmd_*.cpp).

#include <cstdio>
#include <cstring>
#include <string_view>

#include "cli/commands.hpp"

namespace {

struct Command {
    const char* name;
    const char* usage;
    int (*run)(const hookyard::cli::Args&);
};

const Command k_commands[] = {
    {"config", "config check -c FILE          validate a config; exit 0 valid, 2 with FILE:LINE: messages",
     hookyard::cli::cmd_config},
    {"build", "build -c FILE --repo owner/name --ref REF [--commit SHA] [--verbose]   one build in the foreground",
     hookyard::cli::cmd_build},
    {"serve", "serve -c FILE                 run the service: GitHub webhooks, REST API, /metrics", hookyard::cli::cmd_serve},
    {"checkout", "checkout --url U --ref R --dest DIR --mirror-dir D   fetch + check out one commit (no build)",
     hookyard::cli::cmd_checkout},
    {"push", "push OCI_LAYOUT_DIR IMAGE_REF... [-c FILE]   push an OCI layout with hookyard's registry client", hookyard::cli::cmd_push},
    {"build-local", "build-local --context DIR --layout DIR   build a local directory into an OCI layout (no push)",
     hookyard::cli::cmd_build_local},
};

void print_help() {
    std::printf("hookyard — self-hosted automated image builder (GitHub push → build → registry → webhooks)\n\n"
                "usage: hookyard <command> [options]\n\ncommands:\n");
    for (const auto& c : k_commands) std::printf("  hookyard %s\n", c.usage);
    std::printf("\nhookyard <command> --help shows a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
        std::strcmp(argv[1], "help") == 0) {
        print_help();
        return argc < 2 ? 2 : 0;
    }
    hookyard::cli::Args args(argv + 1, argv + argc);
    for (const auto& c : k_commands) {
        if (args[0] == c.name) return c.run(args);
    }
    std::fprintf(stderr, "hookyard: unknown command '%s'; run hookyard --help\n", argv[1]);
    return 2;
}
