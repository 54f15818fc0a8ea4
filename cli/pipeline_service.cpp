#include "cli/pipeline_service.hpp"

#include <set>

#include "http/lazy_client.hpp"
#include "pipeline/disk_watermark.hpp"
#include "pipeline/executor/buildah_env.hpp"
#include "pipeline/executor/buildah_leftovers.hpp"
#include "pipeline/pull_policy.hpp"
#include "pipeline/rebuilds.hpp"
#include "util/log.hpp"
#include "webhook/notify/notify_planner.hpp"

namespace hookyard::cli {
namespace {

// A build running at this many crashes (or restarts) in a row is re-queued each time; at the next one in a
// row it fails with the reason, so a build that crashes the service stops crash-looping it. Builds a
// crash interrupts are claimed after the others, so random crashes rarely hit one build this often.
constexpr int k_max_recoveries = 5;

// Mirror maintenance once per retention.interval, for the repositories in the config.
pipeline::MirrorMaintenance make_maintenance(const config::Config& config, pipeline::MirrorCache& mirrors) {
    std::set<std::string> configured;
    for (const auto& repo : config.repositories) configured.insert(repo.github);
    pipeline::MirrorMaintenanceOptions options;
    options.interval = config.retention.interval;
    return pipeline::MirrorMaintenance(mirrors, config.data_dir + "/worktrees", std::move(configured), options);
}

// Finishing wakes the dispatcher so notifications go out at once, not at its next poll.
class NotifyingEvents : public pipeline::BuildEvents {
public:
    NotifyingEvents(const config::Config& config, storage::Store& store, notify::Dispatcher& dispatcher,
                    std::function<void()> finished)
        : m_config(config), m_store(store), m_dispatcher(dispatcher), m_finished(std::move(finished)) {}
    void started(const storage::Build&) override { m_dispatcher.wake(); }
    util::Status finish(const storage::Build& build, const pipeline::RunOutcome& outcome) override {
        auto st = m_store.finish_build(build.id, outcome.state, outcome.digest, outcome.error);
        if (st && outcome.state == storage::BuildState::succeeded) queue_linked(build, outcome.digest);
        m_dispatcher.wake();
        m_finished();
        return st;
    }

private:
    // Repositories with rebuild_when_pushed naming this one rebuild (the scheduler's next poll claims them).
    void queue_linked(storage::Build pushed, const std::string& digest) {
        pushed.digest = digest;
        auto n = pipeline::queue_linked_rebuilds(m_config, m_store, pushed);
        if (!n)
            util::log_warn("pipeline",
                           "linked rebuilds after #" + std::to_string(pushed.id) + ": " + n.error().message);
        if (n && *n > 0)
            util::log_info("pipeline", std::to_string(*n) + " linked rebuild(s) after #" + std::to_string(pushed.id));
    }

