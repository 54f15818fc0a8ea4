#pragma once
// One fetch into a bare mirror, and verifying the commit to build against it. Internal to
// pipeline/checkout; MirrorCache adds locking and retries around these.

#include <git2.h>

#include <chrono>
#include <string>

#include "pipeline/checkout/git_auth.hpp"
#include "pipeline/checkout/mirror_cache.hpp"
#include "util/result.hpp"

namespace hookyard::pipeline {

// Connects to `url`, resolves `ref` against the advertised refs (full name; short name as branch then
// tag; "" = all branches), downloads it and every tag, and updates the mirror's refs; refs under refs/heads/
// and refs/tags/ the server no longer lists are deleted (prune_deleted_refs). Returns the full
// ref name fetched ("" for all branches) and adds transfer counts to `stats`. When nothing arrives for
// `stall_timeout` the fetch is abandoned with ErrorKind::timeout. Not thread-safe per mirror: the
// caller holds the mirror lock.
util::Result<std::string> fetch_into_mirror(git_repository* repo, const std::string& url, const std::string& ref,
                                            const GitAuth& auth, std::chrono::milliseconds stall_timeout,
                                            FetchStats& stats, CancelToken* cancel = nullptr);

// Checks that `commit` (40 hex, or "" for the ref's tip) is in the mirror and, when `ref` is not empty,
// is the tip of `ref` or an ancestor of it. Returns the commit's sha. Errors: not_found naming the sha
// (or the ref when it is missing locally), invalid_input for a malformed sha.
util::Result<std::string> verify_commit(git_repository* repo, const std::string& ref, const std::string& commit,
                                        const std::string& url);

}  // namespace hookyard::pipeline
