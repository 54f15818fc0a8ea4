// serve --role (issue 14): an intake instance takes webhooks and never builds; a builder instance builds
// what the intake queued and serves no webhook route.

#include "tests/integration/e2e/cluster_fixture.hpp"

namespace hookyard::test {
namespace {

using namespace std::chrono_literals;

using ClusterRolesE2E = ClusterE2E;

TEST_F(ClusterRolesE2E, TheIntakeQueuesAndTheBuilderBuilds) {
    start_instance(0, {"--role", "intake"});
    start_instance(1, {"--role", "builder"});
    m_repo->push("roles");
    use(1);
    const auto refused = send_push("refs/heads/roles", std::string(40, '0'), m_head, {"Dockerfile"}, "x", "acme/tags");
    EXPECT_EQ(refused.status, 404) << "a builder serves no webhook route: " << refused.body;
    use(0);
    const auto accepted = send_push("refs/heads/roles", std::string(40, '0'), m_head, {"Dockerfile"}, "x", "acme/tags");
    ASSERT_EQ(accepted.status, 202) << accepted.body;
    const auto ids = build_ids(accepted);
    ASSERT_EQ(ids.size(), 1u) << accepted.body;
    const auto done = wait_terminal(ids[0], 300s);
    EXPECT_EQ(done.value("state", ""), "succeeded") << done.dump();
    EXPECT_EQ(done.value("instance", ""), "node-1") << done.dump();
    EXPECT_EQ(instance_log(0).find(" started"), std::string::npos) << "the intake claimed a build";
    EXPECT_FALSE(skopeo_inspect("acme/tags:roles").is_null());
}

}  // namespace
}  // namespace hookyard::test
