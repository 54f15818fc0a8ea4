#pragma once
// Fakes of the build and push stages' seams (pipeline::Executor, pipeline::ImagePusher) for unit tests of
// the stage runner: they answer what they are told to, record what they were asked, and can block until
// the build is canceled.

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/executor/executor.hpp"
#include "pipeline/image_pusher.hpp"

namespace hookyard::test {

class FakeExecutor final : public pipeline::Executor {
public:
    // Builds succeed (a BuildResult naming the request's layout) unless fail_with() was called; with
    // block_until_canceled(), wait() returns only after cancel(), with ErrorKind::canceled.
    std::unique_ptr<pipeline::BuildJob> start(pipeline::BuildRequest request, pipeline::LogSink sink) override;
    // Records the hook and succeeds.
    util::Status run_hook(pipeline::Hook hook, const pipeline::BuildRequest& request,
                          const pipeline::LogSink& sink) override;
    // Counts the test run; the tests pass at once.
    std::unique_ptr<pipeline::TestJob> start_tests(pipeline::TestRequest request, pipeline::LogSink sink) override;
    // nullptr (one start() per platform) unless one_job_for_platforms() was called: then one job whose
    // platforms succeed, except `failing` (fail_with()'s error), and which blocks like start()'s.
    std::unique_ptr<pipeline::PlatformsJob> start_platforms(const pipeline::PlatformsRequest& request,
                                                            pipeline::LogSink sink) override;

    void one_job_for_platforms(std::string failing = "") {
        m_one_job = true;
        m_failing_platform = std::move(failing);
    }
    int platform_jobs_started() const { return m_platform_jobs.load(); }

    void fail_with(util::Error error) { m_error = std::move(error); }
    void block_until_canceled() { m_block = true; }
    int builds_started() const { return m_started.load(); }
    int tests_started() const { return m_tests.load(); }
    std::vector<pipeline::Hook> hooks_run() const;

private:
    std::optional<util::Error> m_error;
    bool m_block = false;
    bool m_one_job = false;
    std::string m_failing_platform;
    std::atomic<int> m_platform_jobs{0};
    std::atomic<int> m_started{0};
    std::atomic<int> m_tests{0};
    mutable std::mutex m_mutex;
    std::vector<pipeline::Hook> m_hooks;
};

class FakePusher final : public pipeline::ImagePusher {
public:
    // Returns the digest given (or the error of fail_with()); with block_until_canceled(), waits for the
    // token and returns ErrorKind::canceled.
    util::Result<std::string> push(const pipeline::PushRequest& request, const pipeline::LogSink& log,
                                   pipeline::CancelToken& token) override;
    // As push(), with "sha256:<platform's index>…" as each platform's digest.
    util::Result<pipeline::PushedIndex> push_platforms(const pipeline::PushRequest& request,
                                                       const pipeline::LogSink& log,
                                                       pipeline::CancelToken& token) override;

    void fail_with(util::Error error) { m_error = std::move(error); }
    void block_until_canceled() { m_block = true; }
    std::vector<pipeline::PushRequest> requests() const;

    std::string digest = "sha256:" + std::string(64, 'd');

private:
    std::optional<util::Error> m_error;
    bool m_block = false;
    mutable std::mutex m_mutex;
    std::vector<pipeline::PushRequest> m_requests;
};

}  // namespace hookyard::test
