#include "pipeline/checkout/git_auth.hpp"

namespace hookyard::pipeline {

namespace {

void replace_all(std::string& text, const std::string& secret) {
    if (secret.size() < 3) return;  // replacing 1–2 characters would shred the message and hide nothing
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 3)) {
        text.replace(pos, secret.size(), "***");
    }
}

}  // namespace

std::string GitAuth::scrub(std::string text) const {
    replace_all(text, token);
    replace_all(text, password);
    return text;
}

GitAuth make_git_auth(const config::GitCredentials& creds, const std::string& owner) {
    GitAuth auth;
    static_cast<config::GitCredentials&>(auth) = creds;
    std::string what = !creds.token.empty()          ? "git.token"
                       : !creds.ssh_key_file.empty() ? "git.ssh_key_file"
                       : !creds.password.empty()     ? "git.username/password"
                                                     : "git (none)";
    auth.credential_name = owner.empty() ? what + " (global)" : what + " of " + owner;
    return auth;
}

}  // namespace hookyard::pipeline
