// Pull requests end to end, all real: the pull request's head is served by git daemon as refs/pull/N/head of
// the base repository (as GitHub serves it), the real `hookyard serve` builds it with buildah, reports
// pending → success on the head commit to the GitHub statuses fake, and pushes nothing; a fork's build never
// sees the configured build args nor registry credentials; a newer commit supersedes the queued build and closing
// cancels.

#include <signal.h>

#include "tests/integration/e2e/e2e_fixture.hpp"
#include "util/signature.hpp"

namespace hookyard::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* k_pr_secret_arg = "s3cr3t-value";

class PullRequestE2E : public PipelineE2E {
protected:
    // The fixture's service, restarted with acme/prs: autotest external, a secret build arg, no push_tag.
    void SetUp() override {
        PipelineE2E::SetUp();
        if (HasFatalFailure()) return;
        m_hookyard->signal(SIGTERM);
        ASSERT_GE(m_hookyard->wait(20s), 0);
        std::string text = read_file(m_config);
        const std::string repo = "  - github: acme/prs\n    registry: local\n    push_repo: " + m_registry->host() +
                                 "/acme/prs\n    clone_url: " + m_git->url("app.git") +
                                 "\n    autotest: external\n    trigger_token: prs-trigger-token\n    rules:\n"
                                 "      - { source: main, tag: 'latest,{sha:7}', build_args: { SECRET: " +
                                 k_pr_secret_arg + " } }\n";
        text.insert(text.find("subscribers:\n"), repo);
        write_file(m_config, text);
        start_hookyard();
    }

    // Commits `dockerfile` on a side branch and pushes it to the base repository's refs/pull/<number>/head.
    std::string push_pull_ref(int number, const std::string& dockerfile_text) {
        const auto& work = m_repo->work();
        git({"checkout", "-q", "-B", "pr" + std::to_string(number)}, work);
        const auto sha = m_repo->commit({{"Dockerfile", dockerfile_text}}, "pr " + std::to_string(number));
        git({"push", "-q", "--force", m_repo->bare(), "HEAD:refs/pull/" + std::to_string(number) + "/head"}, work);
        git({"checkout", "-q", "main"}, work);
        return sha;
    }

    HttpResult send_pull_request(const std::string& action, int number, const std::string& sha,
                                 const std::string& head_repo = "acme/prs") {
        const json payload = {{"action", action},
                              {"number", number},
                              {"pull_request",
                               {{"number", number},
                                {"title", "change"},
                                {"head", {{"sha", sha}, {"ref", "feature"}, {"repo", {{"full_name", head_repo}}}}},
                                {"base", {{"ref", "main"}, {"repo", {{"full_name", "acme/prs"}}}}}}},
                              {"repository", {{"full_name", "acme/prs"}, {"clone_url", m_git->url("app.git")}}},
                              {"sender", {{"login", "octocat"}}}};
        const std::string body = payload.dump();
        static int delivery = 0;
        return request("POST", "/hooks/github", body,
                       {"Content-Type: application/json", "X-GitHub-Event: pull_request",
                        "X-GitHub-Delivery: pr-" + std::to_string(::getpid()) + "-" + std::to_string(++delivery),
                        "X-Hub-Signature-256: sha256=" + util::hmac_sha256_hex(k_secret, body)});
    }

    // The states the GitHub statuses fake got for `sha`, in order.
    std::vector<std::string> statuses_for(const std::string& sha, std::string* target_url = nullptr) {
        std::vector<std::string> out;
        for (const auto& r : m_github.requests()) {
            if (r.target != "/api/v3/repos/acme/prs/statuses/" + sha) continue;
            const auto body = json::parse(r.body);
            out.push_back(body["state"]);
            if (target_url != nullptr) *target_url = body.value("target_url", "");
        }
        return out;
    }

    std::string state_of(long long id) { return api_get("/api/v1/builds/" + std::to_string(id)).json()["state"]; }

    // A Dockerfile whose RUN step prints the length of the SECRET build arg into the build log; unique per
    // test run, so that no layer cached by an earlier run answers instead of the RUN step.
    std::string secret_probe() const {
        return "FROM scratch\nCOPY busybox /bin/busybox\nARG SECRET\n"
               "RUN [\"/bin/busybox\", \"sh\", \"-c\", \"echo secret-length=${#SECRET} run=" +
               std::to_string(::getpid()) + "-" + std::to_string(m_port) + "\"]\n";
    }
};

