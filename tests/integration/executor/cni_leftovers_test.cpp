// What a kill -9 leaves of a RUN step's network (real buildah, runc, CNI bridge, iptables): host-local's
// address file (and an ipMasq NAT chain of older versions); the start-up's clean-up releases them and
// nothing a live build uses.

#include "pipeline/executor/cni_leftovers.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "tests/integration/executor/sandbox_fixture.hpp"
#include "tests/support/proc.hpp"

namespace hookyard::pipeline::test_fixture {
namespace {

const std::map<std::string, std::string> k_cni_test_env{{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}};

class CniLeftoversTest : public SandboxTest {
protected:
    void SetUp() override {
        if (!set_up_as_root_with({"nft", "iptables"}, "nftables")) return;
        use_filtered_network();
    }

    // Starts a build whose RUN step sleeps; returns once the step runs, with its address in `address`.
    std::unique_ptr<BuildJob> start_sleeper(const std::string& name, const std::string& token, LogLines& log,
                                            std::string& address) {
        const auto ctx = make_context(name, run_dockerfile("/bin/busybox sleep 300; echo " + token));
        auto request = request_for(ctx, name);
        request.cache = false;
        auto job = m_executor->start(request, log.sink());
        std::vector<test::ProcInfo> sleeping;
        EXPECT_TRUE(test::wait_until(
            [&] {
                sleeping = test::live_processes_matching(token);
                for (const auto& p : sleeping) {
                    if (p.cmdline.rfind("/bin/busybox sh", 0) == 0) return true;
                }
                return false;
            },
            std::chrono::seconds(60)))
            << log.text();
        for (const auto& p : sleeping) {
            if (p.cmdline.rfind("/bin/busybox sh", 0) != 0) continue;
            std::string out;
            test::sh("awk '/\\|-- 10\\.213\\./ {a=$2} /32 host LOCAL/ && a {print a; exit}' /proc/" +
                         std::to_string(p.pid) + "/net/fib_trie",
                     &out);
            address = out.substr(0, out.find('\n'));
        }
        return job;
    }

    static std::string nat_rules() {
        std::string out;
        test::sh("iptables -w -t nat -S", &out);
        return out;
    }
};

TEST_F(CniLeftoversTest, StartUpReleasesWhatAKilledRunStepLeftAndNothingInUse) {
    LogLines killed_log, live_log;
    std::string killed_address, live_address;
    const std::string killed_token = "killed-" + nonce(), live_token = "live-" + nonce();
    auto killed = start_sleeper("killed", killed_token, killed_log, killed_address);
    auto live = start_sleeper("live", live_token, live_log, live_address);
    ASSERT_FALSE(killed_address.empty()) << killed_log.text();
    ASSERT_FALSE(live_address.empty()) << live_log.text();
    const std::string ipam = cni_ipam_dir("hookyard");
    std::string id;
    std::getline(std::ifstream(ipam + "/" + killed_address), id);
    while (!id.empty() && (id.back() == '\r' || id.back() == ' ')) id.pop_back();
    ASSERT_FALSE(id.empty());
    // kill -9 of buildah's process group (buildah and its runtime wrapper): no CNI DEL runs; the build's
    // scope then kills the RUN step, as a restart does.
    for (const auto& p : test::live_processes_matching(m_dir / "killed/Dockerfile")) {
        if (p.cmdline.find("buildah --cgroup-manager") != std::string::npos) ::kill(-p.pgid, SIGKILL);
    }
    EXPECT_FALSE(killed->wait().ok());
    ASSERT_TRUE(std::filesystem::exists(ipam + "/" + killed_address));
    // The NAT chain the bridge plugin's ipMasq made per container before hookyard masqueraded in nftables
    // (a host upgraded from then may still have them), as the plugin names and comments it.
    const std::string chain = "CNI-hy" + nonce().substr(0, 18);
    ASSERT_EQ(test::sh("iptables -w -t nat -N " + chain + " && iptables -w -t nat -A " + chain +
                       " -j MASQUERADE && iptables -w -t nat -A POSTROUTING -s " + killed_address +
                       "/32 -m comment --comment 'name: \"hookyard\" id: \"" + id + "\"' -j " + chain),
              0);
    ASSERT_NE(nat_rules().find(id), std::string::npos);

    const auto released = release_stale_cni_addresses(ipam, "hookyard", std::chrono::seconds(0), k_cni_test_env);
    EXPECT_TRUE(released.problems.empty()) << released.problems.front();
    // Other leftovers on this host may go too; the live build's address never.
    const auto& r = released.released;
    EXPECT_NE(std::find(r.begin(), r.end(), killed_address + " (" + id + ")"), r.end());
    for (const auto& a : r) EXPECT_NE(a.rfind(live_address + " ", 0), 0U) << a;
    EXPECT_FALSE(std::filesystem::exists(ipam + "/" + killed_address));
    EXPECT_EQ(nat_rules().find(id), std::string::npos);
    EXPECT_EQ(nat_rules().find(chain), std::string::npos);
    EXPECT_TRUE(std::filesystem::exists(ipam + "/" + live_address));
    EXPECT_FALSE(live->finished());
    live->cancel();
    EXPECT_EQ(live->wait().error().kind, util::ErrorKind::canceled);
}

}  // namespace
}  // namespace hookyard::pipeline::test_fixture
