#include "pipeline/stage_runner.hpp"

#include <filesystem>

#include "config/rules.hpp"
#include "util/log.hpp"

namespace fs = std::filesystem;

namespace hookyard::pipeline {
namespace {

constexpr const char* k_component = "pipeline";

// Docker Hub's DOCKERFILE_PATH: the Dockerfile relative to the context.
std::string relative_dockerfile(const BuildLocation& loc) {
    return fs::path(loc.dockerfile).lexically_relative(loc.context_dir).generic_string();
}

}  // namespace

// The state of one run: the stage being recorded, the log sink, the outcome so far.
class StageRunner::Run {
public:
    Run(StageRunner& owner, const storage::Build& build, CancelToken& token)
        : m_owner(owner), m_build(build), m_token(token) {}

    RunOutcome execute();

private:
    // Runs `fn` as stage `name`; returns false (with m_outcome filled) when it failed or was canceled.
    bool stage(const std::string& name, const std::function<util::Status()>& fn);
    void log(std::string_view line);
    LogSink sink() {
        return [this](std::string_view line) { log(line); };
    }
    util::Status canceled_status() const {
        return util::make_error(util::ErrorKind::canceled,
                                m_token.reason() == CancelToken::Reason::shutdown ? "interrupted by shutdown"
                                                                                   : "canceled");
    }

    StageRunner& m_owner;
    const storage::Build& m_build;
    CancelToken& m_token;
    RunOutcome m_outcome;
};

StageRunner::StageRunner(const config::Config& config, storage::Store& store, CheckoutService& checkout,
                         Executor& executor, ImagePusher& pusher, BuildObserver* observer)
    : m_config(config), m_store(store), m_checkout(checkout), m_executor(executor), m_pusher(pusher),
      m_observer(observer) {}

RunOutcome StageRunner::run(const storage::Build& build, CancelToken& token) { return Run(*this, build, token).execute(); }

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
    std::string text(line);
    text.push_back('\n');
    if (auto st = m_owner.m_store.append_log(m_build.id, text); !st) {
        util::log_warn(k_component, "build " + std::to_string(m_build.id) + ": log append failed: " + st.error().message);
    }
    if (m_owner.m_observer) m_owner.m_observer->on_log(m_build.id, line);
}

bool StageRunner::Run::stage(const std::string& name, const std::function<util::Status()>& fn) {
    if (m_token.canceled()) {
        m_outcome.state = storage::BuildState::canceled;
        m_outcome.error = canceled_status().error().message;
        m_outcome.interrupted = m_token.reason() == CancelToken::Reason::shutdown;
        return false;
    }
    auto& store = m_owner.m_store;
    auto* observer = m_owner.m_observer;
    if (auto st = store.start_stage(m_build.id, name); !st) {
        m_outcome.state = storage::BuildState::failed;
        m_outcome.error = "cannot record stage " + name + ": " + st.error().message;
        return false;
    }
    const auto started = std::chrono::steady_clock::now();
    if (observer) observer->on_stage(m_build.id, name, storage::BuildState::running, {}, "");
    log("hookyard: stage " + name + " started");
    util::Status result = fn();
    if (result && m_token.canceled()) result = canceled_status();
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
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
    if (!result) {
        m_outcome.state = state;
        m_outcome.error = name + ": " + error;
        m_outcome.interrupted = m_token.reason() == CancelToken::Reason::shutdown;
        return false;
    }
    return true;
}

