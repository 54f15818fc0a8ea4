// Build leases across real instances on one PostgreSQL database (issue 14): an instance that starts while
// another runs a build leaves that build alone; when the running instance dies (kill -9), another one
// re-queues the build once its lease expired, runs it to the end and one success notification goes out.

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
};

// The notifications `receiver` got of `event` for build `id`.
std::size_t failover_events(const HttpTestServer& receiver, const std::string& event, long long id) {
    std::size_t n = 0;
    for (const auto& req : receiver.requests()) {
        if (req.header("x-hookyard-event") != event) continue;
        const auto body = nlohmann::json::parse(req.body, nullptr, false);
        if (!body.is_discarded() && body["build"].value("id", 0LL) == id) ++n;
    }
    return n;
}

// Whether the build JSON has a running stage `name`.
bool failover_stage_running(const nlohmann::json& build, const std::string& name) {
    for (const auto& s : build.value("stages", nlohmann::json::array())) {
        if (s.value("name", "") == name && s.value("state", "") == "running") return true;
    }
    return false;
}

TEST_F(ClusterFailoverE2E, ALiveInstanceKeepsItsBuildAndADeadOnesBuildIsFinishedByAnother) {
    start_instance(0);
    use(0);
    // A build that takes a while in buildah: long enough to start a second instance and kill the first.
    const std::string sha = m_repo->commit({{"Dockerfile", dockerfile("sleep 15 && echo slow > /version")}}, "slow");
    m_repo->push("slow");
    const auto accepted = send_push("refs/heads/slow", std::string(40, '0'), sha, {"Dockerfile"}, "slow", "acme/tags");
    ASSERT_EQ(accepted.status, 202) << accepted.body;
    const auto ids = build_ids(accepted);
    ASSERT_EQ(ids.size(), 1u) << accepted.body;
    const long long id = ids[0];
    const std::string path = "/api/v1/builds/" + std::to_string(id);
    ASSERT_TRUE(wait_until([&] { return failover_stage_running(api_get(path).json(), "build"); }, 120s))
        << api_get(path).body;
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
    ASSERT_TRUE(wait_until([&] { return failover_events(m_ops_receiver, "build.succeeded", id) >= 1; }, 60s));
    // Notifications still due go out at once after a finish; a second success would have arrived by now.
    EXPECT_TRUE(wait_until([&] { return failover_events(m_ops_receiver, "build.started", id) >= 2; }, 10s));
    EXPECT_EQ(failover_events(m_ops_receiver, "build.succeeded", id), 1u);
}

}  // namespace
}  // namespace hookyard::test
