#include "webhook/intake/clone_url.hpp"

#include <cctype>

namespace hookyard::intake {
namespace {

// Lower case, without a trailing "/" or ".git": the forms GitHub and users write for one repository.
std::string normalise(std::string url) {
    for (auto& c : url) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (url.ends_with(".git")) url.resize(url.size() - 4);
    return url;
}

}  // namespace

std::string clone_url_for(const config::Config& config, const config::RepositoryConfig& repo) {
    if (!repo.clone_url.empty()) return repo.clone_url;
    std::string base = config.github.url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base + "/" + repo.github + ".git";
}

util::Status check_payload_clone_url(const config::Config& config, const config::RepositoryConfig& repo,
                                     const std::string& payload_url) {
    if (!repo.clone_url.empty() || payload_url.empty()) return {};
    const std::string expected = clone_url_for(config, repo);
    if (normalise(payload_url) == normalise(expected)) return {};
    return util::make_error(util::ErrorKind::invalid_input,
                            "the payload's repository.clone_url '" + payload_url + "' is not " + expected +
                                " (from github.url); set github.url to your GitHub host, or clone_url for " +
                                repo.github);
}

PayloadRepository find_payload_repository(const config::Config& config, const std::string& repository,
                                          const std::string& payload_url) {
    PayloadRepository out;
    const auto* repo = config.find_repository(repository);
    if (repo == nullptr) {
        out.ignored = "repository " + repository + " is not configured";
    } else if (auto st = check_payload_clone_url(config, *repo, payload_url); !st) {
        out.rejected = st.error().message;
    } else {
        out.repo = repo;
    }
    return out;
}

}  // namespace hookyard::intake
