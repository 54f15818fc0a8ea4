#pragma once
// The checkout stage: bring the mirror up to date, then materialise exactly the pushed commit (and its
// submodules when asked) in a fresh per-build directory.

#include <string>
#include <vector>

#include "pipeline/checkout/git_auth.hpp"
#include "pipeline/checkout/mirror_cache.hpp"
#include "pipeline/checkout/work_dir.hpp"
#include "util/result.hpp"

namespace hookyard::pipeline {

struct CheckoutRequest {
    std::string repo_key;   // "owner/name": names the mirror
    std::string clone_url;  // the repository's clone_url from the config, else the payload's
    std::string ref;        // the pushed ref ("refs/heads/main", "refs/tags/v1"), or a short name
    std::string commit;     // the pushed commit (`after`); "" = the ref's current head (trigger builds)
    std::string dest_dir;   // the per-build directory to create, e.g. <data_dir>/work/<build id>
    bool submodules = false;  // check out submodules recursively, with the same credentials
    GitAuth auth;
};

// A finished checkout. Destroying it removes the directory unless dir.keep() was called.
struct Checkout {
    WorkDir dir;
    std::string commit;  // the sha checked out (resolved from the ref when the request had none)
    std::string ref;     // the full ref fetched
    FetchStats stats;    // what the superproject's fetch transferred
    std::vector<std::string> submodules;  // paths of the submodules checked out, relative to dir
};

class CheckoutService {
public:
    // `cache` must outlive the service.
    explicit CheckoutService(MirrorCache& cache) : m_cache(cache) {}

    // Updates the mirror (MirrorCache::update), checks the commit out into req.dest_dir (checkout_commit)
    // and, when req.submodules, every submodule recursively at the commit its superproject records, each
    // through its own mirror. On any error the partial directory is removed and the error returned with
    // its kind (see MirrorCache::update; a submodule error names the submodule's path). Thread-safe.
    util::Result<Checkout> checkout(const CheckoutRequest& req);

private:
    util::Status checkout_submodules(const std::string& dir, const std::string& parent_url, const GitAuth& auth,
                                     const std::string& prefix, int depth, std::vector<std::string>& done);

    MirrorCache& m_cache;
};

// Resolves a submodule URL from .gitmodules against its superproject's clone URL: "./x" and "../x" are
// relative to the superproject URL (as git does), anything else is returned unchanged. Pure.
std::string resolve_submodule_url(const std::string& parent_url, const std::string& url);

}  // namespace hookyard::pipeline