TEST_F(PullRequestE2E, BuildsTheHeadReportsOnItAndPushesNothingAndAForkGetsNoBuildArgs) {
    const auto sha = push_pull_ref(7, secret_probe());
    const auto accepted = send_pull_request("opened", 7, sha);
    ASSERT_EQ(accepted.status, 202) << accepted.body;
    const auto id = build_ids(accepted).at(0);
    const auto build = wait_terminal(id, 300s);
    ASSERT_EQ(build["state"], "succeeded") << build.dump(2);
    EXPECT_EQ(build["ref"], "refs/pull/7/head");
    EXPECT_EQ(build["commit"], sha);
    EXPECT_EQ(build["trigger"]["type"], "pull_request");
    EXPECT_EQ(build["pull_request"], (json{{"number", 7}, {"external", false}, {"push", false}}));
    std::vector<std::string> stages;
    for (const auto& s : build["stages"]) stages.push_back(s["name"]);
    EXPECT_EQ(stages, (std::vector<std::string>{"checkout", "locate", "build"}));
    EXPECT_TRUE(skopeo_inspect("acme/prs:latest").is_null()) << "a pull request build pushes nothing";
    const auto log = api_get("/api/v1/builds/" + std::to_string(id) + "/log").body;
    EXPECT_NE(log.find("secret-length=12"), std::string::npos) << "the repository's own pull request gets its args";

    std::string target_url;
    ASSERT_TRUE(
        wait_until([&] { return statuses_for(sha).size() >= 2 && statuses_for(sha).back() == "success"; }, 60s));
    const auto states = statuses_for(sha, &target_url);
    EXPECT_EQ(states.front(), "pending");
    EXPECT_EQ(target_url, "http://127.0.0.1:" + std::to_string(m_port) + "/builds/" + std::to_string(id));

    const auto fork_sha = push_pull_ref(8, secret_probe() + "RUN [\"/bin/busybox\", \"true\"]\n");
    const auto fork_accepted = send_pull_request("opened", 8, fork_sha, "forker/app");
    ASSERT_EQ(fork_accepted.status, 202) << fork_accepted.body;
    const auto fork_id = build_ids(fork_accepted).at(0);
    const auto fork_build = wait_terminal(fork_id, 300s);
    ASSERT_EQ(fork_build["state"], "succeeded") << fork_build.dump(2);
    EXPECT_EQ(fork_build["pull_request"]["external"], true);
    const auto fork_log = api_get("/api/v1/builds/" + std::to_string(fork_id) + "/log").body;
    EXPECT_NE(fork_log.find("secret-length=0"), std::string::npos) << fork_log;
    EXPECT_EQ(fork_log.find(k_pr_secret_arg), std::string::npos);
    EXPECT_TRUE(skopeo_inspect("acme/prs:latest").is_null());
}

// The registry wants basic auth: the repository's own pull request pulls a private base image with the
// configured credentials, a fork's pull request of the same Dockerfile pulls anonymously and is refused.
TEST_F(PullRequestE2E, AForksBuildPullsItsBaseImageWithoutRegistryCredentials) {
    const auto base = send_push("refs/heads/main", std::string(40, '0'), m_head);
    ASSERT_EQ(base.status, 202) << base.body;
    ASSERT_EQ(wait_terminal(build_ids(base).at(0), 300s)["state"], "succeeded");
    const std::string from_private =
        "FROM " + m_registry->host() + "/acme/app:latest\nRUN [\"/bin/busybox\", \"true\"]\n";

    const auto fork = send_pull_request("opened", 10, push_pull_ref(10, from_private), "forker/app");
    ASSERT_EQ(fork.status, 202) << fork.body;
    const auto fork_id = build_ids(fork).at(0);
    EXPECT_EQ(wait_terminal(fork_id, 300s)["state"], "failed");
    const auto fork_log = api_get("/api/v1/builds/" + std::to_string(fork_id) + "/log").body;
    EXPECT_NE(fork_log.find("FROM pulls are anonymous"), std::string::npos) << fork_log;
    const bool refused = fork_log.find("authentication required") != std::string::npos ||
                         fork_log.find("unauthorized") != std::string::npos;
    EXPECT_TRUE(refused) << "the registry refuses the anonymous pull:\n" << fork_log;

    const auto own = send_pull_request("opened", 11, push_pull_ref(11, from_private));
    ASSERT_EQ(own.status, 202) << own.body;
    const auto own_build = wait_terminal(build_ids(own).at(0), 300s);
    EXPECT_EQ(own_build["state"], "succeeded") << own_build.dump(2);
}

