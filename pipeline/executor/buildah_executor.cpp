#include "pipeline/executor/buildah_executor.hpp"

#include <atomic>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "pipeline/executor/buildah_leftovers.hpp"
#include "pipeline/executor/buildah_multi.hpp"
#include "pipeline/executor/buildah_run.hpp"
#include "pipeline/executor/hooks.hpp"
#include "pipeline/executor/test_stage_run.hpp"

namespace hookyard::pipeline {
namespace {

// A job (BuildJob or TestJob) whose work runs on a thread of its own until it returns its outcome.
template <class Base, class Outcome>
class WorkerJob final : public Base {
public:
    explicit WorkerJob(std::function<Outcome(const CancelSignal&)> work) {
        m_thread = std::thread([this, work = std::move(work)] {
            std::optional<Outcome> result;
            try {
                result.emplace(work(m_cancel));
            } catch (const std::exception& e) {
                result.emplace(util::make_error(util::ErrorKind::internal, std::string("build crashed: ") + e.what()));
            }
            {
                const std::lock_guard lock(m_mutex);
                m_result = std::move(result);
            }
            m_done = true;
        });
    }

    ~WorkerJob() override {
        cancel();
        join();
    }

    void cancel() override { m_cancel.raise(); }

    Outcome wait() override {
        join();
        const std::lock_guard lock(m_mutex);
        return *m_result;
    }

    bool finished() const override { return m_done.load(); }

private:
    void join() {
        std::call_once(m_joined, [this] { m_thread.join(); });
    }

    CancelSignal m_cancel;
    std::mutex m_mutex;
    std::optional<Outcome> m_result;
    std::atomic<bool> m_done{false};
    std::once_flag m_joined;
    std::thread m_thread;  // last: starts after every member it uses exists
};

class BuildahExecutor final : public Executor {
public:
    explicit BuildahExecutor(BuildahOptions options)
        : m_options(std::make_shared<const BuildahOptions>(std::move(options))),
          m_base_env(executor_base_env(*m_options)) {}

    std::unique_ptr<BuildJob> start(BuildRequest request, LogSink sink) override {
        return std::make_unique<WorkerJob<BuildJob, util::Result<BuildResult>>>(
            [options = m_options, request = std::move(request), sink = std::move(sink)](const CancelSignal& cancel) {
                auto result = BuildahRun(*options, request, sink, cancel).run();
                // The run (and its scope) is gone: a buildah killed mid-step left its working containers.
                if (!result) {
                    log_removed_containers(remove_buildah_leftovers(*options), "after build " + request.build_id);
                }
                return result;
            });
    }

    std::unique_ptr<TestJob> start_tests(TestRequest request, LogSink sink) override {
        return std::make_unique<WorkerJob<TestJob, util::Status>>(
            [options = m_options, request = std::move(request), sink = std::move(sink)](const CancelSignal& cancel) {
                return TestRun(*options, request, sink, cancel).run();
            });
    }

    std::unique_ptr<PlatformsJob> start_platforms(const PlatformsRequest& request, LogSink sink) override {
        // Docker Hub hooks run once per platform, around each platform's build: one BuildahRun per platform.
        for (const Hook hook : {Hook::post_checkout, Hook::pre_build, Hook::build, Hook::post_build}) {
            if (request.base.hooks && !hook_path(request.base, hook).empty()) return nullptr;
        }
        return start_buildah_platforms(m_options, request, std::move(sink));
    }

    util::Status run_hook(Hook hook, const BuildRequest& request, const LogSink& sink) override {
        const CancelSignal never;
        const ChildLimits limits{std::chrono::steady_clock::now() + request.timeout, m_options->kill_grace};
        const auto scope = m_options->containment ? m_options->containment->open(request.build_id) : nullptr;
        return run_hook_file(hook, request, m_base_env, sink, limits, never, nullptr,
                             scope ? scope->placement() : ChildPlacement{});
    }

private:
    std::shared_ptr<const BuildahOptions> m_options;
    std::map<std::string, std::string> m_base_env;
};

}  // namespace

std::unique_ptr<Executor> make_buildah_executor(BuildahOptions options) {
    return std::make_unique<BuildahExecutor>(std::move(options));
}

}  // namespace hookyard::pipeline
