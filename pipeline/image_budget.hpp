#pragma once
// The layer cache's disk budget (builder.cache_max_size). With the cache on, every build leaves untagged
// images (its steps' layers) in buildah's storage; hookyard never tags what it builds, so the untagged
// images are hookyard's, and tagged ones (base images pulled by FROM, anything an operator made) are
// never touched. enforce() measures the storage's disk usage and, while it is over the budget, removes
// untagged images oldest first with `buildah rmi` (without --force: an image a build's container
// still uses is refused by buildah and skipped). Callers run it while no build runs (PipelineService
// holds claims meanwhile), since a running build may be about to reuse any cached layer.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/executor/buildah_executor.hpp"
#include "util/result.hpp"
#include "util/worker_loop.hpp"

namespace hookyard::pipeline {

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
    struct Image {
        std::string id;
        std::int64_t created = 0;
    };
    util::Result<std::vector<Image>> untagged_images() const;
    // `buildah <args>` with the storage flags; its exit code, output in `out`.
    util::Result<int> buildah(std::vector<std::string> args, std::string* out) const;

    BuildahOptions m_buildah;
    std::string m_root;
    std::uint64_t m_max_bytes;
    std::atomic<std::uint64_t> m_last_usage{0};
};

// Keeps the budget in serve: after each build (wake()) and every few minutes it measures; over the budget
// it holds new claims (hold_reasons()), waits until no build runs, evicts, then releases the claims.
class ImageBudgetJob {
public:
    // `running` counts this process's running builds; `on_measured` (may be empty) gets every measured
    // usage (hookyard_cache_bytes). Both are called on the job's thread.
    ImageBudgetJob(std::unique_ptr<ImageBudget> budget, std::function<int()> running,
                   std::function<void(std::uint64_t)> on_measured);
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
    std::atomic<bool> m_evicting{false};
    util::WorkerLoop m_loop;  // last: its thread uses everything above
};

}  // namespace hookyard::pipeline