RunOutcome StageRunner::Run::execute() {
    const config::Config& config = m_owner.m_config;
    const auto* repo = config.find_repository(m_build.repository);
    if (repo == nullptr) {
        m_outcome.error = "repository " + m_build.repository + " is no longer in the config; add it back or cancel";
        return m_outcome;
    }
    const auto* registry = config.registry_for(*repo);
    const config::Rule* rule = m_build.rule < repo->rules.size() ? &repo->rules[m_build.rule] : nullptr;
    const fs::path work = fs::path(config.data_dir) / "work" / std::to_string(m_build.id);
    std::error_code ec;
    fs::remove_all(work, ec);  // a re-queued build starts from scratch
    fs::create_directories(work, ec);
    WorkDir work_dir(work.string());

    std::optional<Checkout> checkout;
    BuildLocation location;
    BuildResult built;
    std::string commit = m_build.commit;
    // What the build and the hooks share: paths, build args, Docker Hub's variables, limits.
    const auto build_request = [&] {
        BuildRequest req;
        req.build_id = std::to_string(m_build.id);
        req.context_dir = location.context_dir;
        req.dockerfile = location.dockerfile;
        req.build_args = m_build.build_args;
        req.docker_hub.source_branch = m_build.source_name;
        req.docker_hub.source_commit = commit;
        req.docker_hub.commit_msg = m_build.head_commit_message;
        req.docker_hub.docker_repo = m_build.image;
        req.docker_hub.dockerfile_path = relative_dockerfile(location);
        req.docker_hub.docker_tag = m_build.tags.empty() ? "latest" : m_build.tags.front();
        req.hooks = repo->hooks;
        req.timeout = config.builder.timeout;
        return req;
    };

    const bool ok =
        stage("checkout",
              [&]() -> util::Status {
                  CheckoutRequest req;
                  req.repo_key = repo->github;
                  // The config's clone_url wins; the payload's repository.clone_url is the fallback.
                  req.clone_url = repo->clone_url.empty() ? m_build.clone_url : repo->clone_url;
                  req.ref = m_build.ref;
                  req.commit = m_build.commit;
                  req.dest_dir = (work / "src").string();
                  req.submodules = rule && rule->submodules;
                  req.auth = make_git_auth(config.git_for(*repo), repo->git.empty() ? "" : repo->github);
                  if (req.clone_url.empty()) {
                      return util::make_error(util::ErrorKind::invalid_input,
                                              "no clone URL: set clone_url for " + repo->github + " in the config");
                  }
                  log("hookyard: fetching " + util::redact_url(req.clone_url) + " " + req.ref);
                  auto result = m_owner.m_checkout.checkout(req);
                  if (!result) return result.error();
                  commit = result->commit;
                  if (m_build.commit.empty()) {
                      if (auto st = m_owner.m_store.set_commit(m_build.id, commit); !st) return st;
                  }
                  log("hookyard: checked out " + commit + " (" + std::to_string(result->stats.received_objects) +
                      " objects fetched)");
                  checkout.emplace(std::move(result.value()));
                  return {};
              }) &&
        stage("locate",
              [&]() -> util::Status {
                  auto loc = locate(checkout->dir.path(), m_build.context, m_build.dockerfile);
                  if (!loc) return loc.error();
                  location = *loc;
                  log("hookyard: Dockerfile " + location.dockerfile_rel + ", context " + location.context_rel);
                  return {};
              }) &&
        stage("build",
              [&]() -> util::Status {
                  BuildRequest req = build_request();
                  req.cache = rule && rule->cache ? *rule->cache : config.builder.cache;
                  req.layout_dir = (work / "layout").string();
                  req.layout_ref = req.docker_hub.docker_tag;
                  req.work_dir = (work / "tmp").string();
                  auto job = m_owner.m_executor.start(req, sink());
                  const int cancel_id = m_token.on_cancel([&job] { job->cancel(); });
                  auto result = job->wait();
                  m_token.remove(cancel_id);
                  if (!result) return result.error();
                  built = *result;
                  return {};
              }) &&
        stage("push", [&]() -> util::Status {
            if (registry == nullptr) {
                return util::make_error(util::ErrorKind::invalid_input,
                                        "registry '" + repo->registry + "' is not configured");
            }
            const BuildRequest hook_req = build_request();
            if (auto st = m_owner.m_executor.run_hook(Hook::pre_push, hook_req, sink()); !st) return st;
            PushRequest req;
            req.layout_dir = built.layout_dir;
            req.layout_ref = built.layout_ref;
            req.registry = *registry;
            for (const auto& tag : m_build.tags) req.images.push_back(m_build.image + ":" + tag);
            auto digest = m_owner.m_pusher.push(req, sink(), m_token);
            if (!digest) return digest.error();
            m_outcome.digest = *digest;
            for (const auto& image : req.images) log("hookyard: pushed " + image + "@" + *digest);
            return m_owner.m_executor.run_hook(Hook::post_push, hook_req, sink());
        });

    if (ok) {
        m_outcome.state = storage::BuildState::succeeded;
        m_outcome.error.clear();
    } else if (config.builder.keep_failed_workdirs && !m_outcome.interrupted) {
        // Kept under <data_dir>/kept, out of <data_dir>/work, which start-up clears of crash leftovers.
        work_dir.keep();
        if (checkout) checkout->dir.keep();
        const fs::path kept = fs::path(config.data_dir) / "kept" / std::to_string(m_build.id);
        fs::create_directories(kept.parent_path(), ec);
        fs::remove_all(kept, ec);
        fs::rename(work, kept, ec);
        log("hookyard: work dir kept for inspection: " + (ec ? work : kept).string());
    }
    return m_outcome;
}

}  // namespace hookyard::pipeline
