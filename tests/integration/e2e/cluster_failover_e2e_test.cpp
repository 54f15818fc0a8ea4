// Build leases across real instances on one PostgreSQL database (issue 14): an instance that starts while
// another runs a build leaves that build alone; when the running instance dies (kill -9), another one
// re-queues the build once its lease expired, runs it to the end and one success notification goes out.
// An instance that only stalled past its lease (SIGSTOP) must not push nor finish the build once it wakes.

#include <signal.h>

#include <filesystem>

#include "tests/integration/e2e/cluster_fixture.hpp"

namespace hookyard::test {
namespace {

using namespace std::chrono_literals;

class ClusterFailoverE2E : public ClusterE2E {
protected:
    // A short lease, so that the test waits seconds, not the default 30 s, for a dead instance's build.
    std::string instance_yaml(int i) const override {
        return "cluster: { instance_id: node-" + std::to_string(i) + ", lease: 3s, heartbeat: 1s }\n";
    }
    // Starts node-0, pushes branch `branch` whose Dockerfile runs `script` and waits until node-0 runs its
    // build stage; the build's id (0 on failure, with the test failed).
    long long slow_build_on_node_0(const std::string& branch, const std::string& script) {
        start_instance(0);
        use(0);
        // This test's own RUN step: one cached by an earlier run on the shared storage would skip the wait.
        const std::string run_id = std::filesystem::path(m_dir.path()).filename().string();
        const std::string sha =
            m_repo->commit({{"Dockerfile", dockerfile(script + " && echo " + run_id + " > /run-id")}}, branch);
        m_repo->push(branch);
        const auto accepted =
            send_push("refs/heads/" + branch, std::string(40, '0'), sha, {"Dockerfile"}, branch, "acme/tags");
        const auto ids = build_ids(accepted);
        EXPECT_EQ(accepted.status, 202) << accepted.body;
        if (ids.size() != 1) {
            ADD_FAILURE() << accepted.body;
            return 0;
        }
        const std::string path = "/api/v1/builds/" + std::to_string(ids[0]);
        EXPECT_TRUE(wait_until([&] { return stage_running(api_get(path).json(), "build"); }, 120s))
            << api_get(path).body;
        return ids[0];
    }
};

TEST_F(ClusterFailoverE2E, ALiveInstanceKeepsItsBuildAndADeadOnesBuildIsFinishedByAnother) {
    // A build that takes a while in buildah: long enough to start a second instance and kill the first.
    const long long id = slow_build_on_node_0("slow", "sleep 15 && echo slow > /version");
    ASSERT_NE(id, 0);
    ASSERT_FALSE(HasFailure());
    const std::string path = "/api/v1/builds/" + std::to_string(id);
    EXPECT_EQ(api_get(path).json().value("instance", ""), "node-0");

    // A second instance starts: its recovery must not take node-0's running build.
    start_instance(1);
    use(1);
    auto during = api_get(path).json();
    EXPECT_EQ(during.value("state", ""), "running") << during.dump();
    EXPECT_EQ(during.value("attempts", -1), 0) << during.dump();
    EXPECT_EQ(during.value("instance", ""), "node-0") << during.dump();

    kill_instance(0);
    const auto done = wait_terminal(id, 300s);
    EXPECT_EQ(done.value("state", ""), "succeeded") << done.dump();
    EXPECT_EQ(done.value("attempts", -1), 1) << done.dump();
    EXPECT_EQ(done.value("instance", ""), "node-1") << done.dump();
    EXPECT_NE(instance_log(1).find("whose instance stopped renewing its lease"), std::string::npos);
    EXPECT_FALSE(skopeo_inspect("acme/tags:slow").is_null());
    ASSERT_TRUE(wait_until([&] { return notifications_of(m_ops_receiver, "build.succeeded", id) >= 1; }, 60s));
    // Notifications still due go out at once after a finish; a second success would have arrived by now.
    EXPECT_TRUE(wait_until([&] { return notifications_of(m_ops_receiver, "build.started", id) >= 2; }, 10s));
    EXPECT_EQ(notifications_of(m_ops_receiver, "build.succeeded", id), 1u);
}

// Occurrences of `what` in `text`.
std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
    return n;
}

TEST_F(ClusterFailoverE2E, AnInstanceThatStalledPastItsLeaseNeitherPushesNorFinishesTheBuild) {
    const long long id = slow_build_on_node_0("stall", "sleep 8 && echo stalled > /version");
    ASSERT_NE(id, 0);
    ASSERT_FALSE(HasFailure());
    const std::string path = "/api/v1/builds/" + std::to_string(id);

    // node-0 stalls (its buildah goes on); node-1 takes the build over once node-0's lease expired.
    signal_instance(0, SIGSTOP);
    start_instance(1);
    use(1);
    ASSERT_TRUE(wait_until([&] { return api_get(path).json().value("instance", "") == "node-1"; }, 120s))
        << api_get(path).body;
    signal_instance(0, SIGCONT);
    ASSERT_TRUE(wait_until([&] { return instance_log(0).find("is discarded") != std::string::npos; }, 300s))
        << instance_log(0);
    EXPECT_NE(instance_log(0).find("lost its lease"), std::string::npos);

    const auto done = wait_terminal(id, 300s);
    EXPECT_EQ(done.value("state", ""), "succeeded") << done.dump();
    EXPECT_EQ(done.value("instance", ""), "node-1") << done.dump();
    EXPECT_EQ(done.value("attempts", -1), 1) << done.dump();
    const std::string log = api_get(path + "/log").body;
    EXPECT_EQ(occurrences(log, "hookyard: pushed "), 1u) << log;
    EXPECT_NE(log.find("lost its lease on the build"), std::string::npos) << log;
    EXPECT_FALSE(skopeo_inspect("acme/tags:stall").is_null());
    ASSERT_TRUE(wait_until([&] { return notifications_of(m_ops_receiver, "build.succeeded", id) >= 1; }, 60s));
    // node-0 gave up before finishing (its log says so): a second success would have been queued by now.
    EXPECT_EQ(notifications_of(m_ops_receiver, "build.succeeded", id), 1u);
}

}  // namespace
}  // namespace hookyard::test
