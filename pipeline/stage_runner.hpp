#pragma once
// The stage runner: one build through checkout → locate → build → [test] → push, each stage recorded in the
// store with its times and outcome, the log written to the store in batches
// (storage::LogWriter), capped at builder.max_log_size.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "config/model.hpp"
#include "pipeline/checkout/checkout.hpp"
#include "pipeline/checkout/locate.hpp"
#include "pipeline/executor/executor.hpp"
#include "pipeline/executor/platforms.hpp"
#include "pipeline/image_budget.hpp"
#include "pipeline/image_pusher.hpp"
#include "pipeline/scheduler.hpp"
#include "storage/store.hpp"

namespace hookyard::pipeline {

// Sees progress as it happens (the CLI prints it); both calls may come from any worker thread.
class BuildObserver {
public:
    virtual ~BuildObserver() = default;
    // A stage started (`state` running) or ended (succeeded|failed|canceled), with its error.
    virtual void on_stage(storage::BuildId id, std::string_view stage, storage::BuildState state,
                          std::chrono::milliseconds elapsed, std::string_view error) = 0;
    // One log line of the build.
    virtual void on_log(storage::BuildId id, std::string_view line) = 0;
};

class StageRunner : public BuildRunner {
public:
    // Everything passed in must outlive the runner. `observer` may be null. `platforms` says which platforms
    // this host can build (tests point it at a binfmt_misc directory of their own). `final_images` (may be
    // null: the built images stay) removes each cached build's final image once its push has ended.
    StageRunner(const config::Config& config, storage::Store& store, CheckoutService& checkout, Executor& executor,
                ImagePusher& pusher, BuildObserver* observer = nullptr, PlatformSupport platforms = PlatformSupport(),
                FinalImages* final_images = nullptr);

    // Runs the build's stages in order and returns how it ended; stops at the first failing stage.
    // A build whose repository is no longer in the config fails with that reason. Work files live under
    // <data_dir>/work/<id>-<attempt>, a fresh directory for every attempt (a crashed attempt's directory is
    // never reused; earlier attempts' are removed), and are removed at the end (moved to
    // <data_dir>/kept/<id> on failure when builder.keep_failed_workdirs). Each image is recorded in the
    // store as soon as it is pushed; a build resumed after a crash whose every image was already pushed
    // with one digest finishes with that digest without building again.
    // A rule with several platforms (rule or builder `platforms:`) builds each in its own stage,
    // "build linux/amd64", …, builder.platform_parallelism at once within this one run; a platform this host
    // cannot run fails its stage before anything builds; one failing platform cancels the others and nothing
    // is pushed; the push puts an index at every tag, and each platform's manifest digest is recorded as the
    // pushed image "platform:<os/arch>" (storage's build JSON lists them as `platforms`).
    // A build with tests (*.test.yml next to the Dockerfile, or hooks/test: pipeline/executor/test_stage.hpp)
    // runs stage "test" between build and push, against the built image (with several platforms: the
    // host's, else the first); a failing test fails the build and nothing is pushed.
    // Whatever the outcome, a built image's OCI layout (every platform's) is deleted before run() returns
    // (also from a kept work dir) and, when the layer cache was on, the image itself is handed to
    // `final_images`.
    RunOutcome run(const storage::Build& build, CancelToken& token) override;

    // Removes every leftover under <data_dir>/work (work dirs of builds a crash interrupted). Call at start,
    // before any build runs.
    static void clean_work_dirs(const std::string& data_dir);

private:
    class Run;

    const config::Config& m_config;
    storage::Store& m_store;
    CheckoutService& m_checkout;
    Executor& m_executor;
    ImagePusher& m_pusher;
    BuildObserver* m_observer;
    PlatformSupport m_platforms;
    FinalImages* m_final_images;
};

}  // namespace hookyard::pipeline
