#pragma once
// One buildah build, step by step (see buildah_executor.hpp for the sequence). Internal to the executor.

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "pipeline/executor/build_cgroup.hpp"
#include "pipeline/executor/buildah_executor.hpp"
#include "pipeline/executor/child_process.hpp"

namespace hookyard::pipeline {

// The environment hooks and buildah get: options.env with PATH defaulted, plus HOOKYARD_BUILDAH_ROOT /
// HOOKYARD_BUILDAH_RUNROOT when the executor uses a non-default storage (a hooks/build script that calls
// buildah must pass them as --root/--runroot so the image lands where the executor looks for it).
std::map<std::string, std::string> executor_base_env(const BuildahOptions& options);

// `buildah [--cgroup-manager M] [--root R] [--runroot RR] args…`: the executor's storage, and the cgroup
// manager of the sandbox under OCI isolation.
std::vector<std::string> buildah_command(const BuildahOptions& options, std::vector<std::string> args);

// What a storage command (`buildah images/rm/rmi/info`, `skopeo delete`) printed and how it ended.
struct StorageCommandOutcome {
    int exit_code = 0;   // 128 + the signal when it was killed
    std::string output;  // stdout and stderr, merged, a '\n' after each line
};

// Runs `argv` (e.g. buildah_command(options, …), or skopeo) with executor_base_env(options), killed after
// `timeout` (then options.kill_grace). Blocking, thread-safe. Errors only when it cannot run (not_found).
util::Result<StorageCommandOutcome> run_storage_command(const BuildahOptions& options, std::vector<std::string> argv,
                                                        std::chrono::seconds timeout);

// The JSON list a `buildah … --json` command printed in `output`. buildah prints warnings on the same stream,
// and a warning may hold '[' ("containers-storage:[overlay@…]"), so the list runs from the first line that
// begins with '[' to the first line after it that begins with ']' (or is that one line, "[]"); a line "null"
// (buildah's answer for none) is an empty list. An error names `command` when there is no list.
util::Result<nlohmann::json> buildah_json_list(const std::string& output, const std::string& command);

class BuildahRun {
    friend class PlatformsRun;  // buildah_multi.cpp: one build of several platforms, each exported by export_layout()

public:
    // `cancel` must outlive the run. Not thread-safe; run() is called once, on a worker thread.
    BuildahRun(const BuildahOptions& options, BuildRequest request, LogSink sink, const CancelSignal& cancel);

    // Runs the whole build; on any error the partial layout and temporary images are removed.
    util::Result<BuildResult> run();

private:
    util::Status prepare();
    util::Status run_hook(Hook hook, bool* ran = nullptr);
    util::Status build_with_buildah();
    util::Status build_with_hook();
    // Writes the built image into the request's layout (unless the build did) and stamps its labels.
    util::Status export_layout();
    std::string layout_reference() const;  // "oci:<layout_dir>:<layout_ref>"
    void remove_temporaries(bool failed);
    std::vector<std::string> buildah_argv(std::vector<std::string> args) const;
    // Runs buildah with `args`; maps cancel/timeout/signal to errors; returns the exit code otherwise.
    // `extra_env` is added to the build's environment for this command (the build args' values).
    util::Result<int> run_buildah(std::vector<std::string> args, const LogSink& sink, const ChildLimits& limits,
                                  const CancelSignal& cancel, std::string_view what,
                                  const std::map<std::string, std::string>& extra_env = {});
    // `buildah build`'s arguments (after argv[0] and the storage flags) and the values of its build args.
    std::vector<std::string> build_command(std::map<std::string, std::string>& arg_env);
    // BuildKit's automatic build args for request.platform; empty for a host build.
    std::map<std::string, std::string> target_platform_args() const;
    util::Status prepare_sandbox();
    util::Status prepare_pull_credentials();
    void note(const std::string& line) const;
    ChildPlacement placement() const;

    const BuildahOptions& m_options;
    BuildRequest m_request;
    LogSink m_sink;
    const CancelSignal& m_cancel;
    std::map<std::string, std::string> m_env;
    ChildLimits m_limits;
    std::chrono::steady_clock::time_point m_started;
    std::string m_work_dir;
    bool m_own_work_dir = false;
    bool m_layout_existed = false;  // layout_dir was there (empty) before the build
    bool m_layout_ours = false;     // layout_dir was checked to be absent or empty: ours to clean up
    std::string m_image;            // what to push: the image id, or IMAGE_NAME after hooks/build
    std::string m_image_id;
    std::string m_manifest_digest;
    bool m_built_by_hook = false;
    bool m_exported_by_build = false;           // buildah build wrote the image into the layout, not into the storage
    std::unique_ptr<PullCredentials> m_pull;    // this build's registry credentials; gone after the build
    std::unique_ptr<BuildCgroup> m_cgroup;      // RUN steps' limits (OCI isolation with a cgroup scope)
    std::unique_ptr<ContainmentScope> m_scope;  // last: kills what is left of the build's processes first
};

}  // namespace hookyard::pipeline
