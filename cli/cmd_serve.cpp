// hookyard serve -c FILE: wires config → store → routes (intake + API) → HTTP server, then waits for SIGINT/SIGTERM.

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <optional>

#include "api/metrics.hpp"
#include "cli/build_sandbox.hpp"
#include "cli/commands.hpp"
#include "cli/config_file.hpp"
#include "cli/pipeline_service.hpp"
#include "cli/serve_routes.hpp"
#include "config/loader.hpp"
#include "http/server.hpp"
#include "pipeline/disk_watermark.hpp"
#include "pipeline/executor/buildah_env.hpp"
#include "pipeline/executor/platforms.hpp"
#include "storage/retention.hpp"
#include "storage/serve_lock.hpp"
#include "storage/store.hpp"
#include "util/log.hpp"

namespace hookyard::cli {
namespace {

// Creates the directory that will hold a "sqlite:PATH" database, so a fresh data_dir just works.
void make_parent_dir(const std::string& storage_url) {
    constexpr std::string_view k_sqlite = "sqlite:";
    if (storage_url.rfind(k_sqlite, 0) != 0) return;
    const std::filesystem::path db(storage_url.substr(k_sqlite.size()));
    std::error_code ec;
    if (db.has_parent_path()) std::filesystem::create_directories(db.parent_path(), ec);
}

// A client that disconnects mid-answer must cost an error code, never the process; and every connection
// up to server.max_connections needs a descriptor, so the soft limit goes up to the hard one.
void prepare_process() {
    ::signal(SIGPIPE, SIG_IGN);
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &files) != 0) util::log_warn("serve", "cannot raise the open-files limit");
    }
}

// The data dir and the database hold secrets and build history: created owner-only (SQLite gives its WAL
// and journal the database's mode). Only during this call: checkouts keep their modes for the images.
util::Result<std::unique_ptr<storage::Store>> open_data_store(const config::Config& cfg) {
    const mode_t previous_umask = ::umask(077);
    std::error_code ec;
    std::filesystem::create_directories(cfg.data_dir, ec);
    const std::string storage_url = cfg.storage.empty() ? "sqlite:" + cfg.data_dir + "/hookyard.db" : cfg.storage;
    make_parent_dir(storage_url);
    auto store = storage::open_store(storage_url);
    ::umask(previous_umask);
    return store;
}

// SIGINT and SIGTERM, blocked in this thread (and the threads it starts) for sigwait.
sigset_t block_stop_signals() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    return signals;
}

// builder.min_free_space on the data dir and on buildah's storage; a drop below it prunes at once.
std::unique_ptr<pipeline::DiskWatermark> make_watermark(const config::Config& cfg, storage::PruneJob& pruner) {
    const std::string buildah_root = pipeline::buildah_storage_root(pipeline::buildah_options_from_environment().root);
    return std::make_unique<pipeline::DiskWatermark>(
        std::vector<pipeline::DiskWatermark::Watched>{{"data dir", cfg.data_dir}, {"buildah storage", buildah_root}},
        cfg.builder.min_free_space, [&pruner] { pruner.run_now(); });
}

// Which platforms this host can build, and a warning per configured platform it cannot.
void log_platforms(const config::Config& cfg) {
    const pipeline::PlatformSupport platforms;
    util::log_info("serve", "platforms this host can build: " + platforms.describe());
    for (const auto& line : platforms.warnings(cfg)) util::log_warn("serve", line);
}

// What one `serve` does (--role): all = intake and builds; intake = HTTP only (webhooks, API, dashboard),
// never claims a build nor sends notifications; builder = claims and builds, sends notifications, serves
// the API and /metrics but no webhook routes.
enum class ServeRole { all, intake, builder };

std::optional<ServeRole> parse_role(const std::string& text) {
    if (text.empty() || text == "all") return ServeRole::all;
    if (text == "intake") return ServeRole::intake;
    if (text == "builder") return ServeRole::builder;
    return std::nullopt;
}

