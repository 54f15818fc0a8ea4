#pragma once
// The checkout stage: bring the mirror up to date, then materialise exactly the pushed commit (and its
// submodules when asked) in a fresh per-build directory.

#include <memory>
#include <string>
#include <vector>

#include "pipeline/cancel.hpp"
#include "pipeline/checkout/git_auth.hpp"
#include "pipeline/checkout/mirror_cache.hpp"
#include "pipeline/checkout/work_dir.hpp"
#include "pipeline/checkout/work_pool.hpp"
#include "util/result.hpp"

namespace hookyard::pipeline {

// Where submodules may come from (config: git.submodule_hosts, git.allow_local_submodules).
struct SubmodulePolicy {
    std::vector<std::string> extra_hosts;  // hosts besides the superproject's; fetched without credentials
    bool allow_local = false;              // file:// URLs and local paths
};

struct CheckoutRequest {
    std::string repo_key;     // "owner/name": names the mirror
    std::string clone_url;    // the repository's clone_url from the config, else the payload's
    std::string ref;          // the pushed ref ("refs/heads/main", "refs/tags/v1"), or a short name
    std::string commit;       // the pushed commit (`after`); "" = the ref's current head (trigger builds)
    std::string dest_dir;     // the per-build directory to create, e.g. <data_dir>/work/<build id>
    bool submodules = false;  // check out submodules recursively, with the same credentials (same host only)
    GitAuth auth;
    // When set and canceled, the checkout stops within a second (fetches included) with ErrorKind::canceled.
    CancelToken* cancel = nullptr;
    SubmodulePolicy submodule_policy = {};
};

// A finished checkout. Destroying it removes the directory (or parks it in the service's pool) unless
// dir.keep() was called.
struct Checkout {
    WorkDir dir;
    std::string commit;                   // the sha checked out (resolved from the ref when the request had none)
    std::string ref;                      // the full ref fetched
    FetchStats stats;                     // what the superproject's fetch transferred
    bool reused_tree = false;             // an idle tree from the pool was updated instead of writing every file
    std::vector<std::string> submodules;  // paths of the submodules checked out, relative to dir
};

// Materialises one commit of a repository in a work directory. Implementations: libgit2 with a mirror
// cache (make_checkout_service), and a fake in tests/support.
class CheckoutService {
public:
    virtual ~CheckoutService() = default;

    // Updates the mirror (MirrorCache::update), checks the commit out into req.dest_dir (checkout_commit;
    // with a pool and no submodules, an idle tree of the repository is moved there and updated in place
    // instead, and the directory goes back to the pool when the Checkout is destroyed) and, when
    // req.submodules, every submodule recursively at the commit its superproject records, each through its
    // own mirror. req.dest_dir must not exist or be empty (invalid_input otherwise, and it is left alone).
    // On any other error the partial directory is removed and the error returned with its kind (see
    // MirrorCache::update; a submodule error names the submodule's path). Thread-safe.
    virtual util::Result<Checkout> checkout(const CheckoutRequest& req) = 0;

    // True when `ancestor` is a strict ancestor of `descendant` in the repository's history as the last
    // checkout of `repo_key` fetched it; false when not, or when either commit is unknown there. Thread-safe.
    virtual util::Result<bool> is_strict_ancestor(const std::string& repo_key, const std::string& ancestor,
                                                  const std::string& descendant) = 0;
};

// The libgit2 checkout. `cache` (and `pool` when given) must outlive the service and every Checkout it
// returns. Without a pool every checkout writes the whole tree and its directory is removed when the
// Checkout goes.
std::unique_ptr<CheckoutService> make_checkout_service(MirrorCache& cache, WorkTreePool* pool = nullptr);

// The credentials a submodule fetch may use: `auth` when the submodule's URL has the superproject's scheme,
// host (compared exactly, ignoring case) and port as libgit2 parses it, else none, so a .gitmodules entry
// cannot make hookyard hand the token to another server. Pure.
GitAuth submodule_auth(const std::string& parent_url, const std::string& submodule_url, const GitAuth& auth);

// invalid_input, naming submodule `shown`, its URL and the config key that would allow it, unless the
// resolved `url` may be fetched for a superproject cloned from `top_url`: an http(s), ssh or git URL on the
// superproject's host or on one of policy.extra_hosts; file:// URLs and local paths only with
// policy.allow_local. URLs with '?', '#', '\\', spaces or control characters are refused as ambiguous (git
// tools disagree on their host). Pure.
util::Status check_submodule_url(const std::string& top_url, const std::string& url, const SubmodulePolicy& policy,
                                 const std::string& shown);

// Resolves a submodule URL from .gitmodules against its superproject's clone URL: "./x" and "../x" are
// relative to the superproject URL (as git does), anything else is returned unchanged. Pure.
std::string resolve_submodule_url(const std::string& parent_url, const std::string& url);

}  // namespace hookyard::pipeline