    const config::Config& m_config;
    storage::Store& m_store;
    notify::Dispatcher& m_dispatcher;
    std::function<void()> m_finished;
};

std::unique_ptr<http::Client> make_http_client(const config::Config& config) {
    http::ClientOptions options;
    options.connect_timeout = config.notify.timeout;
    options.io_timeout = config.notify.timeout;
    // Created at the first notification: an idle service never loads OpenSSL's TLS state.
    return std::make_unique<http::LazyClient>(std::move(options));
}

}  // namespace

pipeline::BuildahOptions buildah_options(const config::Config& config,
                                         std::shared_ptr<pipeline::ProcessContainment> containment,
                                         pipeline::SandboxOptions sandbox) {
    auto options = pipeline::buildah_options_from_environment();
    options.containment = std::move(containment);
    options.sandbox = std::move(sandbox);
    options.extra_build_flags.push_back(pipeline::buildah_pull_flag(config.builder.pull));
    options.pull_registries = pipeline::pull_registries(config.registries);
    options.credentials_root = pipeline::pull_credentials_root(config.data_dir);
    return options;
}

PipelineService::PipelineService(const config::Config& config, storage::Store& store, pipeline::BuildObserver* observer,
                                 pipeline::SandboxOptions sandbox, std::function<std::vector<std::string>()> hold)
    : m_config(config),
      m_store(store),
      m_mirrors(config.data_dir + "/mirrors"),
      m_worktrees(config.data_dir + "/worktrees"),
      m_maintenance(make_maintenance(config, m_mirrors)),
      m_checkout(pipeline::make_checkout_service(m_mirrors, &m_worktrees)),
      m_containment(pipeline::ProcessContainment::make({config.data_dir, ""})),
      m_executor(pipeline::make_buildah_executor(buildah_options(config, m_containment, std::move(sandbox)))),
      m_final_images(buildah_options(config, nullptr, {})),
      m_runner(std::make_unique<pipeline::StageRunner>(config, store, *m_checkout, *m_executor, m_pusher, observer,
                                                       pipeline::PlatformSupport(), &m_final_images)),
      m_http(make_http_client(config)) {
    m_store.set_cluster(storage::ClusterIdentity{config.cluster.instance_id, config.cluster.lease});
    m_store.set_event_planner(notify::make_event_planner(config));
    m_dispatcher = std::make_unique<notify::Dispatcher>(store, config, *m_http, notify::dispatcher_options(config));
    m_events = std::make_unique<NotifyingEvents>(config, store, *m_dispatcher, [this] {
        if (m_budget) m_budget->wake();
    });
    if (config.builder.cache) {
        auto buildah = buildah_options(config, nullptr, {});
        const auto root = pipeline::buildah_storage_root(buildah.root);
        m_budget = std::make_unique<pipeline::ImageBudgetJob>(
            std::make_unique<pipeline::ImageBudget>(std::move(buildah), root, config.builder.cache_max_size),
            [this] { return m_scheduler->running(); },
            [this](std::uint64_t bytes) {
                if (m_on_cache_bytes) m_on_cache_bytes(bytes);
            },
            &m_final_images);
    }
    pipeline::SchedulerOptions options;
    options.concurrency = config.builder.concurrency;
    options.heartbeat = config.cluster.heartbeat;
    options.max_recoveries = k_max_recoveries;
    options.hold = [this, hold = std::move(hold)] {
        auto reasons = hold ? hold() : std::vector<std::string>{};
        if (m_budget) {
            for (auto& r : m_budget->hold_reasons()) reasons.push_back(std::move(r));
        }
        return reasons;
    };
    m_scheduler = std::make_unique<pipeline::Scheduler>(store, *m_runner, *m_events, options);
    m_base_watcher = std::make_unique<pipeline::BaseImageWatcher>(
        config, store, m_pusher, [this] { m_scheduler->wake(); }, "");
}

PipelineService::~PipelineService() { stop(); }

util::Status PipelineService::recover() {
    // First what a previous run of this instance left running: it would write into the work dirs and
    // collide with the resumed builds.
    util::log_info("pipeline", "build processes are contained by " + m_containment->describe());
    for (const auto& line : m_containment->kill_leftovers()) util::log_warn("pipeline", line);
    pipeline::log_removed_containers(pipeline::remove_buildah_leftovers(buildah_options(m_config, m_containment, {})),
                                     "at start");
    auto n = m_store.requeue_running(k_max_recoveries);
    if (!n) return n.error();
    if (*n > 0)
        util::log_info("pipeline", "re-queued " + std::to_string(*n) + " build(s) interrupted by the last stop");
    pipeline::StageRunner::clean_work_dirs(m_config.data_dir);
    auto released = m_store.release_notification_leases();
    if (!released) return released.error();
    if (*released > 0) util::log_info("pipeline", std::to_string(*released) + " undelivered notification(s) due again");
    return {};
}

void PipelineService::start() {
    m_dispatcher->start();
    m_scheduler->start();
    // Another instance's queued build or cancel request wakes the scheduler at once (PostgreSQL).
    m_store.on_work([this] { m_scheduler->wake(); });
    m_final_images.start();
    m_maintenance.start();
    if (m_budget) m_budget->start();
    m_base_watcher->start();
}

void PipelineService::stop() {
    if (m_base_watcher) m_base_watcher->stop();
    m_store.on_work({});
    if (m_scheduler) m_scheduler->stop();
    m_final_images.stop();
    m_maintenance.stop();
    if (m_budget) m_budget->stop();
    if (m_dispatcher) m_dispatcher->stop();
}

void PipelineService::wake() { m_scheduler->wake(); }

}  // namespace hookyard::cli
