// builder.network private with real buildah, runc, CNI and nftables: a RUN step reaches an outside address
// but not the host (loopback, its own address, the bridge gateway) nor 169.254.169.254, unless allowed.
// The "outside" and the metadata address are a network namespace this test creates behind a veth pair.

#include <unistd.h>

#include "tests/integration/executor/sandbox_fixture.hpp"
#include "util/file_lock.hpp"

namespace hookyard::pipeline {
namespace {

class NetworkTest : public SandboxTest {
protected:
    void SetUp() override {
        if (!set_up_as_root_with({"nft", "ip"}, "nftables and iproute2")) return;
        // Every NetworkTest routes the host's 169.254.169.254 to its own namespace: one at a time on this
        // host, whatever process runs it (ctest -j2 runs tests of this fixture side by side).
        auto lock = util::FileLock::acquire("/run/lock/hookyard-network-test.lock", util::FileLock::Mode::exclusive);
        ASSERT_TRUE(lock.ok()) << lock.error().message;
        m_host_lock = std::move(*lock);
        const std::string n = std::to_string(::getpid() % 200 + 20);
        m_ns = "hookyard-test-" + std::to_string(::getpid());
        m_veth = "hyt" + std::to_string(::getpid());
        m_outside = "203.0.113." + n;
        std::string out;
        const int rc =
            test::sh("set -e; ip netns add " + m_ns + "; ip link add " + m_veth + "a type veth peer name " + m_veth +
                         "b; ip link set " + m_veth + "b netns " + m_ns + "; ip addr add 10.214." + n + ".1/30 dev " +
                         m_veth + "a; ip link set " + m_veth + "a up; ip netns exec " + m_ns +
                         " sh -c 'ip addr add 10.214." + n + ".2/30 dev " + m_veth +
                         "b; ip addr add 169.254.169.254/32 dev " + m_veth + "b; ip addr add " + m_outside +
                         "/32 dev " + m_veth + "b; ip link set " + m_veth + "b up; ip link set lo up; ip route add " +
                         "default via 10.214." + n + ".1'; ip route replace 169.254.169.254/32 via 10.214." + n +
                         ".2; ip route replace " + m_outside + "/32 via 10.214." + n + ".2 2>&1",
                     &out);
        ASSERT_EQ(rc, 0) << out;
        test::write_file(m_dir / "www/index.html", "hello\n");
        m_port = test::free_port();
        m_listeners = start("busybox httpd -f -p " + std::to_string(m_port) + " -h " + std::string(m_dir / "www"));
        m_listeners +=
            " " + start("ip netns exec " + m_ns + " busybox httpd -f -p 8099 -h " + std::string(m_dir / "www"));
        test::sh(
            "ip -4 -o addr show scope global | awk '$2 !~ /^(hookyard|cni|hyt)/ {print $4}' | head -1 | "
            "cut -d/ -f1",
            &m_host);
        while (!m_host.empty() && m_host.back() == '\n') m_host.pop_back();
        ASSERT_FALSE(m_host.empty());
    }

    void TearDown() override {
        if (!m_listeners.empty()) test::sh("kill " + m_listeners + " 2>/dev/null");
        if (!m_ns.empty()) {
            test::sh("ip route del 169.254.169.254/32 via 10.214." + std::to_string(::getpid() % 200 + 20) +
                     ".2 2>/dev/null; ip route del " + m_outside + "/32 2>/dev/null; ip link del " + m_veth +
                     "a 2>/dev/null; ip netns del " + m_ns + " 2>/dev/null");
        }
        SandboxTest::TearDown();
        m_host_lock = util::FileLock();  // releases the host's routes to the next test
    }

    // Starts `command` in the background; its pid.
    static std::string start(const std::string& command) {
        std::string pid;
        // No descriptor of ours may stay open in it, or reading the shell's output never ends.
        test::sh("exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; " + command + " </dev/null >/dev/null 2>&1 & echo $!", &pid);
        while (!pid.empty() && pid.back() == '\n') pid.pop_back();
        return pid;
    }

