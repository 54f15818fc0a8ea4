#pragma once
// Tags rendered once a build's commit is known. A trigger build is queued before checkout resolves its branch
// head, so a template with {sha} renders again then, and the guard that no two running builds push one
// image:tag at once (the claim's) is applied again to the tags it now has.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.hpp"
#include "pipeline/cancel.hpp"
#include "storage/store.hpp"
#include "util/result.hpp"

namespace hookyard::pipeline {

struct CommitTags {
    std::vector<std::string> tags;
    std::vector<std::string> sanitized_tags;
};

// The tags `build` pushes now that `commit` is known: the stored ones when it was queued with its commit, else
// its rule's template rendered with `commit` and the time now. invalid_input naming the reason when no tag
// renders (a template whose variables are empty here, e.g. {tag} on a branch). Pure.
util::Result<CommitTags> tags_for_commit(const config::RepositoryConfig& repo, const storage::Build& build,
                                         const std::string& commit);

// Returns once no other running build pushes one of `build`'s image references (polling the store), or
// canceled when `token` is; `log` is told once what it waits for. Of two builds that both render their tags at
// checkout (trigger_url, api), only the newer waits. Errors come from the store.
util::Status wait_for_tag_pushers(storage::Store& store, const storage::Build& build, const CancelToken& token,
                                  const std::function<void(std::string_view)>& log);

// Applies tags_for_commit to `build` at checkout: when they changed, stores them (Store::set_tags), logs them
// and waits for older pushers of them (wait_for_tag_pushers). Errors name the reason no tag renders, or come
// from the store; canceled when `token` is.
util::Status render_commit_tags(storage::Store& store, const config::RepositoryConfig& repo, storage::Build& build,
                                const std::string& commit, const CancelToken& token,
                                const std::function<void(std::string_view)>& log);

}  // namespace hookyard::pipeline
