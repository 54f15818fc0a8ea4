// Pushes that must not move an image backwards or sideways, end to end against the real service, git daemon,
// buildah and docker-registry: a replayed old push ends superseded and `latest` keeps the newer image (a
// forced push still rolls back), and a branch whose name only sanitising turns into another branch's tag
// fails instead of overwriting that tag.

#include "tests/integration/e2e/e2e_fixture.hpp"

namespace hookyard::test {
namespace {

using namespace std::chrono_literals;

TEST_F(PipelineE2E, AReplayedOldPushIsSupersededAndAForcedPushRollsBack) {
    const std::string old_commit = m_head;
    const auto first = wait_terminal(build_ids(send_push("refs/heads/main", std::string(40, '0'), old_commit)).at(0));
    ASSERT_EQ(first["state"], "succeeded") << first.dump(2);
    const std::string new_commit = commit_and_push({{"Dockerfile", dockerfile("echo v2 > /version")}});
    const auto second = wait_terminal(build_ids(send_push("refs/heads/main", old_commit, new_commit)).at(0));
    ASSERT_EQ(second["state"], "succeeded") << second.dump(2);
    const std::string new_digest = second["digest"];

    // The same signed push of the old commit under a new delivery id: accepted, then superseded at checkout.
    const auto replay = send_push("refs/heads/main", std::string(40, '0'), old_commit);
    ASSERT_EQ(replay.status, 202) << replay.body;
    const auto replayed = wait_terminal(build_ids(replay).at(0));
    EXPECT_EQ(replayed["state"], "superseded") << replayed.dump(2);
    EXPECT_NE(replayed["error"].get<std::string>().find("is an ancestor of " + new_commit), std::string::npos)
        << replayed.dump(2);
    EXPECT_EQ(skopeo_inspect("acme/app:latest")["Digest"], new_digest) << "latest still holds the newer image";
    EXPECT_EQ(api_get("/healthz").status, 200);

    // A deliberate rollback: the branch force-pushed back to the old commit, the payload says forced.
    m_repo->reset_hard(old_commit);
    m_repo->push("main", true);
    auto payload = push_payload("refs/heads/main", new_commit, old_commit);
    payload["forced"] = true;
    const auto rollback = wait_terminal(build_ids(send_payload(payload)).at(0));
    ASSERT_EQ(rollback["state"], "succeeded") << rollback.dump(2);
    EXPECT_EQ(skopeo_inspect("acme/app:latest")["Digest"], rollback["digest"]);
}

TEST_F(PipelineE2E, ABranchWhoseSanitisedTagAnotherBranchOwnsFailsInsteadOfOverwriting) {
    m_repo->push("latest");
    const auto owner = wait_terminal(
        build_ids(send_push("refs/heads/latest", std::string(40, '0'), m_head, {"Dockerfile"}, "x", "acme/tags"))
            .at(0));
    ASSERT_EQ(owner["state"], "succeeded") << owner.dump(2);

    const std::string other = commit_and_push({{"Dockerfile", dockerfile("echo other > /version")}});
    m_repo->push("lat@est");
    const auto collided = wait_terminal(
        build_ids(send_push("refs/heads/lat@est", std::string(40, '0'), other, {"Dockerfile"}, "x", "acme/tags"))
            .at(0));
    EXPECT_EQ(collided["state"], "failed") << collided.dump(2);
    const std::string error = collided["error"];
    EXPECT_NE(error.find("belongs to refs/heads/latest"), std::string::npos) << error;
    EXPECT_NE(error.find("refs/heads/lat@est"), std::string::npos) << error;
    EXPECT_NE(error.find("allow_tag_collisions: true"), std::string::npos) << error;
    EXPECT_EQ(skopeo_inspect("acme/tags:latest")["Digest"], owner["digest"]) << "the owner's image is untouched";
}

}  // namespace
}  // namespace hookyard::test
