#pragma once
// The layer cache's disk budget (builder.cache_max_size). With the cache on, every build leaves untagged
// images (its steps' layers) in buildah's storage; hookyard never tags what it builds, so the untagged
// images are hookyard's, and tagged ones (base images pulled by FROM, anything an operator made) are
// never touched. enforce() measures the storage's disk usage and, while it is over the budget, removes
// untagged images oldest first with `buildah rmi` (without --force: an image a build's container
// still uses is refused by buildah and skipped). Callers run it while no build runs (PipelineService
// holds claims meanwhile), since a running build may be about to reuse any cached layer.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/executor/buildah_executor.hpp"
#include "util/file_lock.hpp"
#include "util/result.hpp"
#include "util/worker_loop.hpp"

namespace hookyard::pipeline {

// An image in buildah's storage as the budget sees it.
struct StoredImage {
    std::string id;
    std::int64_t created = 0;  // seconds since the epoch
    bool tagged = false;       // has a name: not hookyard's
    std::string damaged;       // why buildah cannot read it ("" when whole)
};

// The images in `buildah images --all --json` output. buildah prints warnings on the same stream (some hold
// a '[', e.g. "containers-storage:[overlay@…]"), so the list starts at the first line beginning with '['.
// Error when there is none.
util::Result<std::vector<StoredImage>> parse_buildah_images(const std::string& output);

// The images in containers-storage's own records: `images_json` (<root>/<driver>-images/images.json) and
// `layers_json` (<root>/<driver>-layers/layers.json). Read when `buildah images` fails on a damaged image
// (a commit killed before it wrote the manifest, a top layer that is gone), which buildah lists as an error
// of the whole command; such an image gets `damaged` set. Error when `images_json` is not a JSON list.
util::Result<std::vector<StoredImage>> parse_storage_images(const std::string& images_json,
                                                            const std::string& layers_json);

class ImageBudget {
public:
    // `buildah` gives the program, storage root/runroot and environment; `storage_root` is the directory
    // measured (buildah_storage_root(buildah.root)).
    ImageBudget(BuildahOptions buildah, std::string storage_root, std::uint64_t max_bytes);

    // Disk usage of the storage root: allocated blocks, each hard-linked file once.
    std::uint64_t usage() const;
    // True when the last measurement was over the budget (enforce() should run).
    bool over() const { return m_last_usage.load() > m_max_bytes; }
    // Measures, then evicts until usage ≤ the budget or no untagged image can go. Returns the usage after.
    // Blocking (buildah calls); errors only when buildah cannot list images.
    util::Result<std::uint64_t> enforce();
    // The last measured usage (for hookyard_cache_bytes); 0 before the first.
    std::uint64_t last_usage() const { return m_last_usage.load(); }
    // Measures and records the usage without evicting.
    std::uint64_t measure();

private:
    // Untagged images, damaged ones first (they are never reused), then oldest first.
    util::Result<std::vector<StoredImage>> untagged_images() const;
    // The storage's own records, for when `buildah images` fails; logs each damaged image.
    util::Result<std::vector<StoredImage>> images_from_storage_records(const std::string& why) const;

    BuildahOptions m_buildah;
    std::string m_root;
    std::uint64_t m_max_bytes;
    std::atomic<std::uint64_t> m_last_usage{0};
};

// The final image of each build run with the layer cache on. buildah keeps it, untagged, as the cache of
// the build's last step; once the build has pushed (or failed to) it is only disk, and with a layer that
// changes at every commit the storage would grow by it at every build. release() removes it on this
// object's thread, with the layers no other image uses, by `skopeo delete` on buildah's storage: `buildah
// rmi` would also remove every untagged parent, i.e. the build's whole layer cache. The intermediate images
// (the layer cache) stay; builder.cache_max_size governs them.
class FinalImages {
public:
    // At most this many images wait for removal; older ones are left to the cache budget.
    static constexpr std::size_t k_max_queued = 1000;

    // `buildah` names the storage (root, runroot) and gives skopeo's environment.
    explicit FinalImages(BuildahOptions buildah);
    ~FinalImages() { stop(); }
    FinalImages(const FinalImages&) = delete;
    FinalImages& operator=(const FinalImages&) = delete;

    void start() { m_loop.start(); }
    // Stops the thread, then removes what is still queued (no build runs at shutdown). Idempotent.
    void stop();
    // What a build holds for its whole build stage (default: nothing held): buildah may reuse a final image
    // waiting for removal as the cache of its last step and export it, so removals wait until no build
    // holds one, in this process (a shared lock) and in any other hookyard on the same buildah storage (a
    // shared flock on <storage root>/hookyard-final-images.lock: identical builds get identical image ids).
    class Building {
    public:
        Building() = default;
        Building(std::shared_lock<std::shared_mutex> lock, util::FileLock file_lock)
            : m_lock(std::move(lock)), m_file_lock(std::move(file_lock)) {}

    private:
        std::shared_lock<std::shared_mutex> m_lock;
        util::FileLock m_file_lock;
    };
    // Blocks only while one removal (one skopeo run) is in progress. Thread-safe.
    Building building();
    // Queues image `id` ("sha256:<hex>"; empty is ignored) for removal and wakes the thread. Thread-safe,
    // returns at once.
    void release(const std::string& id);
    // Removes every queued image now unless a build holds building() (then they stay queued); waits for a
    // removal pass another thread has in progress first. Returns how many are gone (an image already gone
    // counts). Blocking; thread-safe. The thread runs it.
    int remove_queued();

private:
    // `skopeo delete` of one image; true when it is gone afterwards.
    bool remove(const std::string& id);

    BuildahOptions m_buildah;
    std::string m_lock_path;  // the flock file beside buildah's storage
    std::mutex m_removing;    // one removal pass at a time
    std::shared_mutex m_building;
    std::mutex m_mutex;
    std::vector<std::string> m_queue;  // guarded by m_mutex
    bool m_warned = false;             // guarded by m_mutex: skopeo's absence is logged once
    util::WorkerLoop m_loop;           // last: its thread uses everything above
};

// Keeps the budget in serve: after each build (wake()) and every few minutes it measures; over the budget
// it holds new claims (hold_reasons()), waits until no build runs, evicts, then releases the claims.
class ImageBudgetJob {
public:
    // `running` counts this process's running builds; `on_measured` (may be empty) gets every measured
    // usage (hookyard_cache_bytes). Both are called on the job's thread. `final_images` (may be null) is
    // emptied before each measurement: the space a pushed build's final image frees is not taken from
    // the cache.
    ImageBudgetJob(std::unique_ptr<ImageBudget> budget, std::function<int()> running,
                   std::function<void(std::uint64_t)> on_measured, FinalImages* final_images = nullptr);
    void start() { m_loop.start(); }
    void stop() { m_loop.stop(); }
    // A build finished: measure soon.
    void wake() { m_loop.wake(); }
    // Non-empty while claims must wait for an eviction (SchedulerOptions::hold).
    std::vector<std::string> hold_reasons() const;

private:
    void step();

    std::unique_ptr<ImageBudget> m_budget;
    std::function<int()> m_running;
    std::function<void(std::uint64_t)> m_on_measured;
    FinalImages* m_final_images;
    std::atomic<bool> m_evicting{false};
    util::WorkerLoop m_loop;  // last: its thread uses everything above
};

}  // namespace hookyard::pipeline
