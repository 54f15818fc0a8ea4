#pragma once
// The cache of bare git mirrors, one per source repository under <data_dir>/mirrors, kept current with
// libgit2 fetches of the pushed ref.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/cancel.hpp"
#include "pipeline/checkout/git_auth.hpp"
#include "pipeline/checkout/git_handles.hpp"
#include "util/result.hpp"

namespace hookyard::pipeline {

// What one update() transferred, from libgit2's git_indexer_progress.
struct FetchStats {
    std::size_t received_objects = 0;
    std::size_t received_bytes = 0;
    std::size_t total_objects = 0;
    bool created = false;         // the mirror did not exist before this update
    bool fetched = false;         // false when a fetch that finished while we waited for the lock was reused
    int attempts = 0;             // connection attempts made (1 unless transient faults were retried)
    std::size_t pruned_refs = 0;  // branches and tags deleted upstream, deleted from the mirror too
};

// A mirror after update(): where it is and the verified commit to build.
struct Mirror {
    std::string path;    // the bare repository
    std::string url;     // the clone URL it was fetched from (may carry userinfo: redact before printing)
    std::string ref;     // the full ref fetched ("refs/heads/main"); "" when all branches were fetched
    std::string commit;  // 40-hex sha of the commit to build, present in the mirror
    FetchStats stats;
};

// How transient faults (server down, 5xx, reset connections, stalls) are retried: `attempts` tries in
// all, the wait doubling from `initial_backoff`. A fetch that receives nothing for `stall_timeout` is
// abandoned as ErrorKind::timeout (libgit2 1.5 has no network timeout of its own).
struct RetryPolicy {
    int attempts = 3;
    std::chrono::milliseconds initial_backoff{1000};
    std::chrono::milliseconds stall_timeout{60000};
};

class MirrorCache {
public:
    // `root_dir` is <data_dir>/mirrors; it is created on first use.
    explicit MirrorCache(std::string root_dir, RetryPolicy retry = {});

    // Creates the mirror for `repo_key` ("owner/name") on first use, fetches `ref` plus all tags from
    // `clone_url` with `auth`, and verifies `commit`: it must exist and be the ref's tip or one of its
    // ancestors (else not_found naming the sha, "force-pushed away"). An empty `commit` means the ref's
    // current tip, returned in Mirror::commit. Branches and tags the server no longer lists are deleted
    // from the mirror. `ref` is a full ref ("refs/heads/x", "refs/tags/v1"), a short
    // name looked up as a branch then a tag on the server, or "" to fetch every branch and tag (then only
    // the commit's existence is checked). Errors: invalid_input (bad key, ref or sha), auth (names
    // auth.credential_name, never the secret), not_found (repository, ref or commit), transient/timeout
    // after the retry policy is exhausted. Thread-safe: calls for one key serialise on an in-process mutex
    // and a flock on the mirror, so processes sharing the data dir do not corrupt it either; a caller that
    // waited while another fetched the same ref reuses that fetch when the commit is already there.
    // With `cancel` set, a cancel stops the fetch (and the wait between attempts) within a second, with
    // ErrorKind::canceled.
    util::Result<Mirror> update(const std::string& repo_key, const std::string& clone_url, const std::string& ref,
                                const std::string& commit, const GitAuth& auth, CancelToken* cancel = nullptr);

    // True when `ancestor` is a strict ancestor of `descendant` (reachable from it, not the same commit) in
    // the mirror of `repo_key`; false when not, or when the mirror or either commit is missing (nothing to
    // compare against). Errors: invalid_input for a bad key or sha, internal when libgit2 cannot read the
    // mirror. Thread-safe (serialises with update() of the same key).
    util::Result<bool> is_strict_ancestor(const std::string& repo_key, const std::string& ancestor,
                                          const std::string& descendant);

    // Where the mirror of `repo_key` lives, whether or not it exists yet. Pure.
    std::string mirror_path(const std::string& repo_key) const;

    // Held while reading a mirror's objects outside update() (checkouts): a repack does not delete the
    // packs meanwhile. Several readers at once; blocks while with_exclusive() runs for the key.
    std::shared_lock<std::shared_mutex> reading(const std::string& repo_key);
    // Runs `fn` with the mirror's path while nothing else in this process uses the mirror (no update(),
    // no reader) and no other process updates it (its flock). Returns fn's status; invalid_input for a
    // bad key. For maintenance: repacking.
    util::Status with_exclusive(const std::string& repo_key, const std::function<util::Status(const std::string&)>& fn);
    // Deletes the mirror of `repo_key` (with_exclusive), with its lock file. Missing is not an error.
    util::Status remove(const std::string& repo_key);
    // The keys of the mirrors on disk ("owner/name", "_url/..."), sorted.
    std::vector<std::string> keys() const;

    // The mirror key for a repository known only by URL (submodules): "_url/<host_path>" with every
    // character outside [A-Za-z0-9._-] replaced by '_' and credentials dropped. Pure.
    static std::string key_for_url(std::string_view url);

private:
    struct KeyState {
        std::mutex mutex;
        std::shared_mutex objects;  // readers: checkouts; exclusive: with_exclusive()
        std::atomic<unsigned long> generation{0};
        std::string last_ref;  // guarded by mutex
    };
    std::shared_ptr<KeyState> key_state(const std::string& key);
    // fetch_into_mirror with m_retry's attempts and backoff: the fetched ref, or the last error (canceled
    // when `cancel` fired during a backoff). Counts the attempts in `stats`.
    util::Result<std::string> fetch_with_retries(git_repository* repo, const std::string& clone_url,
                                                 const std::string& ref, const GitAuth& auth, FetchStats& stats,
                                                 CancelToken* cancel);

    LibGit2Guard m_libgit2;
    std::string m_root;
    RetryPolicy m_retry;
    std::mutex m_keys_mutex;
    std::map<std::string, std::shared_ptr<KeyState>> m_keys;
};

}  // namespace hookyard::pipeline
