#pragma once
// The ui: section of the config: who may look at the web dashboard and who may act on it.
//   ui: { public: false, session_secret: ${HOOKYARD_UI_SECRET}, session_ttl: 12h,
//         users: [{name: alice, token_file: /run/secrets/alice, role: operator}] }

#include <chrono>
#include <string>
#include <vector>

namespace YAML {
class Node;
}  // namespace YAML

namespace hookyard::config {

class YamlReader;

// viewer reads every page; operator also triggers, cancels and retries builds.
enum class UiRole { viewer, operator_role };
const char* to_string(UiRole r);

struct UiUser {
    std::string name;
    std::string token;  // what the user types on /login; secret
    UiRole role = UiRole::viewer;
    int line = 0;
};

struct UiConfig {
    // Anyone may read the pages without logging in (acting still needs an operator login).
    bool public_read = false;
    std::vector<UiUser> users;
    // Keys the session cookies and CSRF tokens; instances sharing it accept each other's cookies. Empty =
    // derived from server.webhook_secret (which every instance of one deployment shares). Secret.
    std::string session_secret;
    std::chrono::seconds session_ttl{12 * 3600};
};

// Reads the ui: mapping `n` (absent = defaults) into `ui`; problems go to the reader's diagnostics.
void parse_ui(YamlReader& reader, const YAML::Node& n, UiConfig& ui);

}  // namespace hookyard::config
