#pragma once
// Where a build clones from. The config's clone_url, when set, is the only source; otherwise the URL is
// derived from github.url and the repository's owner/name. A payload's own URL is never used: anyone
// holding the webhook secret could otherwise point another team's build at their code. It must still
// agree with the derived one, so a misconfigured GitHub Enterprise host is reported instead of ignored.

#include <string>

#include "config/model.hpp"
#include "util/result.hpp"

namespace hookyard::intake {

// repo.clone_url, else "<github.url>/<owner/name>.git".
std::string clone_url_for(const config::Config& config, const config::RepositoryConfig& repo);

// invalid_input with the reason when `payload_url` (repository.clone_url, may be empty = nothing to check)
// names another repository than clone_url_for(); compared ignoring case, a trailing "/" and ".git". Always
// ok when the config sets clone_url (the payload is ignored then).
util::Status check_payload_clone_url(const config::Config& config, const config::RepositoryConfig& repo,
                                     const std::string& payload_url);

// The configured repository a payload names, or why it builds nothing: `ignored` when `repository` is not
// configured (acknowledged: GitHub would show a 4xx as a failing hook), `rejected` when the payload's clone
// URL names another repository (check_payload_clone_url). Exactly one of repo, ignored, rejected is set.
struct PayloadRepository {
    const config::RepositoryConfig* repo = nullptr;
    std::string ignored;
    std::string rejected;
};
PayloadRepository find_payload_repository(const config::Config& config, const std::string& repository,
                                          const std::string& payload_url);

}  // namespace hookyard::intake
