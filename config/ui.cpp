#include "config/ui.hpp"

#include <set>

#include "config/yaml_reader.hpp"

namespace hookyard::config {
namespace {

const std::vector<std::string> k_ui_keys = {"public", "users", "session_secret", "session_secret_file", "session_ttl"};
const std::vector<std::string> k_ui_user_keys = {"name", "token", "token_file", "role"};

// A token shorter than this is guessable through the login form, even rate limited.
constexpr std::size_t k_min_token_bytes = 16;

void parse_ui_user(YamlReader& r, const YAML::Node& n, UiConfig& ui) {
    if (!r.expect_map(n, "each ui.users entry")) return;
    r.check_keys(n, k_ui_user_keys, "a ui user");
    UiUser u{"", "", UiRole::viewer, YamlReader::line_of(n)};
    std::string role = "viewer";
    for (const auto& [key, out] : {std::pair<const char*, std::string*>{"name", &u.name}, {"role", &role}}) {
        r.read(n, key, *out);
    }
    r.read_secret(n, "token", u.token);
    if (u.name.empty()) r.diags().add(u.line, "a ui user has no name; add name: (shown on the pages)");
    if (u.token.size() < k_min_token_bytes) {
        r.diags().add(u.line, "ui user '" + u.name +
                                  "' needs token: (or token_file:) of at least 16 characters, "
                                  "e.g. from `openssl rand -hex 24`");
    }
    if (role == "operator") {
        u.role = UiRole::operator_role;
    } else if (role != "viewer") {
        r.diags().add(YamlReader::line_of(n["role"]), "role must be viewer or operator, not '" + role + "'");
    }
    ui.users.push_back(std::move(u));
}

}  // namespace

const char* to_string(UiRole r) { return r == UiRole::operator_role ? "operator" : "viewer"; }

void parse_ui(YamlReader& r, const YAML::Node& n, UiConfig& ui) {
    if (!n || !r.expect_map(n, "ui")) return;
    r.check_keys(n, k_ui_keys, "ui");
    r.read(n, "public", ui.public_read);
    r.read_secret(n, "session_secret", ui.session_secret);
    r.read(n, "session_ttl", ui.session_ttl);
    if (ui.session_ttl.count() < 60) r.diags().add(YamlReader::line_of(n), "ui.session_ttl must be at least 1m");
    if (const auto users = n["users"]; users && r.expect_sequence(users, "ui.users")) {
        for (const auto& u : users) parse_ui_user(r, u, ui);
    }
    std::set<std::string> tokens;
    std::set<std::string> names;
    for (const auto& u : ui.users) {
        if (!u.token.empty() && !tokens.insert(u.token).second) {
            r.diags().add(u.line, "ui user '" + u.name + "' has the same token as another user; give each its own");
        }
        if (!names.insert(u.name).second) r.diags().add(u.line, "ui user name '" + u.name + "' is used twice");
    }
}

}  // namespace hookyard::config
