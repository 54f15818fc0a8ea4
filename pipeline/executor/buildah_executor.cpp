#include "pipeline/executor/buildah_executor.hpp"

#include <atomic>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "pipeline/executor/buildah_run.hpp"
#include "pipeline/executor/hooks.hpp"

namespace hookyard::pipeline {
namespace {

class BuildahJob final : public BuildJob {
public:
    BuildahJob(std::shared_ptr<const BuildahOptions> options, BuildRequest request, LogSink sink) {
        m_thread = std::thread([this, options = std::move(options), request = std::move(request),
                                sink = std::move(sink)]() mutable {
            std::optional<util::Result<BuildResult>> result;
            try {
                BuildahRun run(*options, std::move(request), std::move(sink), m_cancel);
                result.emplace(run.run());
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

    ~BuildahJob() override {
        cancel();
        join();
    }

    void cancel() override { m_cancel.raise(); }

    util::Result<BuildResult> wait() override {
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
    std::optional<util::Result<BuildResult>> m_result;
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
        return std::make_unique<BuildahJob>(m_options, std::move(request), std::move(sink));
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
