// cluster: in the config (issue 14): the instance's name, its build lease and heartbeat, and their checks.

#include <gtest/gtest.h>

#include "config/cluster.hpp"
#include "config/loader.hpp"

using namespace std::chrono_literals;

namespace {

hookyard::config::LoadOutcome load_cluster(const std::string& text) {
    return hookyard::config::load_config_text("server: { webhook_secret: x }\n" + text, "h.yaml",
                                              [](const std::string&) -> std::optional<std::string> { return {}; });
}

// The first diagnostic's message, or "" without one.
std::string first_problem(const hookyard::config::LoadOutcome& out) {
    return out.diagnostics.empty() ? "" : out.diagnostics[0].message;
}

}  // namespace

TEST(ClusterConfig, DefaultsToTheHostNameA30sLeaseAndA10sHeartbeat) {
    const auto out = load_cluster("");
    ASSERT_TRUE(out.config.has_value()) << first_problem(out);
    const auto& c = out.config->cluster;
    EXPECT_EQ(c.instance_id, hookyard::config::host_name());
    EXPECT_FALSE(c.instance_id.empty());
    EXPECT_EQ(c.lease, 30s);
    EXPECT_EQ(c.heartbeat, 10s);
}

TEST(ClusterConfig, ReadsEveryKey) {
    const auto out = load_cluster("cluster: {instance_id: builder-1, lease: 2m, heartbeat: 20s}\n");
    ASSERT_TRUE(out.config.has_value()) << first_problem(out);
    EXPECT_EQ(out.config->cluster.instance_id, "builder-1");
    EXPECT_EQ(out.config->cluster.lease, 120s);
    EXPECT_EQ(out.config->cluster.heartbeat, 20s);
}

TEST(ClusterConfig, RejectsALeaseShorterThanThreeHeartbeatsAnOddNameAndUnknownKeys) {
    const auto short_lease = load_cluster("cluster: {lease: 20s, heartbeat: 10s}\n");
    EXPECT_FALSE(short_lease.config.has_value());
    EXPECT_NE(first_problem(short_lease).find("at least 3 x cluster.heartbeat"), std::string::npos)
        << first_problem(short_lease);
    const auto odd = load_cluster("cluster: {instance_id: \"two words\"}\n");
    EXPECT_FALSE(odd.config.has_value());
    EXPECT_NE(first_problem(odd).find("cluster.instance_id"), std::string::npos) << first_problem(odd);
    const auto typo = load_cluster("cluster: {instance_ib: b1}\n");
    EXPECT_FALSE(typo.config.has_value());
    EXPECT_NE(first_problem(typo).find("instance_id"), std::string::npos) << first_problem(typo);
    EXPECT_FALSE(load_cluster("cluster: {heartbeat: 0s}\n").config.has_value());
}
