#pragma once
// Locating the build inside a checkout: the rule's context and Dockerfile, resolved so that nothing
// (.., absolute paths, symlinks) leads outside the checkout.

#include <string>
#include <vector>

#include "util/result.hpp"

namespace hookyard::pipeline {

struct BuildLocation {
    std::string context_dir;     // absolute, symlinks resolved, inside the checkout
    std::string dockerfile;      // absolute, symlinks resolved, inside the checkout, a regular file
    std::string context_rel;     // relative to the repository root ("." for the root)
    std::string dockerfile_rel;  // relative to the repository root
};

// Resolves `context` (relative to the repository root; "/" = the root; "" = the Dockerfile's directory,
// with `dockerfile` then relative to the root) and `dockerfile` (relative to the context; "" =
// "Dockerfile") inside `checkout_root`. Errors, all before any build starts: invalid_input for absolute
// paths, paths that climb out with "..", and symlinks whose target lies outside the checkout;
// not_found for a missing context directory, and for a missing Dockerfile with the path looked for and
// the Dockerfiles that do exist in the repository. Pure apart from reading the filesystem.
util::Result<BuildLocation> locate(const std::string& checkout_root, const std::string& context,
                                   const std::string& dockerfile);

// Every file under `checkout_root` (not following symlinks, skipping .git) named Dockerfile,
// Dockerfile.*, *.Dockerfile or *.dockerfile, relative to the root and sorted; at most `limit`.
std::vector<std::string> find_dockerfiles(const std::string& checkout_root, std::size_t limit = 20);

}  // namespace hookyard::pipeline
