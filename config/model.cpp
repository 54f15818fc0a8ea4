#include "config/model.hpp"

#include <algorithm>
#include <cctype>

namespace hookyard::config {

const char* to_string(SourceType t) { return t == SourceType::branch ? "branch" : "tag"; }

namespace {
bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}
}  // namespace

const RepositoryConfig* Config::find_repository(std::string_view full_name) const {
    for (const auto& repo : repositories) {
        if (iequals(repo.github, full_name)) return &repo;
    }
    return nullptr;
}

const RegistryConfig* Config::registry_for(const RepositoryConfig& repo) const {
    const auto it = registries.find(repo.registry);
    return it == registries.end() ? nullptr : &it->second;
}

const GitCredentials& Config::git_for(const RepositoryConfig& repo) const { return repo.git.empty() ? git : repo.git; }

}  // namespace hookyard::config
