#pragma once
// Keeps <data_dir>/mirrors from growing without end: every fetch adds a pack, deleted branches and
// force-pushed commits stay as garbage, and mirrors (and pooled work trees) of repositories removed from
// the config stay forever. Repacking uses libgit2's packbuilder: no git executable at run time, and the
// mirror's own locks (MirrorCache) keep fetches and checkouts out meanwhile.

#include <git2.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "pipeline/checkout/mirror_cache.hpp"
#include "util/result.hpp"
#include "util/worker_loop.hpp"

namespace hookyard::pipeline {

// Deletes the mirror's refs under refs/heads/ and refs/tags/ that are not in `advertised` (the full ref
// names the remote listed at this fetch), so branches and tags deleted upstream go, and marks the mirror
// for repacking when any went. Returns how many were deleted. The caller holds the mirror lock.
util::Result<std::size_t> prune_deleted_refs(git_repository* repo, const std::set<std::string>& advertised);

// What one repack did.
struct RepackStats {
    std::size_t packs_before = 0;
    std::size_t loose_before = 0;
    std::size_t objects = 0;  // in the new pack
    std::uint64_t bytes_before = 0;
    std::uint64_t bytes_after = 0;
};

// Writes one pack of every object reachable from the mirror's refs (libgit2's packbuilder), then deletes
// the other packs (except .keep ones) and every loose object: unreachable objects go. The caller holds
// the mirror lock exclusively (no fetch, no checkout reading objects). Errors: internal, naming the
// libgit2 failure; the mirror is left as it was when the new pack could not be written.
util::Result<RepackStats> repack_mirror(const std::string& path);

struct MirrorMaintenanceOptions {
    // A mirror is repacked once it has this many packs (one per fetch that brought objects), or loose
    // objects, or refs pruned since its last repack.
    std::size_t pack_limit = 8;
    std::chrono::milliseconds interval = std::chrono::hours(1);
};

// What one maintenance run did, over every mirror.
struct MirrorMaintenanceResult {
    int repacked = 0;
    int removed_mirrors = 0;
    int removed_worktrees = 0;
    int failed = 0;
    std::uint64_t bytes_before = 0;  // of the mirrors repacked
    std::uint64_t bytes_after = 0;
};

// Runs maintenance every `interval` on its own thread (the first run at start()): repacks the mirrors
// that need it and removes the mirrors and pooled work trees of repositories not in `configured`
// (owner/name keys). Submodule mirrors (keys under _url/) are repacked, never removed: which
// configured repository still needs one is only known at checkout.
class MirrorMaintenance {
public:
    // `cache` must outlive this; `worktrees_root` is the WorkTreePool's root (<data_dir>/worktrees).
    MirrorMaintenance(MirrorCache& cache, std::string worktrees_root, std::set<std::string> configured,
                      MirrorMaintenanceOptions options = {});

    void start() { m_loop.start(); }
    // Lets a run in progress finish. Idempotent.
    void stop() { m_loop.stop(); }
    // One run, on the calling thread; logs one line. Thread-safe with fetches and checkouts (it takes each
    // mirror's locks), not with another run_once().
    MirrorMaintenanceResult run_once();

private:
    void maintain(const std::string& key, MirrorMaintenanceResult& result);
    bool needs_repack(const std::string& path) const;

    MirrorCache& m_cache;
    std::string m_worktrees;
    std::set<std::string> m_configured;
    MirrorMaintenanceOptions m_options;
    util::WorkerLoop m_loop;  // last: its thread uses everything above
};

}  // namespace hookyard::pipeline
