// Build reuse end to end against the real service, git daemon, buildah and docker-registry: a release tag
// of a commit main built is re-tagged (same digest, no build), also into another repository (blob mounts)
// and after a change outside the build context; a Dockerfile change, a retry and "reuse": false build.

#include "tests/integration/e2e/e2e_fixture.hpp"

namespace hookyard::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string k_zero(40, '0');

class ReuseE2E : public PipelineE2E {
protected:
    std::string log_of(long long id) { return api_get("/api/v1/builds/" + std::to_string(id) + "/log").body; }

    // The build stage's note, or "" when it has none.
    static std::string build_note(const json& build) {
        for (const auto& s : build["stages"]) {
            if (s["name"] == "build" && s["note"].is_string()) return s["note"];
        }
        return "";
    }

    // Asserts that `build` succeeded by re-tagging the image of `source` and returns its log.
    void expect_reused(const json& build, const json& source) {
        ASSERT_EQ(build["state"], "succeeded") << build.dump(2);
        EXPECT_EQ(build["reused_from"], source["id"]) << build.dump(2);
        EXPECT_EQ(build["digest"], source["digest"]);
        EXPECT_EQ(build_note(build), "reused from #" + std::to_string(source["id"].get<long long>()));
        const std::string log = log_of(build["id"]);
        EXPECT_NE(log.find("hookyard: reused from #"), std::string::npos) << log;
        EXPECT_EQ(log.find("STEP"), std::string::npos) << "buildah ran:\n" << log;
    }
};

TEST_F(ReuseE2E, AReleaseTagOfABuiltCommitIsReTaggedAndOnlyRealChangesBuild) {
    const auto built = wait_terminal(build_ids(send_push("refs/heads/main", k_zero, m_head)).at(0));
    ASSERT_EQ(built["state"], "succeeded") << built.dump(2);
    EXPECT_TRUE(built["reused_from"].is_null());
    EXPECT_FALSE(built["base_images"].is_null());

    m_repo->push_tag("v1.0");
    const auto started = std::chrono::steady_clock::now();
    const auto tagged = wait_terminal(build_ids(send_push("refs/tags/v1.0", k_zero, m_head)).at(0));
    std::cerr
        << "tag push → pushed tag: "
        << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count()
        << " ms\n";
    expect_reused(tagged, built);
    EXPECT_EQ(skopeo_inspect("acme/app:v1.0")["Digest"], built["digest"]);
    EXPECT_EQ(skopeo_inspect("acme/app:v1")["Digest"], built["digest"]);

    // Another repository of the same registry, same content: the manifest goes there with mounted blobs.
    m_repo->push("feature");
    const auto other = wait_terminal(
        build_ids(send_push("refs/heads/feature", k_zero, m_head, {"Dockerfile"}, "x", "acme/tags")).at(0));
    expect_reused(other, built);
    EXPECT_EQ(skopeo_inspect("acme/tags:feature")["Digest"], built["digest"]);

    // A retry and an explicit "reuse": false build.
    const auto auth = std::string("Authorization: Bearer ") + k_token;
    const auto retried =
        request("POST", "/api/v1/builds/" + std::to_string(tagged["id"].get<long long>()) + "/retry", "", {auth});
    ASSERT_EQ(retried.status, 201) << retried.body;
    const auto again = wait_terminal(retried.json()["id"].get<long long>());
    ASSERT_EQ(again["state"], "succeeded") << again.dump(2);
    EXPECT_TRUE(again["reused_from"].is_null()) << "a retry builds";
    const auto opted_out = request("POST", std::string("/api/v1/trigger/") + k_trigger_token,
                                   R"({"source_type": "Branch", "source_name": "main", "reuse": false})",
                                   {"Content-Type: application/json"});
    ASSERT_EQ(opted_out.status, 202) << opted_out.body;
    const auto fresh = wait_terminal(build_ids(opted_out).at(0));
    ASSERT_EQ(fresh["state"], "succeeded") << fresh.dump(2);
    EXPECT_TRUE(fresh["reused_from"].is_null()) << "reuse: false builds";

    const std::string changed = commit_and_push({{"Dockerfile", dockerfile("echo v2 > /version")}});
    const auto rebuilt = wait_terminal(build_ids(send_push("refs/heads/main", m_head, changed)).at(0));
    ASSERT_EQ(rebuilt["state"], "succeeded") << rebuilt.dump(2);
    EXPECT_TRUE(rebuilt["reused_from"].is_null()) << "a Dockerfile change builds";
    EXPECT_NE(rebuilt["digest"], built["digest"]);
}

TEST_F(ReuseE2E, AChangeOutsideTheContextIsStillReused) {
    // acme/monorepo builds services/api; its rule's paths filter reads the payload's file list.
    const std::vector<std::string> api_files = {"services/api/Dockerfile"};
    const auto built =
        wait_terminal(build_ids(send_push("refs/heads/main", k_zero, m_head, api_files, "x", "acme/monorepo")).at(0));
    ASSERT_EQ(built["state"], "succeeded") << built.dump(2);
    const std::string docs = commit_and_push({{"docs/README.md", "more docs\n"}});
    const auto next =
        wait_terminal(build_ids(send_push("refs/heads/main", m_head, docs, api_files, "x", "acme/monorepo")).at(0));
    expect_reused(next, built);
    EXPECT_EQ(next["commit"], docs);
    EXPECT_EQ(skopeo_inspect("acme/api:latest")["Digest"], built["digest"]);
}

}  // namespace
}  // namespace hookyard::test
