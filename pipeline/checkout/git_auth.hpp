#pragma once
// Credentials for talking to a git server, and where they came from (for error messages).

#include <string>

#include "config/model.hpp"

namespace hookyard::pipeline {

// Secrets (token, password) are never printed; errors name `credential_name` instead.
// The credential fields are config::GitCredentials' (token sent as basic auth "x-access-token:<token>", the
// way GitHub expects; ssh_known_hosts_file empty = $HOME/.ssh/known_hosts).
struct GitAuth : config::GitCredentials {
    std::string credential_name;  // e.g. "git.token of acme/web"; what errors mention

    // `text` with every occurrence of the token and the password replaced by "***". Pure.
    std::string scrub(std::string text) const;
};

// Builds a GitAuth from configured credentials; `owner` names where they were configured ("acme/web" for
// a repository's own block, "" for the global block), which goes into credential_name. Pure.
GitAuth make_git_auth(const config::GitCredentials& creds, const std::string& owner);

}  // namespace hookyard::pipeline
