#include "tests/support/fake_builder.hpp"

#include <condition_variable>
#include <future>

#include "pipeline/cancel.hpp"
#include "pipeline/executor/platforms_job.hpp"

namespace hookyard::test {
namespace {

// A fake job's outcome: at once, or (blocking) only "canceled", once cancel() comes.
class CancelGate {
public:
    explicit CancelGate(bool block) : m_block(block) {}
    void cancel() {
        {
            std::lock_guard lock(m_mutex);
            m_canceled = true;
        }
        m_cv.notify_all();
    }
    template <class T>
    util::Result<T> outcome(const util::Result<T>& ready) {
        if (!m_block) return ready;
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [this] { return m_canceled; });
        return util::make_error(util::ErrorKind::canceled, "build canceled");
    }
    bool blocks() const { return m_block; }

private:
    bool m_block;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_canceled = false;
};

class FakeJob final : public pipeline::BuildJob {
public:
    FakeJob(util::Result<pipeline::BuildResult> result, bool block) : m_result(std::move(result)), m_gate(block) {}

    void cancel() override { m_gate.cancel(); }
    util::Result<pipeline::BuildResult> wait() override { return m_gate.outcome(m_result); }
    bool finished() const override { return !m_gate.blocks(); }

private:
    util::Result<pipeline::BuildResult> m_result;
    CancelGate m_gate;
};

class FakePlatformsJob final : public pipeline::PlatformsJob {
public:
    FakePlatformsJob(std::vector<util::Result<pipeline::BuildResult>> outcomes, std::vector<std::string> platforms,
                     bool block)
        : m_outcomes(std::move(outcomes)), m_platforms(std::move(platforms)), m_gate(block) {}

    void cancel() override { m_gate.cancel(); }
    void wait_started(std::size_t) override {}
    util::Result<pipeline::BuildResult> wait(std::size_t i) override { return m_gate.outcome(m_outcomes.at(i)); }
    util::Status wait_all() override {
        for (std::size_t i = 0; i < m_outcomes.size(); ++i) {
            auto outcome = wait(i);
            if (!outcome)
                return util::make_error(outcome.error().kind, m_platforms[i] + ": " + outcome.error().message);
        }
        return {};
    }

private:
    std::vector<util::Result<pipeline::BuildResult>> m_outcomes;
    std::vector<std::string> m_platforms;
    CancelGate m_gate;
};

class PassedTests final : public pipeline::TestJob {
public:
    void cancel() override {}
    util::Status wait() override { return {}; }
    bool finished() const override { return true; }
};

// Blocks until `token` is canceled.
void wait_for_cancel(pipeline::CancelToken& token) {
    std::promise<void> canceled;
    pipeline::CancelCallback on_cancel(token, [&canceled] { canceled.set_value(); });
    canceled.get_future().wait();
}

}  // namespace

std::unique_ptr<pipeline::BuildJob> FakeExecutor::start(pipeline::BuildRequest request, pipeline::LogSink sink) {
    ++m_started;
    sink("fake build of " + request.dockerfile);
    pipeline::BuildResult built;
    built.layout_dir = request.layout_dir;
    built.layout_ref = request.layout_ref;
    built.manifest_digest = "sha256:" + std::string(64, 'm');
    if (m_error) return std::make_unique<FakeJob>(*m_error, m_block);
    return std::make_unique<FakeJob>(built, m_block);
}

std::unique_ptr<pipeline::PlatformsJob> FakeExecutor::start_platforms(const pipeline::PlatformsRequest& request,
                                                                      pipeline::LogSink sink) {
    if (!m_one_job) return nullptr;
    ++m_platform_jobs;
    sink("fake build of every platform of " + request.base.dockerfile);
    std::vector<util::Result<pipeline::BuildResult>> outcomes;
    std::vector<std::string> platforms;
    for (const auto& req : request.platforms) {
        pipeline::BuildResult built;
        built.layout_dir = req.layout_dir;
        built.layout_ref = req.layout_ref;
        built.manifest_digest = "sha256:" + std::string(64, 'm');
        outcomes.emplace_back(built);
        if (req.platform == m_failing_platform && m_error) outcomes.back() = *m_error;
        platforms.push_back(req.platform);
    }
    return std::make_unique<FakePlatformsJob>(std::move(outcomes), std::move(platforms), m_block);
}

util::Status FakeExecutor::run_hook(pipeline::Hook hook, const pipeline::BuildRequest&, const pipeline::LogSink&) {
    std::lock_guard lock(m_mutex);
    m_hooks.push_back(hook);
    return {};
}

std::unique_ptr<pipeline::TestJob> FakeExecutor::start_tests(pipeline::TestRequest, pipeline::LogSink) {
    ++m_tests;
    return std::make_unique<PassedTests>();
}

std::vector<pipeline::Hook> FakeExecutor::hooks_run() const {
    std::lock_guard lock(m_mutex);
    return m_hooks;
}

util::Result<std::string> FakePusher::push(const pipeline::PushRequest& request, const pipeline::LogSink& log,
                                           pipeline::CancelToken& token) {
    {
        std::lock_guard lock(m_mutex);
        m_requests.push_back(request);
    }
    log("fake push of " + std::to_string(request.images.size()) + " reference(s)");
    if (m_block) {
        wait_for_cancel(token);
        return util::make_error(util::ErrorKind::canceled, "push canceled");
    }
    if (m_error) return *m_error;
    return digest;
}

util::Result<pipeline::PushedIndex> FakePusher::push_platforms(const pipeline::PushRequest& request,
                                                               const pipeline::LogSink& log,
                                                               pipeline::CancelToken& token) {
    auto pushed = push(request, log, token);
    if (!pushed) return pushed.error();
    pipeline::PushedIndex index{*pushed, {}};
    for (std::size_t i = 0; i < request.platforms.size(); ++i) {
        index.platforms.emplace_back(request.platforms[i].platform,
                                     "sha256:" + std::string(63, 'p') + std::to_string(i % 10));
    }
    return index;
}

std::vector<pipeline::PushRequest> FakePusher::requests() const {
    std::lock_guard lock(m_mutex);
    return m_requests;
}

}  // namespace hookyard::test
