// The sandbox's pure parts: buildah flags, the nftables ruleset, resolvers, cache scopes.

#include "pipeline/executor/sandbox.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "pipeline/executor/sandbox_network.hpp"

namespace hookyard::pipeline {
namespace {

bool has_pair(const std::vector<std::string>& v, const std::string& a, const std::string& b) {
    for (std::size_t i = 0; i + 1 < v.size(); ++i) {
        if (v[i] == a && v[i + 1] == b) return true;
    }
    return false;
}

TEST(SandboxFlags, OciGetsItsOwnNamespacesRuntimeAndNetwork) {
    SandboxOptions s;
    s.network = "hookyard";
    const auto flags = sandbox_build_flags(s, "/hookyard/i1/b2/run", true);
    EXPECT_TRUE(has_pair(flags, "--isolation", "oci"));
    EXPECT_TRUE(has_pair(flags, "--runtime", "runc"));
    EXPECT_TRUE(has_pair(flags, "--ipc", "private"));
    EXPECT_TRUE(has_pair(flags, "--network", "hookyard"));
    EXPECT_TRUE(has_pair(flags, "--cgroup-parent", "/hookyard/i1/b2/run"));
    EXPECT_EQ(std::count(flags.begin(), flags.end(), "--memory"), 0);
}

// buildah 1.28 turns the network back on for a --pid or --uts flag (containers/buildah#4227): those
// namespaces come from hookyard's containers.conf instead.
TEST(SandboxFlags, NetworkNoneIsNotUndoneByPidOrUtsFlags) {
    SandboxOptions s;
    const auto flags = sandbox_build_flags(s, "", false);
    EXPECT_TRUE(has_pair(flags, "--network", "none"));
    EXPECT_EQ(std::count(flags.begin(), flags.end(), "--pid"), 0);
    EXPECT_EQ(std::count(flags.begin(), flags.end(), "--uts"), 0);
    const auto conf = containers_conf_text("[network]\n");
    EXPECT_NE(conf.find("[containers]\nipcns = \"private\"\npidns = \"private\"\nutsns = \"private\"\n[network]\n"),
              std::string::npos)
        << conf;
}

TEST(SandboxFlags, LimitsGoPerRunStepWithoutABuildCgroup) {
    SandboxOptions s;
    s.limits = {64ULL << 20, 10, 1.5};
    const auto flags = sandbox_build_flags(s, "", false);
    EXPECT_TRUE(has_pair(flags, "--memory", std::to_string(64ULL << 20) + "b"));
    EXPECT_TRUE(has_pair(flags, "--cpu-quota", "150000"));
    EXPECT_EQ(std::count(flags.begin(), flags.end(), "--cgroup-parent"), 0);
}

TEST(SandboxFlags, ChrootIsOnlyTheIsolationFlag) {
    SandboxOptions s;
    s.isolation = config::Isolation::chroot;
    EXPECT_EQ(sandbox_build_flags(s, "/x", false), (std::vector<std::string>{"--isolation", "chroot"}));
    EXPECT_NE(describe(s).find("no sandbox"), std::string::npos);
}

TEST(SandboxNetwork, RulesetDropsHostAndPrivateRangesAfterTheAllowList) {
    const auto rules = network_ruleset({"10.1.0.0/16", "2001:db8::/32"}, {"10.255.255.53"});
    EXPECT_EQ(rules.rfind("table inet hookyard {}\ndelete table inet hookyard\n", 0), 0U) << rules;
    const auto allow = rules.find("ip daddr { 10.1.0.0/16 } accept");
    const auto dns = rules.find("ip daddr { 10.255.255.53 } udp dport 53 accept");
    const auto drop = rules.find("169.254.0.0/16");
    ASSERT_NE(allow, std::string::npos) << rules;
    ASSERT_NE(dns, std::string::npos) << rules;
    ASSERT_NE(drop, std::string::npos) << rules;
    EXPECT_LT(allow, drop);
    EXPECT_NE(rules.find("ip6 daddr { 2001:db8::/32 } accept"), std::string::npos) << rules;
    EXPECT_NE(rules.find("iifname \"hookyard0\" drop"), std::string::npos) << rules;
    EXPECT_NE(rules.find("127.0.0.0/8"), std::string::npos);
    EXPECT_NE(rules.find("ip saddr 10.213.0.0/20 oifname != \"hookyard0\" masquerade"), std::string::npos) << rules;
}

TEST(SandboxNetwork, ResolversSkipLoopbackAndJunk) {
    EXPECT_EQ(resolvers_of("# c\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nnameserver ::1\nsearch x\n"
                           "nameserver 2001:db8::53\nnameserver $(evil)\n"),
              (std::vector<std::string>{"10.0.0.2", "2001:db8::53"}));
}

TEST(SandboxCache, ScopeKeysDifferPerRepositoryAndAreSafeNames) {
    const auto a = cache_scope_key("docker.io/acme/web");
    EXPECT_NE(a, cache_scope_key("docker.io/acme/api"));
    EXPECT_EQ(a, cache_scope_key("docker.io/acme/web"));
    EXPECT_EQ(a.find('/'), std::string::npos);
    EXPECT_EQ(cache_scope_key("x/../../etc").find('/'), std::string::npos);
    EXPECT_EQ(cache_scope_key(""), "local");
}

}  // namespace
}  // namespace hookyard::pipeline
