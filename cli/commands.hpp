#pragma once
// One function per subcommand (cli/cmd_*.cpp); each reads its arguments with parse_args (cli/args.hpp;
// args[0] is the subcommand name) and returns the process exit code: 0 success, 1 failure of the
// operation, 2 bad usage or bad config.

#include "cli/args.hpp"

namespace hookyard::cli {

// hookyard config check -c FILE: validates a config and prints its summary.
int cmd_config(const Args& args);
// hookyard serve -c FILE: the service (webhook intake, REST API, metrics) until SIGINT/SIGTERM.
int cmd_serve(const Args& args);
// hookyard build -c FILE --repo owner/name --ref REF [--commit SHA] [--verbose]
int cmd_build(const Args& args);
// hookyard checkout --mirror-dir D --url U --ref R [--commit SHA] --dest DIR: the checkout stage alone.
int cmd_checkout(const Args& args);
// hookyard push OCI_LAYOUT_DIR IMAGE_REF...: pushes an OCI layout with our registry client.
int cmd_push(const Args& args);
// hookyard build-local --context DIR --layout DIR: the build stage alone (buildah → OCI layout), no push.
int cmd_build_local(const Args& args);
// hookyard prune -c FILE [--dry-run]: one retention run now.
int cmd_prune(const Args& args);
// hookyard migrate -c FILE: applies the storage's schema migrations now.
int cmd_migrate(const Args& args);

}  // namespace hookyard::cli
