#pragma once
// One test stage on buildah (see test_stage.hpp for the sequence). Internal to the executor: the stage's
// orchestration is in test_stage.cpp, its containers and network in test_stage_containers.cpp.

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/executor/build_cgroup.hpp"
#include "pipeline/executor/buildah_executor.hpp"
#include "pipeline/executor/child_process.hpp"
#include "pipeline/executor/compose.hpp"
#include "pipeline/executor/containment.hpp"
#include "pipeline/executor/registry_auth.hpp"
#include "pipeline/executor/sandbox.hpp"

namespace hookyard::pipeline {

// Every test container's name starts so (then <build id>-<hookyard's pid>-<n>).
inline constexpr const char* k_test_container_prefix = "hookyard-test-";

class TestRun {
public:
    // `cancel` must outlive the run. Not thread-safe; run() is called once, on a worker thread.
    TestRun(const BuildahOptions& options, TestRequest request, LogSink sink, const CancelSignal& cancel);
    ~TestRun();  // removes what is left: containers, the network holder, the credentials
    TestRun(const TestRun&) = delete;
    TestRun& operator=(const TestRun&) = delete;

    util::Status run();

private:
    // A container created for one service of the file being run.
    struct Container {
        const ComposeService* service = nullptr;
        std::string name;
        std::vector<std::string> argv;  // what `buildah run` runs in it
    };

    util::Status prepare();
    util::Status run_files();
    util::Status run_file(const std::string& path);
    util::Status run_services(const TestFile& file);
    // Runs `c` to its end in `placement`, its output to the log; the outcome's exit code is the test's for sut.
    util::Result<ChildOutcome> run_container(const Container& c, const CancelSignal& cancel,
                                             const ChildPlacement& placement);
    // A containment scope of its own for a child that runs next to others (when one child of a scope ends,
    // whatever else is in the scope is killed); null without containment.
    std::unique_ptr<ContainmentScope> side_scope(const std::string& name) const;
    util::Status test_failed(const TestFile& file, const ChildOutcome& outcome) const;

    // test_stage_containers.cpp
    // Creates the service's container (appended to m_containers, removed with them).
    util::Status create(const TestFile& file, const ComposeService& service);
    // What `buildah from` takes for the service's image; adds the flags and environment the pull needs.
    util::Result<std::string> image_for(const TestFile& file, const ComposeService& service,
                                        std::vector<std::string>& from_flags, std::map<std::string, std::string>& env);
    util::Result<std::vector<std::string>> image_argv(const TestFile& file, const Container& c);
    std::vector<std::string> run_args(const Container& c) const;
    util::Status start_network(const TestFile& file);
    void stop_network();
    void remove_containers();
    // buildah with the executor's storage flags; the exit code, or the error of a cancel/timeout/signal.
    util::Result<int> buildah(std::vector<std::string> args, const LogSink& sink, const CancelSignal& cancel,
                              const std::string& what, const std::map<std::string, std::string>& extra_env = {});

    void note(const std::string& line) const;
    ChildPlacement placement() const;

    const BuildahOptions& m_options;
    TestRequest m_request;
    ChildLimits m_limits;  // the stage's deadline: builder.timeout from its start
    LogSink m_sink;        // serialised by m_log_mutex: services write at once
    mutable std::mutex m_log_mutex;
    const CancelSignal& m_cancel;
    std::map<std::string, std::string> m_env;
    std::string m_work_dir;
    std::string m_image;           // the image under test as `buildah from` takes it; "" until first needed
    bool m_pulled_layout = false;  // m_image came from the OCI layout: this run's copy, removed at the end
    std::string m_sut_output;      // sut's last lines, " | "-joined, for a failure's message
    std::vector<Container> m_containers;
    int m_created = 0;  // names every container of the run apart
    // The network namespace of a file with depends_on: its holder process and the thread supervising it.
    std::string m_netns;  // "/proc/<pid>/ns/net", "" when none
    std::string m_hosts_file;
    std::atomic<pid_t> m_holder_pid{0};
    std::unique_ptr<CancelSignal> m_holder_stop;
    std::unique_ptr<ContainmentScope> m_holder_scope;
    std::thread m_holder;
    std::mutex m_holder_mutex;
    std::condition_variable m_holder_ready;
    bool m_holder_up = false;  // guarded by m_holder_mutex: it printed "ready", or it ended
    std::unique_ptr<PullCredentials> m_pull;
    std::unique_ptr<BuildCgroup> m_cgroup;
    std::unique_ptr<ContainmentScope> m_scope;  // last: kills what is left of the stage's processes first
};

}  // namespace hookyard::pipeline
