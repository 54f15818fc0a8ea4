#pragma once
// Turning a planned build (config/rules.hpp) into the record the store queues.

#include "config/model.hpp"
#include "config/rules.hpp"
#include "storage/records.hpp"

namespace hookyard::storage {

// The queued build for `plan` of `repo` on the full `ref`: image, tags, Dockerfile, context and build args
// from the plan, the clone URL from the repository's config (callers with a payload may override it),
// commit/pusher/message left for the caller. Pure.
NewBuild make_new_build(const config::RepositoryConfig& repo, const config::PlannedBuild& plan, const std::string& ref);

// The build a retry of `old` queues: the same commit, rule, image and tags, triggered as `retry of #N`,
// never reusing an image.
NewBuild retry_of(const Build& old);

}  // namespace hookyard::storage
