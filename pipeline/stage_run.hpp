#pragma once
// StageRunner's one run of one build, shared by the files that define its stages (stage_runner.cpp:
// checkout, locate, build, test; stage_run_push.cpp: push and what follows it). Private to pipeline/.

#include <atomic>
#include <filesystem>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "pipeline/reuse.hpp"
#include "pipeline/stage_runner.hpp"
#include "storage/log_writer.hpp"

namespace hookyard::pipeline {

// The state of one run: where it works, what each stage produced, the outcome so far. Each stage is one
// named member function returning its Status; stage() records it.
class StageRunner::Run {
public:
    Run(StageRunner& owner, const storage::Build& build, CancelToken& token);

    RunOutcome execute();
    RunOutcome execute_stages();

private:
    // Finds the build's repository, rule and registry in the config; false (m_outcome filled) when gone.
    bool resolve();
    // The pushed digest when a crashed attempt already pushed every image of the build with one digest.
    std::optional<std::string> all_pushed() const;
    // A fresh <data_dir>/work/<id>-<attempt>; the directories of earlier attempts are removed.
    void make_work_dir();
    // Runs `fn` as stage `name`; returns false (with m_outcome filled) when it failed or was canceled.
    // `token` (default: the build's) is the cancel that stops it. Thread-safe (platforms' stages run at once).
    bool stage(const std::string& name, const std::function<util::Status()>& fn, CancelToken* token = nullptr);
    util::Status checkout_stage();
    util::Status locate_stage();
    // Re-tags an identical succeeded build's image (pipeline/reuse.hpp) in the build stage's place, or builds.
    bool build_or_reuse();
    util::Status build_stage();
    // One "build <platform>" stage per platform, in parallel; false (m_outcome filled) when one failed.
    bool build_platforms();
    // The same for an executor that builds every platform in one job (one buildah process).
    bool build_platforms_in_one(PlatformsJob& job);
    // Runs one build job to its end (canceled with `token`) into `out`.
    util::Status run_build(BuildRequest req, CancelToken& token, BuildResult& out, const std::string& log_prefix);
    // Runs the build's *.test.yml files (pipeline/executor/test_stage.hpp) against the built image; with
    // several platforms, against the host's (else the first) platform's image.
    util::Status test_stage();
    util::Status push_stage();
    // The push stage; true without one for a build that pushes nothing (a pull request's, see records.hpp).
    bool push_unless_pull_request();
    // Pushes every platform's image and an index to `images`; records each platform's digest once.
    util::Result<std::string> push_platforms(PushRequest& req);
    // The rule's cache setting; never for a fork's pull request: its layers must not land in the cache a
    // branch build reuses, nor may it reuse layers built with the configured build args.
    bool uses_cache() const {
        return (m_rule && m_rule->cache ? *m_rule->cache : m_config.builder.cache) && !m_build.pull_request_external;
    }
    // What the build and the hooks share: paths, build args, Docker Hub's variables, limits.
    BuildRequest build_request() const;
    // Moves the work dir of a failed build to <data_dir>/kept/<id> when the config asks for it.
    void keep_failed_work();
    // Deletes the built OCI layout and releases the final image (the push is over, whatever its outcome).
    void release_built_images();
    // The build ends `state` with `error`; a shutdown leaves it to crash recovery.
    void end(storage::BuildState state, std::string error);
    void log(std::string_view line);
    LogSink sink(std::string prefix = "") {
        return [this, prefix = std::move(prefix)](std::string_view line) {
            prefix.empty() ? log(line) : log(prefix + std::string(line));
        };
    }
    util::Status canceled_status() const {
        return util::make_error(util::ErrorKind::canceled, m_token.reason() == CancelToken::Reason::shutdown
                                                               ? "interrupted by shutdown"
                                                               : "canceled");
    }

    StageRunner& m_owner;
    const config::Config& m_config;
    storage::Build m_build;  // a copy: checkout may render its tags again (commit_tags.hpp)
    CancelToken& m_token;
    RunOutcome m_outcome;
    std::mutex m_outcome_mutex;  // platforms' stages end at once: the first failure is the build's
    bool m_ended = false;
    storage::LogWriter m_log;  // batches the log's writes; closed before run() returns

    const config::RepositoryConfig* m_repo = nullptr;
    const config::RegistryConfig* m_registry = nullptr;
    const config::Rule* m_rule = nullptr;
    std::filesystem::path m_work;
    WorkDir m_work_dir;
    std::optional<Checkout> m_checkout;
    BuildLocation m_location;
    BuildResult m_built;
    std::vector<std::string> m_platforms;        // what the rule builds; one or none = a plain build
    std::vector<BuildResult> m_platforms_built;  // multi-platform: one per m_platforms entry
    std::string m_commit;                        // the build's, or the one checkout resolved
    ReuseDecision m_reuse;     // at build: the identity, and the build whose image is re-tagged instead
    std::string m_superseded;  // set at checkout when the build is a replay (push_guards.hpp): why it stops
};

}  // namespace hookyard::pipeline