TEST_F(PullRequestE2E, ANewCommitSupersedesTheQueuedBuildAndClosingCancels) {
    // A running build of main pushing acme/prs:latest holds the pull request's builds (same image:tag) queued.
    const auto slow = commit_and_push({{"Dockerfile", dockerfile("/bin/busybox sleep 600")}}, "slow");
    auto main_payload = push_payload("refs/heads/main", std::string(40, '0'), slow);
    main_payload["repository"]["full_name"] = "acme/prs";
    const auto blocker = send_payload(main_payload);
    ASSERT_EQ(blocker.status, 202) << blocker.body;
    const auto blocker_id = build_ids(blocker).at(0);
    ASSERT_TRUE(wait_until([&] { return state_of(blocker_id) == "running"; }, 120s));

    const auto first = send_pull_request("opened", 9, push_pull_ref(9, secret_probe()));
    ASSERT_EQ(first.status, 202) << first.body;
    const auto second = send_pull_request("synchronize", 9, push_pull_ref(9, secret_probe() + "# two\n"));
    ASSERT_EQ(second.status, 202) << second.body;
    const auto first_id = build_ids(first).at(0), second_id = build_ids(second).at(0);
    ASSERT_TRUE(wait_until([&] { return state_of(first_id) == "superseded"; }, 120s)) << state_of(first_id);
    EXPECT_EQ(state_of(second_id), "queued");

    const auto closed = send_pull_request("closed", 9, std::string(40, 'a'));
    ASSERT_EQ(closed.status, 200) << closed.body;
    EXPECT_EQ(closed.json()["canceled"], json::array({second_id}));
    EXPECT_EQ(state_of(second_id), "canceled");
    EXPECT_EQ(state_of(blocker_id), "running") << "closing a pull request leaves the branch's builds alone";

    const auto stop = request("POST", "/api/v1/builds/" + std::to_string(blocker_id) + "/cancel", "",
                              {std::string("Authorization: Bearer ") + k_token});
    EXPECT_EQ(stop.status / 100, 2) << stop.body;
    EXPECT_EQ(wait_terminal(blocker_id, 180s)["state"], "canceled");

    // Closing also stops a pull request's running build.
    const auto slow_pr = send_pull_request("opened", 12, push_pull_ref(12, dockerfile("/bin/busybox sleep 600")));
    ASSERT_EQ(slow_pr.status, 202) << slow_pr.body;
    const auto slow_id = build_ids(slow_pr).at(0);
    ASSERT_TRUE(wait_until([&] { return state_of(slow_id) == "running"; }, 120s));
    const auto closed_running = send_pull_request("closed", 12, std::string(40, 'a'));
    EXPECT_EQ(closed_running.json()["canceled"], json::array({slow_id})) << closed_running.body;
    EXPECT_EQ(wait_terminal(slow_id, 180s)["state"], "canceled");
}

// A trigger build is queued before its commit is known: {sha:7} renders once checkout resolved main's head,
// and that tag is the one pushed.
TEST_F(PullRequestE2E, ATriggerBuildRendersShaAfterCheckout) {
    const auto triggered = request("POST", "/api/v1/trigger/prs-trigger-token", R"({"source_name": "main"})",
                                   {"Content-Type: application/json"});
    ASSERT_EQ(triggered.status, 202) << triggered.body;
    const auto build = wait_terminal(build_ids(triggered).at(0), 300s);
    ASSERT_EQ(build["state"], "succeeded") << build.dump(2);
    EXPECT_EQ(build["commit"], m_head);
    EXPECT_EQ(build["tags"], json::array({"latest", m_head.substr(0, 7)}));
    EXPECT_EQ(skopeo_inspect("acme/prs:" + m_head.substr(0, 7))["Digest"], build["digest"]);
}

}  // namespace
}  // namespace hookyard::test
