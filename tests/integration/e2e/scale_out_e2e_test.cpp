// Three `hookyard serve` instances on one PostgreSQL database (issue 14): 30 pushes spread over their intakes
// are built once each, by whichever instance claimed them, spread over the builders, and pushed once each.

#include <regex>

#include "tests/integration/e2e/cluster_fixture.hpp"

namespace hookyard::test {
namespace {

using namespace std::chrono_literals;

class ScaleOutE2E : public ClusterE2E {
protected:
    void SetUp() override {
        ClusterE2E::SetUp();
        if (HasFatalFailure()) return;
        for (int i = 0; i < k_instances; ++i) start_instance(i);
    }
    static constexpr int k_instances = 3;
    static constexpr int k_pushes = 30;
};

// How often `log` matches `pattern`.
int count_in(const std::string& log, const std::string& pattern) {
    const std::regex re(pattern);
    return static_cast<int>(std::distance(std::sregex_iterator(log.begin(), log.end(), re), std::sregex_iterator()));
}

TEST_F(ScaleOutE2E, PushesSpreadOverThreeInstancesAreEachBuiltOnceSpreadAndPushedOnce) {
    std::vector<long long> ids;
    for (int i = 0; i < k_pushes; ++i) m_repo->push("b" + std::to_string(i));  // HEAD (m_head) as branch b<i>
    for (int i = 0; i < k_pushes; ++i) {
        use(i % k_instances);
        const auto accepted = send_push("refs/heads/b" + std::to_string(i), std::string(40, '0'), m_head,
                                        {"Dockerfile"}, "change", "acme/tags");
        ASSERT_EQ(accepted.status, 202) << accepted.body;
        const auto built = build_ids(accepted);
        ASSERT_EQ(built.size(), 1u) << accepted.body;
        ids.push_back(built[0]);
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
        use(static_cast<int>(i % k_instances));  // every instance answers for every build
        const auto build = wait_terminal(ids[i], 300s);
        EXPECT_EQ(build.value("state", ""), "succeeded") << build.dump();
        EXPECT_EQ(build.value("attempts", -1), 0) << build.dump();
        // Polled: the distribution registry answers 500 now and then while other pushes write the same blobs.
        const std::string tag = "acme/tags:b" + std::to_string(i);
        EXPECT_TRUE(wait_until([&] { return !skopeo_inspect(tag).is_null(); }, 20s)) << tag << " not pushed";
    }
    std::vector<std::string> logs;
    for (int n = 0; n < k_instances; ++n) logs.push_back(instance_log(n));
    std::vector<int> ran(k_instances, 0);
    for (std::size_t i = 0; i < ids.size(); ++i) {
        int starts = 0;
        for (int n = 0; n < k_instances; ++n) {
            const int here = count_in(logs[n], "build " + std::to_string(ids[i]) + " of [^ ]+ [^ ]+ started");
            starts += here;
            ran[n] += here;
        }
        EXPECT_EQ(starts, 1) << "build " << ids[i] << " started " << starts << " times";
        // A second run of the build (by any instance) would append its own push line to the build's log.
        const std::string log = api_get("/api/v1/builds/" + std::to_string(ids[i]) + "/log").body;
        EXPECT_EQ(count_in(log, "hookyard: pushed \\S*acme/tags:b" + std::to_string(i) + "@"), 1) << log;
    }
    const auto builders = std::count_if(ran.begin(), ran.end(), [](int n) { return n > 0; });
    std::cerr << "builds per instance: " << ran[0] << " " << ran[1] << " " << ran[2] << "\n";
    EXPECT_GE(builders, 2) << "all " << ids.size() << " builds ran on one instance";
    EXPECT_EQ(api_get("/api/v1/builds?repository=acme/tags").json()["builds"].size(), ids.size());
}

}  // namespace
}  // namespace hookyard::test