// Listens with `routes` until SIGINT or SIGTERM (blocked in `signals`), then stops accepting, finishes
// in-flight requests and stops the pipeline (running builds resume at the next start). The exit code.
int serve_until_stopped(const config::Config& cfg, const sigset_t& signals, ServeRoutes& routes,
                        PipelineService& pipeline, storage::PruneJob& pruner, storage::Store& store, ServeRole role) {
    http::ServerOptions options;
    options.listen = cfg.server.listen;
    options.max_connections = cfg.server.max_connections;
    auto server = http::Server::start(options, routes.handler());
    if (!server) {
        util::log_error("serve", server.error().message);
        return 1;
    }
    util::log_info("serve", config::summarize(cfg));
    if (role != ServeRole::intake) pipeline.start();
    pruner.start();
    util::log_info("serve", "listening on " + cfg.server.listen + " (port " + std::to_string((*server)->port()) + ")");

    int sig = 0;
    sigwait(&signals, &sig);
    util::log_info(
        "serve", std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ": finishing in-flight requests");
    (*server)->stop();
    pipeline.stop();
    store.flush();
    util::log_info("serve", "stopped after " + std::to_string((*server)->answered()) + " requests");
    return 0;
}

}  // namespace

int cmd_serve(const Args& args) {
    // Unknown flags are ignored, as they always were.
    const auto parsed = parse_args(args, {{{"--config", "-c"}, {"--role"}}});
    const std::string path = parsed.value("--config");
    const auto role = parse_role(parsed.value("--role"));
    if (parsed.help || path.empty() || !role) {
        return print_usage("usage: hookyard serve -c FILE [--role all|intake|builder]\n", parsed.help);
    }
    const auto loaded = load_config_or_report(path);
    if (!loaded) return 2;
    const config::Config& cfg = *loaded;
    if (*role != ServeRole::all && cfg.storage.rfind("sqlite:", 0) == 0) {
        util::log_error("serve",
                        "--role intake|builder needs a database that several instances share (storage: "
                        "postgresql://…); with SQLite run one `hookyard serve` without --role");
        return 2;
    }

    // Signals are taken synchronously by this thread: block them before any other thread exists.
    const sigset_t signals = block_stop_signals();

    prepare_process();
    api::Metrics metrics;
    auto store = open_data_store(cfg);
    if (!store) {
        util::log_error("serve", store.error().message);
        return 1;
    }
    auto serve_lock = storage::lock_for_serve(cfg.storage);
    if (!serve_lock) {
        util::log_error("serve", serve_lock.error().message);
        return 1;
    }
    // After the data dir exists (owner-only): the sandbox writes its network config under it.
    log_platforms(cfg);
    auto sandbox = start_sandbox(cfg);
    if (!sandbox) {
        util::log_error("serve", sandbox.error().message);
        return 1;
    }
    // Low disk space holds builds and prunes at once; /healthz and the API say why.
    storage::PruneJob pruner(**store, cfg, [&metrics](const storage::RetentionResult& r) {
        metrics.count_prune(static_cast<std::uint64_t>(r.store.rows));
    });
    auto watermark = make_watermark(cfg, pruner);
    auto held = [&watermark] { return watermark->reasons(); };
    // The pipeline: installs the notification planner first, so recovery's outcomes notify too. Builds a
    // crash left running go back to the queue (or fail, when interrupted too often).
    PipelineService pipeline(cfg, **store, nullptr, std::move(*sandbox), held);
    pipeline.on_cache_bytes([&metrics](std::uint64_t bytes) { metrics.set_cache_bytes(bytes); });
    // An intake never claims: recovering would re-queue the builds of the builders it shares the database with.
    if (auto st = *role == ServeRole::intake ? util::Status{} : pipeline.recover(); !st) {
        util::log_error("serve", st.error().message);
        return 1;
    }
    ServeRoutes routes(
        cfg, **store, metrics, [&pipeline] { pipeline.wake(); }, held, *role != ServeRole::builder);
    util::log_info("serve", "role " + std::string(parsed.value("--role").empty() ? "all" : parsed.value("--role")) +
                                ", instance " + cfg.cluster.instance_id);
    return serve_until_stopped(cfg, signals, routes, pipeline, pruner, **store, *role);
}

}  // namespace hookyard::cli
