#pragma once
// Image naming across repositories: PrimeHub's shared push repository (HOOKYARD_REGISTRY_PUSH_REPO), and
// the config check that warns when two repositories can overwrite each other's tags.

#include <string>
#include <utility>
#include <vector>

#include "config/model.hpp"

namespace hookyard::config {

// The tag `repo` pushes for rendered tag `tag`: "<image_name>-<tag>" (without a leading '.' or '-', cut to
// 128 characters) when the repository uses the shared push repository (RepositoryConfig::shared_push_repo),
// the way PrimeHub names the images it builds into customImage.pushRepo; `tag` unchanged otherwise. Pure.
std::string final_tag(const RepositoryConfig& repo, const std::string& tag);

// One warning (the later repository's line, the message) for every pair of repositories that push to the
// same image repository with rules that can render the same final tag. Placeholders ({sourceref} of a regex
// rule, {\1}..{\9}, commit variables) count as any text; {sourceref} of a literal source is that name. Pure.
std::vector<std::pair<int, std::string>> shared_tag_warnings(const Config& config);

// True when some string matches both patterns, where '*' matches any text (possibly empty) and every other
// character itself. Pure.
bool patterns_overlap(const std::string& a, const std::string& b);

}  // namespace hookyard::config
