#include "config/secret_policy.hpp"

#include "config/yaml_reader.hpp"

namespace hookyard::config {
namespace {

// The line of `key` (or `key_file`) under `parent`, else of `parent`, else 1.
int line_of_key(const YAML::Node& parent, const std::string& key) {
    if (!parent || !parent.IsMap()) return 1;
    if (const auto n = parent[key]) return YamlReader::line_of(n);
    if (const auto n = parent[key + "_file"]) return YamlReader::line_of(n);
    return YamlReader::line_of(parent);
}

// `chosen`: a secret the operator picks (not one a registry or GitHub issued), so length is theirs to fix.
void check_one(Diagnostics& diags, int line, const std::string& what, const std::string& value, bool chosen = true) {
    if (value.empty()) return;
    if (value.rfind("change-me", 0) == 0) {
        diags.add(line, what +
                            " is the placeholder 'change-me' from an example; set a random secret, e.g. "
                            "from `openssl rand -hex 32`");
    } else if (chosen && value.size() < k_min_secret_length) {
        diags.warn(line, what + " is shorter than " + std::to_string(k_min_secret_length) +
                             " characters; use a random secret, e.g. from `openssl rand -hex 32`");
    }
}

}  // namespace

void check_secrets(const YAML::Node& root, const Config& c, Diagnostics& diags) {
    const auto server = root["server"];
    // A config without repositories (e.g. for `hookyard push`) receives no webhooks.
    if (c.server.webhook_secret.empty() && !c.repositories.empty()) {
        diags.add(line_of_key(server, "webhook_secret"),
                  "server.webhook_secret is not set; GitHub's X-Hub-Signature-256 cannot be verified without it: "
                  "set webhook_secret: \"${GITHUB_WEBHOOK_SECRET}\" (the secret of the GitHub webhook)");
    }
    check_one(diags, line_of_key(server, "webhook_secret"), "server.webhook_secret", c.server.webhook_secret);
    check_one(diags, line_of_key(server, "api_token"), "server.api_token", c.server.api_token);
    check_one(diags, line_of_key(root["github"], "token"), "github.token", c.github.token, false);
    for (const auto& [name, r] : c.registries) {
        check_one(diags, r.line, "the password of registry '" + name + "'", r.password, false);
    }
    for (const auto& r : c.repositories) {
        check_one(diags, r.line, "the trigger_token of " + r.github, r.trigger_token);
    }
    for (const auto& s : c.subscribers) check_one(diags, s.line, "the secret of subscriber '" + s.name + "'", s.secret);
}

}  // namespace hookyard::config
