#include "pipeline/stage_runner.hpp"

#include <atomic>
#include <filesystem>
#include <mutex>
#include <shared_mutex>

#include "config/platform.hpp"
#include "config/rules.hpp"
#include "pipeline/commit_tags.hpp"
#include "pipeline/executor/platforms_job.hpp"
#include "pipeline/executor/test_stage.hpp"
#include "pipeline/platform_builds.hpp"
#include "pipeline/push_guards.hpp"
#include "pipeline/stage_run.hpp"
#include "util/log.hpp"

namespace fs = std::filesystem;

namespace hookyard::pipeline {
namespace {

constexpr const char* k_component = "pipeline";

// Docker Hub's DOCKERFILE_PATH: the Dockerfile relative to the context.
std::string relative_dockerfile(const BuildLocation& loc) {
    return fs::path(loc.dockerfile).lexically_relative(loc.context_dir).generic_string();
}

storage::LogLimits log_limits(const config::Config& config) {
    storage::LogLimits limits;
    limits.max_size = config.builder.max_log_size;
    return limits;
}

}  // namespace

StageRunner::Run::Run(StageRunner& owner, const storage::Build& build, CancelToken& token)
    : m_owner(owner),
      m_config(owner.m_config),
      m_build(build),
      m_token(token),
      m_log(owner.m_store, build.id, log_limits(owner.m_config)),
      m_commit(build.commit) {}

StageRunner::StageRunner(const config::Config& config, storage::Store& store, CheckoutService& checkout,
                         Executor& executor, ImagePusher& pusher, BuildObserver* observer, PlatformSupport platforms,
                         FinalImages* final_images)
    : m_config(config),
      m_store(store),
      m_checkout(checkout),
      m_executor(executor),
      m_pusher(pusher),
      m_observer(observer),
      m_platforms(std::move(platforms)),
      m_final_images(final_images) {}

RunOutcome StageRunner::run(const storage::Build& build, CancelToken& token) {
    return Run(*this, build, token).execute();
}

void StageRunner::clean_work_dirs(const std::string& data_dir) {
    std::error_code ec;
    const fs::path work = fs::path(data_dir) / "work";
    if (!fs::exists(work, ec)) return;
    for (const auto& entry : fs::directory_iterator(work, ec)) {
        util::log_info(k_component, "removing leftover work dir " + entry.path().string());
        fs::remove_all(entry.path(), ec);
    }
}

void StageRunner::Run::log(std::string_view line) {
    m_log.line(line);
    if (m_owner.m_observer) m_owner.m_observer->on_log(m_build.id, line);
}

void StageRunner::Run::end(storage::BuildState state, std::string error) {
    const std::lock_guard lock(m_outcome_mutex);
    // A platform's failure cancels its siblings: their "canceled" must not hide the cause.
    if (m_ended) return;
    m_ended = true;
    m_outcome.state = state;
    m_outcome.error = std::move(error);
    m_outcome.interrupted = m_token.reason() == CancelToken::Reason::shutdown;
}

bool StageRunner::Run::stage(const std::string& name, const std::function<util::Status()>& fn, CancelToken* token) {
    CancelToken& cancel = token != nullptr ? *token : m_token;
    if (cancel.canceled()) {
        end(storage::BuildState::canceled, canceled_status().error().message);
        return false;
    }
    auto& store = m_owner.m_store;
    auto* observer = m_owner.m_observer;
    if (auto st = store.start_stage(m_build.id, name); !st) {
        end(storage::BuildState::failed, "cannot record stage " + name + ": " + st.error().message);
        return false;
    }
    const auto started = std::chrono::steady_clock::now();
    if (observer) observer->on_stage(m_build.id, name, storage::BuildState::running, {}, "");
    log("hookyard: stage " + name + " started");
    util::Status result = fn();
    if (result && cancel.canceled()) result = canceled_status();
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    storage::BuildState state = storage::BuildState::succeeded;
    std::string error;
    if (!result) {
        error = result.error().message;
        state = result.error().kind == util::ErrorKind::canceled ? storage::BuildState::canceled
                                                                 : storage::BuildState::failed;
    }
    if (auto st = store.finish_stage(m_build.id, name, state, error); !st) {
        util::log_warn(k_component, "build " + std::to_string(m_build.id) + ": stage " + name +
                                        " not recorded: " + st.error().message);
    }
    if (observer) observer->on_stage(m_build.id, name, state, elapsed, error);
    log("hookyard: stage " + name + " " + std::string(storage::to_string(state)) + " in " +
        std::to_string(elapsed.count()) + " ms" + (error.empty() ? "" : ": " + error));
    m_log.flush();  // a stage's end is visible to followers at once
    if (!result) end(state, name + ": " + error);
    return result.ok();
}

bool StageRunner::Run::resolve() {
    m_repo = m_config.find_repository(m_build.repository);
    if (m_repo == nullptr) {
        m_outcome.error = "repository " + m_build.repository + " is no longer in the config; add it back or cancel";
        return false;
    }
    m_registry = m_config.registry_for(*m_repo);
    m_rule = m_build.rule < m_repo->rules.size() ? &m_repo->rules[m_build.rule] : nullptr;
    m_platforms = config::platforms_for(m_config.builder, m_rule);
    return true;
}

std::optional<std::string> StageRunner::Run::all_pushed() const {
    std::optional<std::string> digest;
    for (const auto& tag : m_build.tags) {
        const auto it = m_build.pushed.find(m_build.image + ":" + tag);
        if (it == m_build.pushed.end() || (digest && *digest != it->second)) return std::nullopt;
        digest = it->second;
    }
    return digest;
}

void StageRunner::Run::make_work_dir() {
    const fs::path work = fs::path(m_config.data_dir) / "work";
    std::error_code ec;
    for (int attempt = 0; attempt < m_build.attempts; ++attempt) {
        fs::remove_all(work / (std::to_string(m_build.id) + "-" + std::to_string(attempt)), ec);
    }
    m_work = work / (std::to_string(m_build.id) + "-" + std::to_string(m_build.attempts));
    fs::remove_all(m_work, ec);  // only a process of this attempt could have written here
    fs::create_directories(m_work, ec);
    m_work_dir = WorkDir(m_work.string());
}

RunOutcome StageRunner::Run::execute() {
    if (!resolve()) return m_outcome;
    const auto result = execute_stages();
    m_log.close();  // the whole log is stored before the build's end state is
    return result;
}

RunOutcome StageRunner::Run::execute_stages() {
    if (const auto digest = all_pushed()) {
        // A crash came after the last manifest PUT and before the finish: building again could only
        // produce a second digest for the same build.
        const bool ok = stage("push", [&]() -> util::Status {
            for (const auto& [image, d] : m_build.pushed)
                log("hookyard: " + image + "@" + d + " pushed before the restart");
            return {};
        });
        if (ok) {
            m_outcome.state = storage::BuildState::succeeded;
            m_outcome.digest = *digest;
            m_outcome.error.clear();
        }
        return m_outcome;
    }
    make_work_dir();

    const bool ok =
        stage("checkout", [this] { return checkout_stage(); }) &&
        (!m_superseded.empty() ||
         (stage("locate", [this] { return locate_stage(); }) && build_or_reuse() &&
          (m_reuse.source || !has_tests(build_request()) || stage("test", [this] { return test_stage(); })) &&
          push_unless_pull_request()));
    release_built_images();
    if (ok && !m_superseded.empty()) {
        m_outcome.state = storage::BuildState::superseded;
        m_outcome.error = m_superseded;
    } else if (ok) {
        m_outcome.state = storage::BuildState::succeeded;
        m_outcome.error.clear();
    } else {
        keep_failed_work();
    }
    return m_outcome;
}

util::Status StageRunner::Run::checkout_stage() {
    // A tag another ref owns fails the build before anything is fetched; push_stage checks again.
    if (auto st = check_tag_owners(m_owner.m_store, m_build, m_repo->allow_tag_collisions); !st) return st;
    CheckoutRequest req;
    req.repo_key = m_repo->github;
    // The config's clone_url wins; the payload's repository.clone_url is the fallback.
    req.clone_url = m_repo->clone_url.empty() ? m_build.clone_url : m_repo->clone_url;
    req.ref = m_build.ref;
    req.commit = m_build.commit;
    req.dest_dir = (m_work / "src").string();
    req.submodules = m_rule && m_rule->submodules;
    req.submodule_policy.extra_hosts = m_config.submodules.hosts;
    req.submodule_policy.allow_local = m_config.submodules.allow_local;
    req.auth = make_git_auth(m_config.git_for(*m_repo), m_repo->git.empty() ? "" : m_repo->github);
    req.cancel = &m_token;
    if (req.clone_url.empty()) {
        return util::make_error(util::ErrorKind::invalid_input,
                                "no clone URL: set clone_url for " + m_repo->github + " in the config");
    }
    log("hookyard: fetching " + util::redact_url(req.clone_url) + " " + req.ref);
    auto result = m_owner.m_checkout.checkout(req);
    if (!result) return result.error();
    m_commit = result->commit;
    if (m_build.commit.empty()) {
        if (auto st = m_owner.m_store.set_commit(m_build.id, m_commit); !st) return st;
    }
    log("hookyard: checked out " + m_commit + " (" + std::to_string(result->stats.received_objects) +
        " objects fetched)");
    m_checkout.emplace(std::move(result.value()));
    if (auto st = render_commit_tags(m_owner.m_store, *m_repo, m_build, m_commit, m_token, sink()); !st) return st;
    auto replay = replay_reason(m_owner.m_store, m_owner.m_checkout, m_repo->github, m_build);
    if (!replay) return replay.error();
    m_superseded = *replay;
    if (!m_superseded.empty()) log("hookyard: superseded: " + m_superseded);
    return {};
}

util::Status StageRunner::Run::locate_stage() {
    auto loc = locate(m_checkout->dir.path(), m_build.context, m_build.dockerfile);
    if (!loc) return loc.error();
    m_location = *loc;
    log("hookyard: Dockerfile " + m_location.dockerfile_rel + ", context " + m_location.context_rel);
    return {};
}

BuildRequest StageRunner::Run::build_request() const {
    BuildRequest req;
    req.cache = uses_cache();
    req.layout_dir = (m_work / "layout").string();
    req.work_dir = (m_work / "tmp").string();
    req.build_id = std::to_string(m_build.id);
    req.context_dir = m_location.context_dir;
    req.dockerfile = m_location.dockerfile;
    req.build_args = m_build.build_args;
    req.docker_hub.source_branch = m_build.source_name;
    req.docker_hub.source_commit = m_commit;
    req.docker_hub.commit_msg = m_build.head_commit_message;
    req.docker_hub.docker_repo = m_build.image;
    req.docker_hub.dockerfile_path = relative_dockerfile(m_location);
    req.docker_hub.docker_tag = m_build.tags.empty() ? "latest" : m_build.tags.front();
    // A fork's hooks/ would run on this host, and its FROM could pull a private image with our credentials.
    req.hooks = m_repo->hooks && !m_build.pull_request_external;
    req.registry_credentials = !m_build.pull_request_external;
    req.timeout = m_config.builder.timeout;
    req.layout_ref = req.docker_hub.docker_tag;
    req.labels = provenance_labels(util::redact_url(m_repo->clone_url.empty() ? m_build.clone_url : m_repo->clone_url),
                                   m_commit, m_reuse);
    return req;
}

bool StageRunner::Run::build_or_reuse() {
    BuildRequest req = build_request();
    const ReuseInputs in{m_build, *m_repo, m_rule, m_location, req.docker_hub.to_map(), m_platforms};
    m_reuse = decide_reuse(m_config, m_owner.m_store, m_owner.m_pusher, in, sink(), m_token);
    if (m_reuse.source) {
        // The image is in the registry already: the push stage re-tags it, no hook runs.
        return stage("build", [this] {
            log("hookyard: reused from #" + std::to_string(m_reuse.reused_from) + " (" + m_reuse.source->image + "@" +
                m_reuse.source->digest + ")");
            return util::Status{};
        });
    }
    return m_platforms.size() > 1 ? build_platforms() : stage("build", [this] { return build_stage(); });
}

util::Status StageRunner::Run::build_stage() {
    BuildRequest req = build_request();
    // One platform that is not the host's: built for it, still a plain manifest at the tags.
    if (config::is_multi_platform(m_platforms)) {
        if (auto st = m_owner.m_platforms.check(m_platforms); !st) return st;
        req.platform = m_platforms.front();
    }
    return run_build(std::move(req), m_token, m_built, "");
}

util::Status StageRunner::Run::run_build(BuildRequest req, CancelToken& token, BuildResult& out,
                                         const std::string& log_prefix) {
    // Until the layout is exported: a final image another build released may be this build's cache.
    FinalImages::Building building;
    if (m_owner.m_final_images != nullptr && req.cache) building = m_owner.m_final_images->building();
    auto job = m_owner.m_executor.start(std::move(req), sink(log_prefix));
    auto result = [&] {
        CancelCallback stop_job(token, [&job] { job->cancel(); });
        return job->wait();
    }();
    if (!result) return result.error();
    out = *result;
    return {};
}

bool StageRunner::Run::build_platforms() {
    // Nothing builds when one platform cannot: a half-built set would be pushed by no one.
    for (const auto& platform : m_platforms) {
        if (auto st = m_owner.m_platforms.check({platform}); !st) {
            return stage("build " + platform, [&st] { return st; });
        }
    }
    const BuildRequest base = build_request();
    const auto started = std::chrono::steady_clock::now();
    m_platforms_built.assign(m_platforms.size(), BuildResult{});
    PlatformsRequest request{base, {}, m_config.builder.platform_parallelism};
    for (const auto& platform : m_platforms) {
        request.platforms.push_back(platform_request(base, platform, m_work.string(), started));
    }
    {
        // Until the layouts are exported: a final image another build released may be this build's cache.
        FinalImages::Building building;
        if (m_owner.m_final_images != nullptr && base.cache) building = m_owner.m_final_images->building();
        if (auto job = m_owner.m_executor.start_platforms(request, sink())) return build_platforms_in_one(*job);
    }
    CancelToken siblings;  // stops every platform: the build's cancel, or one platform failing
    CancelCallback forward(m_token, [this, &siblings] { siblings.cancel(m_token.reason()); });
    std::atomic<bool> all_ok{true};
    run_parallel(m_platforms.size(), m_config.builder.platform_parallelism, siblings, [&](std::size_t i) {
        const auto build = [&] {
            return run_build(platform_request(base, m_platforms[i], m_work.string(), started), siblings,
                             m_platforms_built[i], "[" + m_platforms[i] + "] ");
        };
        if (!stage("build " + m_platforms[i], build, &siblings)) {
            all_ok = false;
            siblings.cancel(CancelToken::Reason::canceled);
        }
    });
    // A cancel that came after the last platform finished is the push stage's to report.
    return all_ok;
}

bool StageRunner::Run::build_platforms_in_one(PlatformsJob& job) {
    CancelCallback stop_job(m_token, [&job] { job.cancel(); });
    std::atomic<bool> all_ok{true};
    // Each platform's stage is recorded whenever the cancel comes: its outcome (canceled then) ends it.
    CancelToken never;
    run_parallel(m_platforms.size(), static_cast<int>(m_platforms.size()), never, [&](std::size_t i) {
        // The stage starts with the platform's first build step in buildah's output, and ends with its export.
        job.wait_started(i);
        const auto built = [&]() -> util::Status {
            auto result = job.wait(i);
            if (!result) return result.error();
            m_platforms_built[i] = *result;
            return {};
        };
        if (!stage("build " + m_platforms[i], built, &never)) all_ok = false;
    });
    const util::Status whole = job.wait_all();
    if (all_ok && !whole) {
        // Each platform built, yet one exported image is not what buildah's manifest list holds for it.
        end(whole.error().kind == util::ErrorKind::canceled ? storage::BuildState::canceled
                                                            : storage::BuildState::failed,
            "build " + whole.error().message);
        return false;
    }
    return all_ok;
}

util::Status StageRunner::Run::test_stage() {
    const BuildResult* image = &m_built;
    for (std::size_t i = 0; i < m_platforms_built.size(); ++i) {
        if (i == 0 || m_platforms[i] == config::host_platform().text()) image = &m_platforms_built[i];
    }
    TestRequest req{build_request(), image->image_id, "oci:" + image->layout_dir + ":" + image->layout_ref};
    auto job = m_owner.m_executor.start_tests(std::move(req), sink());
    CancelCallback stop_job(m_token, [&job] { job->cancel(); });
    return job->wait();
}

}  // namespace hookyard::pipeline
