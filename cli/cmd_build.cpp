// hookyard build -c FILE --repo owner/name --ref REF [--commit SHA] [--no-reuse] [--verbose]
// Runs the same pipeline as the service, in the foreground, with progress on the terminal.

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <mutex>

#include "cli/build_sandbox.hpp"
#include "cli/commands.hpp"
#include "cli/config_file.hpp"
#include "cli/pipeline_service.hpp"
#include "config/rules.hpp"
#include "storage/new_build.hpp"
#include "util/log.hpp"

namespace hookyard::cli {
namespace {

constexpr const char* k_usage =
    "usage: hookyard build -c FILE --repo owner/name --ref refs/heads/main [--commit SHA] [--no-reuse] [--verbose]\n"
    "  runs one build of the rules matching REF in the foreground; exit 0 and image@digest lines on success\n";

// Prints stages as they start and end, and the build log with --verbose.
class TerminalObserver : public pipeline::BuildObserver {
public:
    explicit TerminalObserver(bool verbose) : m_verbose(verbose) {}
    void on_stage(storage::BuildId id, std::string_view stage, storage::BuildState state,
                  std::chrono::milliseconds elapsed, std::string_view error) override {
        std::lock_guard lock(m_mutex);
        if (state == storage::BuildState::running) {
            std::printf("build %lld: %.*s ...\n", static_cast<long long>(id), static_cast<int>(stage.size()),
                        stage.data());
        } else {
            std::printf("build %lld: %.*s %s in %.1f s%s%.*s\n", static_cast<long long>(id),
                        static_cast<int>(stage.size()), stage.data(), std::string(storage::to_string(state)).c_str(),
                        static_cast<double>(elapsed.count()) / 1000.0, error.empty() ? "" : ": ",
                        static_cast<int>(error.size()), error.data());
        }
        std::fflush(stdout);
    }
    void on_log(storage::BuildId, std::string_view line) override {
        if (!m_verbose) return;
        std::lock_guard lock(m_mutex);
        std::printf("  | %.*s\n", static_cast<int>(line.size()), line.data());
        std::fflush(stdout);
    }

private:
    bool m_verbose;
    std::mutex m_mutex;
};

// Runs one planned build in the foreground and prints its outcome; returns whether it succeeded, or an
// error from the store.
util::Result<bool> run_one(PipelineService& service, storage::Store& store, const config::RepositoryConfig& repo,
                           const config::PlannedBuild& planned, const std::string& ref, const std::string& commit,
                           bool reuse) {
    auto nb = storage::make_new_build(repo, planned, ref);
    nb.commit = commit;
    nb.reuse = reuse;
    nb.pusher = "hookyard-cli";
    nb.trigger_type = "api";
    nb.trigger_reason = "hookyard build --ref " + ref + (commit.empty() ? "" : " --commit " + commit);
    auto inserted = store.insert_builds({nb});
    if (!inserted) return inserted.error();
    auto build = store.claim(inserted->front().id);
    if (!build) return build.error();
    std::printf("build %lld: %s %s → %s (rule %zu)\n", static_cast<long long>(build->id), repo.github.c_str(),
                ref.c_str(), planned.images.front().c_str(), planned.rule_index);
    const auto started = std::chrono::steady_clock::now();
    pipeline::CancelToken token;
    const auto result = service.runner().run(*build, token);
    if (auto st = store.finish_build(build->id, result.state, result.digest, result.error); !st) {
        std::fprintf(stderr, "hookyard: %s\n", st.error().message.c_str());
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (result.state != storage::BuildState::succeeded) {
        std::fprintf(stderr, "build %lld: %s after %.1f s: %s\n", static_cast<long long>(build->id),
                     std::string(storage::to_string(result.state)).c_str(), seconds, result.error.c_str());
        return false;
    }
    std::printf("build %lld: succeeded in %.1f s\n", static_cast<long long>(build->id), seconds);
    for (const auto& image : planned.images) std::printf("%s@%s\n", image.c_str(), result.digest.c_str());
    return true;
}

// Opens the store and runs every planned build; the exit code.
int run_plan(const config::Config& cfg, const config::RepositoryConfig& repo, const config::Plan& plan,
             const std::string& ref, const ParsedArgs& parsed) {
    std::error_code ec;
    std::filesystem::create_directories(cfg.data_dir, ec);
    auto store = storage::open_store(cfg.storage);
    if (!store) {
        std::fprintf(stderr, "hookyard: %s\n", store.error().message.c_str());
        return 1;
    }
    // The sandbox of `hookyard serve`, by the same path: this build runs as the service would run it.
    auto sandbox = start_sandbox(cfg);
    if (!sandbox) {
        std::fprintf(stderr, "hookyard: %s\n", sandbox.error().message.c_str());
        return 1;
    }
    TerminalObserver observer(parsed.has("--verbose"));
    PipelineService service(cfg, **store, &observer, std::move(*sandbox));
    // Nothing renews this process's claims: on a database that serve instances share, a name of its own
    // and a long lease keep them (and a restart of this host's serve) from taking the build it runs.
    (*store)->set_cluster(storage::ClusterIdentity{cfg.cluster.instance_id + "-build-" + std::to_string(::getpid()),
                                                   std::chrono::hours(24)});
    service.dispatcher().start();  // notifications of this build go out while it runs
    int failures = 0;
    for (const auto& planned : plan.builds) {
        auto ok = run_one(service, **store, repo, planned, ref, parsed.value("--commit"), !parsed.has("--no-reuse"));
        if (!ok) {
            std::fprintf(stderr, "hookyard: %s\n", ok.error().message.c_str());
            return 1;
        }
        failures += *ok ? 0 : 1;
    }
    service.wake();
    service.dispatcher().stop();  // undelivered notifications stay queued for `hookyard serve`
    return failures == 0 ? 0 : 1;
}

}  // namespace

int cmd_build(const Args& args) {
    // Unknown flags are ignored, as they always were.
    const auto parsed = parse_args(
        args,
        {{{"--config", "-c"}, {"--repo"}, {"--ref"}, {"--commit"}, bool_flag("--verbose"), bool_flag("--no-reuse")}});
    const std::string path = parsed.value("--config"), repo_name = parsed.value("--repo");
    std::string ref = parsed.value("--ref");
    if (parsed.help || path.empty() || repo_name.empty() || ref.empty()) return print_usage(k_usage, parsed.help);
    if (ref.rfind("refs/", 0) != 0) ref = "refs/heads/" + ref;  // a bare name means a branch, as on Docker Hub
    const auto cfg = load_config_or_report(path);
    if (!cfg) return 2;
    const auto* repo = cfg->find_repository(repo_name);
    if (repo == nullptr) {
        std::fprintf(stderr, "hookyard: repository %s is not in %s; add it under repositories:\n", repo_name.c_str(),
                     path.c_str());
        return 2;
    }
    config::PushInfo push;
    push.ref = ref;
    push.manual = true;
    const auto plan = config::plan_builds(*repo, push);
    if (plan.builds.empty()) {
        std::fprintf(stderr, "hookyard: nothing to build: %s\n", plan.skipped_reason.c_str());
        return 2;
    }
    if (!parsed.has("--verbose")) util::set_log_level(util::LogLevel::warn);
    return run_plan(*cfg, *repo, plan, ref, parsed);
}

}  // namespace hookyard::cli