    // Builds with the filtered network allowing `allow`; "REACHED-x" or "BLOCKED-x" for each target.
    std::vector<std::string> probe(const std::vector<std::string>& allow) {
        if (!use_filtered_network(allow)) return {};
        const std::string port = std::to_string(m_port);
        std::string script = "echo BEGIN-net; ";
        for (const auto& [name, url] :
             std::vector<std::pair<std::string, std::string>>{{"loopback", "127.0.0.1:" + port},
                                                              {"host", m_host + ":" + port},
                                                              {"gateway", "10.213.0.1:" + port},
                                                              {"metadata", "169.254.169.254:8099"},
                                                              {"outside", m_outside + ":8099"}}) {
            script += "if /bin/busybox timeout 4 /bin/busybox wget -q -O /dev/null http://" + url +
                      "/ 2>/dev/null; then echo REACHED-" + name + "; else echo BLOCKED-" + name + "; fi; ";
        }
        const auto ctx = make_context("net", run_dockerfile(script + "echo END-net"));
        auto request = request_for(ctx, "net");
        request.cache = false;
        LogLines log;
        auto result = build(request, log);
        EXPECT_TRUE(result.ok()) << result.error().message << log.text();
        std::filesystem::remove_all(request.layout_dir);
        return section(log, "net");
    }

    std::string m_ns, m_veth, m_outside, m_host, m_listeners;
    util::FileLock m_host_lock;
    int m_port = 0;
};

TEST_F(NetworkTest, RunStepReachesTheOutsideButNotTheHostOrMetadataUnlessAllowed) {
    // The listeners answer the host itself: what the RUN step cannot reach is filtered, not missing.
    ASSERT_TRUE(test::wait_until(
        [&] { return test::sh("busybox timeout 2 busybox wget -q -O /dev/null http://169.254.169.254:8099/") == 0; },
        std::chrono::seconds(10)));
    ASSERT_EQ(test::sh("busybox timeout 2 busybox wget -q -O /dev/null http://" + m_host + ":" +
                       std::to_string(m_port) + "/"),
              0);
    EXPECT_EQ(probe({}), (std::vector<std::string>{"BLOCKED-loopback", "BLOCKED-host", "BLOCKED-gateway",
                                                   "BLOCKED-metadata", "REACHED-outside"}));
    // The allow list is host-wide (the hookyard started last sets it): a hookyard another test starts
    // meanwhile may replace it, hence a few attempts.
    std::vector<std::string> allowed;
    for (int attempt = 0; attempt < 3 && (allowed.size() < 4 || allowed[3] != "REACHED-metadata"); ++attempt) {
        allowed = probe({"169.254.169.254/32", m_host});
    }
    EXPECT_EQ(allowed, (std::vector<std::string>{"BLOCKED-loopback", "REACHED-host", "BLOCKED-gateway",
                                                 "REACHED-metadata", "REACHED-outside"}));
    probe({});  // leave the host's table without this test's allow list
}

// NAT is hookyard's nftables masquerade (the bridge plugin's ipMasq is off): the outside sees the host.
TEST_F(NetworkTest, RunStepTrafficLeavesWithTheHostsAddress) {
    const std::string listener = start("ip netns exec " + m_ns +
                                       " python3 -c \"import socket; s = socket.socket(); s.setsockopt(1, 2, 1); "
                                       "s.bind(('0.0.0.0', 8098)); s.listen(); c, a = s.accept(); "
                                       "c.sendall((a[0] + '\\n').encode()); c.close()\"");
    m_listeners += " " + listener;
    ASSERT_TRUE(test::wait_until([&] { return test::sh("ip netns exec " + m_ns + " ss -ltn | grep -q ':8098 '") == 0; },
                                 std::chrono::seconds(10)));
    ASSERT_TRUE(use_filtered_network());
    const auto ctx = make_context("nat", run_dockerfile("echo BEGIN-peer; /bin/busybox timeout 5 /bin/busybox nc " +
                                                        m_outside + " 8098 </dev/null; echo END-peer"));
    auto request = request_for(ctx, "nat");
    request.cache = false;
    LogLines log;
    auto result = build(request, log);
    ASSERT_TRUE(result.ok()) << result.error().message << log.text();
    EXPECT_EQ(section(log, "peer"), std::vector<std::string>{"10.214." + std::to_string(::getpid() % 200 + 20) + ".1"})
        << log.text();
}

}  // namespace
}  // namespace hookyard::pipeline
