#pragma once
// Wiring of the build pipeline for `hookyard serve` and `hookyard build`: mirrors, checkout, buildah,
// our registry client, the stage runner, the scheduler, and the notification planner + dispatcher.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "http/client.hpp"
#include "pipeline/checkout/checkout.hpp"
#include "pipeline/checkout/mirror_maintenance.hpp"
#include "pipeline/checkout/work_pool.hpp"
#include "pipeline/executor/buildah_executor.hpp"
#include "pipeline/image_budget.hpp"
#include "pipeline/rebuilds.hpp"
#include "pipeline/registry_pusher.hpp"
#include "pipeline/scheduler.hpp"
#include "pipeline/stage_runner.hpp"
#include "storage/store.hpp"
#include "webhook/notify/dispatcher.hpp"

namespace hookyard::cli {

// How builds run buildah for `config` (serve, build and build-local alike): the service's environment, the
// pull policy, the registries FROM images come from with their credentials, `containment` and `sandbox`.
pipeline::BuildahOptions buildah_options(const config::Config& config,
                                         std::shared_ptr<pipeline::ProcessContainment> containment,
                                         pipeline::SandboxOptions sandbox);

class PipelineService {
public:
    // Builds every component from the config and installs the event planner on `store` (so every state
    // change from now on queues its notifications). Nothing runs until start(). Both must outlive this.
    // `sandbox`: how RUN steps run (serve prepares it with pipeline::prepare_sandbox). `hold` (may be empty):
    // the scheduler's SchedulerOptions::hold (low disk space).
    PipelineService(const config::Config& config, storage::Store& store, pipeline::BuildObserver* observer = nullptr,
                    pipeline::SandboxOptions sandbox = {}, std::function<std::vector<std::string>()> hold = {});
    ~PipelineService();

    // Crash recovery: kills the build processes a previous run on this data dir left behind, re-queues
    // builds it left running (failing those interrupted too often in a row) and removes leftover work dirs.
    // Call before start(), with no other hookyard on this data dir.
    util::Status recover();
    // Starts the scheduler and the dispatcher.
    void start();
    // Stops claiming, interrupts running builds (they resume after restart), stops the dispatcher.
    void stop();
    // A build was queued: claim it now instead of at the next poll.
    void wake();
    // Called (on the budget's thread) with each measured size of buildah's storage (hookyard_cache_bytes).
    // Set before start(); only with builder.cache on.
    void on_cache_bytes(std::function<void(std::uint64_t)> fn) { m_on_cache_bytes = std::move(fn); }

    // The stage runner, for running one build in the foreground (`hookyard build`).
    pipeline::StageRunner& runner() { return *m_runner; }
    notify::Dispatcher& dispatcher() { return *m_dispatcher; }

private:
    const config::Config& m_config;
    storage::Store& m_store;
    pipeline::MirrorCache m_mirrors;
    pipeline::WorkTreePool m_worktrees;         // warm builds reuse the previous build's tree
    pipeline::MirrorMaintenance m_maintenance;  // repacks mirrors, removes unconfigured ones (start() to stop())
    std::unique_ptr<pipeline::CheckoutService> m_checkout;
    std::shared_ptr<pipeline::ProcessContainment> m_containment;  // every build's processes, see recover()
    std::unique_ptr<pipeline::Executor> m_executor;
    pipeline::RegistryPusher m_pusher;
    pipeline::FinalImages m_final_images;  // each pushed build's image leaves buildah's storage
    std::unique_ptr<pipeline::StageRunner> m_runner;
    std::unique_ptr<pipeline::BuildEvents> m_events;
    std::unique_ptr<pipeline::Scheduler> m_scheduler;
    std::function<void(std::uint64_t)> m_on_cache_bytes;
    std::unique_ptr<pipeline::ImageBudgetJob> m_budget;  // builder.cache_max_size; null with the cache off
    std::unique_ptr<http::Client> m_http;
    std::unique_ptr<notify::Dispatcher> m_dispatcher;
    std::unique_ptr<pipeline::BaseImageWatcher> m_base_watcher;  // base_images.watch_interval, serve only
};

}  // namespace hookyard::cli
