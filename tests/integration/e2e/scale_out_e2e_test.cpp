// Two `hookyard serve` instances on one PostgreSQL database (issue 14): pushes spread over both instances'
// intakes are built once each, by whichever instance claimed them, and pushed to the registry.

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
        start_instance(0);
        start_instance(1);
    }
};

// How often `log` says build `id` started.
int starts_in(const std::string& log, long long id) {
    const std::regex started("build " + std::to_string(id) + " of [^ ]+ [^ ]+ started");
    return static_cast<int>(
        std::distance(std::sregex_iterator(log.begin(), log.end(), started), std::sregex_iterator()));
}

TEST_F(ScaleOutE2E, PushesSpreadOverTwoInstancesAreEachBuiltOnceAndPushed) {
    std::vector<long long> ids;
    for (int i = 0; i < 10; ++i) m_repo->push("b" + std::to_string(i));  // HEAD (m_head) as branch b<i>
    for (int i = 0; i < 10; ++i) {
        use(i % 2);
        const auto accepted = send_push("refs/heads/b" + std::to_string(i), std::string(40, '0'), m_head,
                                        {"Dockerfile"}, "change", "acme/tags");
        ASSERT_EQ(accepted.status, 202) << accepted.body;
        const auto built = build_ids(accepted);
        ASSERT_EQ(built.size(), 1u) << accepted.body;
        ids.push_back(built[0]);
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
        use(static_cast<int>(i % 2));  // either instance answers for every build
        const auto build = wait_terminal(ids[i], 300s);
        EXPECT_EQ(build.value("state", ""), "succeeded") << build.dump();
        EXPECT_EQ(build.value("attempts", -1), 0) << build.dump();
        // Polled: the distribution registry answers 500 now and then while other pushes write the same blobs.
        const std::string tag = "acme/tags:b" + std::to_string(i);
        EXPECT_TRUE(wait_until([&] { return !skopeo_inspect(tag).is_null(); }, 20s)) << tag << " not pushed";
    }
    const std::string logs[2] = {instance_log(0), instance_log(1)};
    int by_second = 0;
    for (const auto id : ids) {
        const int first = starts_in(logs[0], id), second = starts_in(logs[1], id);
        EXPECT_EQ(first + second, 1) << "build " << id << " started " << first << " + " << second << " times";
        by_second += second;
    }
    std::cerr << "builds run by the second instance: " << by_second << " of " << ids.size() << "\n";
    EXPECT_EQ(api_get("/api/v1/builds?repository=acme/tags").json()["builds"].size(), ids.size());
}

}  // namespace
}  // namespace hookyard::test
