// hookyard end to end, all real: a signed GitHub push → 202 → git daemon checkout → buildah → our push to
// docker-registry (basic auth) → Docker Hub-format and hookyard-format webhooks and GitHub commit statuses.

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "tests/integration/e2e/e2e_fixture.hpp"
#include "util/signature.hpp"

namespace hookyard::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::vector<ReceivedRequest> with_event(const HttpTestServer& r, const std::string& event) {
    std::vector<ReceivedRequest> out;
    for (auto& req : r.requests()) {
        if (req.header("x-hookyard-event") == event) out.push_back(req);
    }
    return out;
}

TEST_F(PipelineE2E, SignedPushBuildsPushesAndNotifies) {
    const auto accepted = send_push("refs/heads/main", std::string(40, '0'), m_head);
    ASSERT_EQ(accepted.status, 202) << accepted.body;
    const auto ids = build_ids(accepted);
    ASSERT_EQ(ids.size(), 1u) << accepted.body;
    const auto build = wait_terminal(ids[0]);
    ASSERT_EQ(build["state"], "succeeded") << build.dump(2);
    const std::string digest = build["digest"];

    // The image is in the registry under both tags, with the digest the build reports.
    for (const char* tag : {"latest", "main"}) {
        const auto inspected = skopeo_inspect(std::string("acme/app:") + tag);
        ASSERT_FALSE(inspected.is_null()) << tag;
        EXPECT_EQ(inspected["Digest"], digest) << tag;
    }
    std::vector<std::string> stages;
    for (const auto& s : build["stages"]) stages.push_back(s["name"]);
    EXPECT_EQ(stages, (std::vector<std::string>{"checkout", "locate", "build", "push"}));
    EXPECT_EQ(build["commit"], m_head);

    // Docker Hub-format subscriber: one payload per pushed tag.
    ASSERT_TRUE(m_hub_receiver.wait_for(2, 30s));
    std::set<std::string> tags;
    for (const auto& req : m_hub_receiver.requests()) {
        const auto p = json::parse(req.body);
        tags.insert(p["push_data"]["tag"]);
        EXPECT_EQ(p["repository"]["repo_name"], "acme/app");
        EXPECT_EQ(p["push_data"]["pusher"], "octocat");
        EXPECT_EQ(p["push_data"]["images"][0], digest);
        EXPECT_NE(p["callback_url"].get<std::string>().find("/api/v1/callbacks/" + std::to_string(ids[0]) + "/"),
                  std::string::npos);
    }
    EXPECT_EQ(tags, (std::set<std::string>{"latest", "main"}));

    // The payload's callback_url works the way Docker Hub's does, and only with its token.
    const std::string callback_url = json::parse(m_hub_receiver.requests()[0].body)["callback_url"];
    const std::string callback_path = callback_url.substr(callback_url.find("/api/v1/callbacks/"));
    const auto called = request("POST", callback_path,
                                R"({"state": "success", "description": "387 tests PASSED", "context": "CI", )"
                                R"("target_url": "https://ci.example.com/5"})",
                                {"Content-Type: application/json"});
    EXPECT_EQ(called.status, 200) << called.body;
    EXPECT_EQ(request("POST", callback_path + "x", R"({"state": "success"})", {}).status, 401);
    EXPECT_EQ(request("POST", callback_path, R"({"state": "maybe"})", {}).status, 400);
    const auto recorded = api_get("/api/v1/builds/" + std::to_string(ids[0]) + "/notifications").json();
    ASSERT_EQ(recorded["callbacks"].size(), 1u) << recorded.dump(2);
    EXPECT_EQ(recorded["callbacks"][0]["description"], "387 tests PASSED");

    // hookyard-format subscriber: every event, signed with its secret.
    ASSERT_TRUE(wait_until([&] { return with_event(m_ops_receiver, "build.succeeded").size() == 1; }, 30s));
    for (const char* event : {"build.queued", "build.started", "build.succeeded"}) {
        const auto got = with_event(m_ops_receiver, event);
        ASSERT_EQ(got.size(), 1u) << event;
        EXPECT_EQ(got[0].header("x-hookyard-signature-256"),
                  "sha256=" + util::hmac_sha256_hex(k_ops_secret, got[0].body));
        EXPECT_EQ(got[0].header("x-hookyard-delivery").size(), 36u);
        EXPECT_EQ(json::parse(got[0].body)["build"]["id"], ids[0]);
    }
    EXPECT_EQ(json::parse(with_event(m_ops_receiver, "build.succeeded")[0].body)["build"]["digest"], digest);

    // GitHub commit statuses: pending at queue, success at the end, with the token GitHub expects.
    ASSERT_TRUE(wait_until(
        [&] {
            for (const auto& r : m_github.requests()) {
                if (json::parse(r.body)["state"] == "success") return true;
            }
            return false;
        },
        30s));
    const auto statuses = m_github.requests();
    EXPECT_EQ(json::parse(statuses.front().body)["state"], "pending");
    for (const auto& r : statuses) {
        EXPECT_EQ(r.method, "POST");
        EXPECT_EQ(r.target, "/api/v3/repos/acme/app/statuses/" + m_head);
        EXPECT_EQ(r.header("authorization"), std::string("Bearer ") + k_github_token);
    }
}

TEST_F(PipelineE2E, TagPushUsesCaptureGroupsAndMonorepoPathsFilterSkips) {
    m_repo->push_tag("v1.4");
    const auto accepted = send_push("refs/tags/v1.4", std::string(40, '0'), m_head, {});
    ASSERT_EQ(accepted.status, 202) << accepted.body;
    const auto build = wait_terminal(build_ids(accepted).at(0));
    ASSERT_EQ(build["state"], "succeeded") << build.dump(2);
    EXPECT_EQ(build["tags"], json::array({"v1.4", "v1"}));
    EXPECT_EQ(skopeo_inspect("acme/app:v1")["Digest"], build["digest"]);

    const auto skipped = send_push("refs/heads/main", m_head, m_head, {"docs/README.md"}, "docs", "acme/monorepo");
    EXPECT_EQ(skipped.status, 200) << skipped.body;
    EXPECT_TRUE(build_ids(skipped).empty());
    EXPECT_NE(skipped.body.find("paths"), std::string::npos) << skipped.body;

    const auto built =
        send_push("refs/heads/main", m_head, m_head, {"services/api/Dockerfile"}, "api", "acme/monorepo");
    ASSERT_EQ(built.status, 202) << built.body;
    const auto api = wait_terminal(build_ids(built).at(0));
    ASSERT_EQ(api["state"], "succeeded") << api.dump(2);
    EXPECT_EQ(skopeo_inspect("acme/api:latest")["Digest"], api["digest"]);
}

TEST_F(PipelineE2E, BurstOfPushesBuildsTheLastAndSupersedesTheRest) {
    // Five commits, then their five webhooks back to back, as GitHub sends a burst of pushes.
    std::vector<std::pair<std::string, std::string>> pushes;  // (before, after)
    std::string before = m_head;
    for (int i = 2; i <= 6; ++i) {
        const auto sha = commit_and_push({{"Dockerfile", dockerfile("echo v" + std::to_string(i) + " > /version")}});
        pushes.emplace_back(before, sha);
        before = sha;
    }
    std::vector<long long> ids;
    for (const auto& [from, to] : pushes) {
        const auto r = send_push("refs/heads/main", from, to);
        ASSERT_EQ(r.status, 202) << r.body;
        ids.push_back(build_ids(r).at(0));
    }
    const auto last = wait_terminal(ids.back());
    ASSERT_EQ(last["state"], "succeeded") << last.dump(2);
    EXPECT_EQ(last["commit"], pushes.back().second);
    int superseded = 0, ran = 0;
    for (std::size_t i = 0; i + 1 < ids.size(); ++i) {
        const auto b = wait_terminal(ids[i]);
        if (b["state"] == "superseded") {
            ++superseded;
            EXPECT_GT(b["superseded_by"].get<long long>(), ids[i]) << b.dump(2);
            EXPECT_TRUE(b["stages"].empty()) << "a superseded build never ran";
        } else {
            ++ran;  // claimed before the rest of the burst arrived
            EXPECT_EQ(b["state"], "succeeded") << b.dump(2);
        }
    }
    // The builds push the same tags, so at most one runs at a time: at most one was claimed mid-burst.
    EXPECT_LE(ran, 1);
    EXPECT_GE(superseded, 3);
    EXPECT_EQ(skopeo_inspect("acme/app:main")["Digest"], last["digest"]) << "the registry holds the last push";
}

TEST_F(PipelineE2E, FailingBuildNotifiesTheCause) {
    const auto sha = commit_and_push({{"Dockerfile", dockerfile("echo broken && exit 3")}});
    const auto r = send_push("refs/heads/main", m_head, sha);
    ASSERT_EQ(r.status, 202) << r.body;
    const auto build = wait_terminal(build_ids(r).at(0));
    ASSERT_EQ(build["state"], "failed");
    const std::string error = build["error"];
    EXPECT_NE(error.find("build"), std::string::npos) << error;
    ASSERT_TRUE(wait_until([&] { return with_event(m_ops_receiver, "build.failed").size() == 1; }, 30s));
    const auto payload = json::parse(with_event(m_ops_receiver, "build.failed")[0].body);
    EXPECT_EQ(payload["build"]["error"], error);
    EXPECT_EQ(m_hub_receiver.count(), 0u) << "Docker Hub receivers only hear about pushed images";
    const auto log = api_get("/api/v1/builds/" + std::to_string(build_ids(r).at(0)) + "/log");
    EXPECT_NE(log.body.find("exit 3"), std::string::npos) << log.body;
    // builder.keep_failed_workdirs: the checkout stays for inspection, outside the work dir start-up clears.
    const auto id = std::to_string(build_ids(r).at(0));
    EXPECT_TRUE(std::filesystem::exists(m_dir / ("data/kept/" + id + "/src/Dockerfile")));
    EXPECT_FALSE(std::filesystem::exists(m_dir / ("data/work/" + id)));
}

TEST_F(PipelineE2E, ReceiverFailingTwiceGetsExactlyOneSuccess) {
    m_ops_receiver.script({500, 503});
    const auto r = send_push("refs/heads/main", std::string(40, '0'), m_head);
    ASSERT_EQ(r.status, 202);
    const auto id = build_ids(r).at(0);
    ASSERT_EQ(wait_terminal(id)["state"], "succeeded");
    const auto all_delivered = [&](const json& n) {
        int delivered = 0;
        for (const auto& item : n.value("notifications", json::array())) {
            if (item["target"] == "ops" && item["state"] == "delivered") ++delivered;
        }
        return delivered;
    };
    json n;
    // queued, started, succeeded and one push per tag: every one delivered once, after the two failures.
    ASSERT_TRUE(wait_until(
        [&] {
            n = api_get("/api/v1/builds/" + std::to_string(id) + "/notifications").json();
            return all_delivered(n) == 5;
        },
        60s))
        << n.dump(2);
    std::vector<int> statuses;
    for (const auto& item : n["notifications"]) {
        if (item["target"] != "ops") continue;
        int successes = 0;
        for (const auto& a : item["attempts"]) {
            statuses.push_back(a["status"]);
            if (a["status"] == 200) ++successes;
        }
        EXPECT_EQ(successes, 1) << item.dump(2);
    }
    std::sort(statuses.begin(), statuses.end());
    EXPECT_EQ(statuses, (std::vector<int>{200, 200, 200, 200, 200, 500, 503}));
    EXPECT_EQ(m_ops_receiver.count(), 7u) << "each notification was sent until its one success, never again";
    // A retried notification carries the same X-Hookyard-Delivery as its first attempt.
    std::map<std::string, int> per_delivery;
    for (const auto& req : m_ops_receiver.requests()) ++per_delivery[req.header("x-hookyard-delivery")];
    EXPECT_EQ(per_delivery.size(), 5u);
}

TEST_F(PipelineE2E, DownAndSlowReceiversBlockNeitherBuildsNorOtherReceivers) {
    // Subscribers "down" (connection refused) and "slow" (answers after 20 s, notify.timeout is 5 s) are in
    // every test's config; here two builds run and the healthy receiver hears about both in time.
    const auto first = send_push("refs/heads/main", std::string(40, '0'), m_head);
    ASSERT_EQ(first.status, 202);
    const auto sha = commit_and_push({{"Dockerfile", dockerfile("echo v2 > /version")}});
    const auto second = send_push("refs/heads/main", m_head, sha);
    ASSERT_EQ(second.status, 202);
    const auto id = build_ids(second).at(0);
    ASSERT_EQ(wait_terminal(id)["state"], "succeeded");
    // The healthy receiver hears within 15 s of the end, while every attempt at "slow" takes notify.timeout
    // (5 s) and "down" is retried with backoff: a dispatcher that queued it behind them would miss this.
    // (A bound on the builds' own time measured the machine's load, not the dispatcher.)
    ASSERT_TRUE(wait_until(
        [&] {
            for (const auto& req : with_event(m_ops_receiver, "build.succeeded")) {
                if (json::parse(req.body)["build"]["id"] == id) return true;
            }
            return false;
        },
        15s))
        << "the slow receiver held the healthy one up";
    json n;
    ASSERT_TRUE(wait_until(
        [&] {
            n = api_get("/api/v1/builds/" + std::to_string(id) + "/notifications").json();
            bool down_failed = false, slow_timed_out = false;
            for (const auto& item : n.value("notifications", json::array())) {
                for (const auto& a : item["attempts"]) {
                    if (item["target"] == "down" && a["status"] == 0 && !a["error"].is_null()) down_failed = true;
                    if (item["target"] == "slow" && a["status"] == 0 && !a["error"].is_null()) slow_timed_out = true;
                }
            }
            return down_failed && slow_timed_out;
        },
        60s))
        << n.dump(2);
    for (const auto& item : n["notifications"]) {
        if (item["target"] == "down" || item["target"] == "slow") {
            EXPECT_EQ(item["state"], "pending") << "retried later";
        }
    }
}

TEST_F(PipelineE2E, TriggerUrlBuildsTheBranchHead) {
    const auto sha = commit_and_push({{"Dockerfile", dockerfile("echo triggered > /version")}});
    const auto r = request("POST", std::string("/api/v1/trigger/") + k_trigger_token,
                           R"({"source_type": "Branch", "source_name": "main"})", {"Content-Type: application/json"});
    ASSERT_EQ(r.status, 202) << r.body;
    const auto build = wait_terminal(build_ids(r).at(0));
    ASSERT_EQ(build["state"], "succeeded") << build.dump(2);
    EXPECT_EQ(build["commit"], sha) << "the commit the branch pointed at, resolved at checkout";
    EXPECT_EQ(skopeo_inspect("acme/app:main")["Digest"], build["digest"]);
    EXPECT_EQ(request("POST", "/api/v1/trigger/wrong", R"({"source_name": "main"})", {}).status, 404);
}

TEST_F(PipelineE2E, ApiCancelStopsARunningBuildAndRetryBuildsTheSameCommit) {
    const auto sha = commit_and_push({{"Dockerfile", dockerfile("sleep 3 && echo slow > /version")}});
    const auto r = send_push("refs/heads/main", m_head, sha);
    ASSERT_EQ(r.status, 202);
    const auto id = build_ids(r).at(0);
    const auto path = "/api/v1/builds/" + std::to_string(id);
    ASSERT_TRUE(wait_until(
        [&] {
            for (const auto& s : api_get(path).json().value("stages", json::array())) {
                if (s["name"] == "build" && s["state"] == "running") return true;
            }
            return false;
        },
        60s));
    const auto auth = std::string("Authorization: Bearer ") + k_token;
    const auto canceled_at = std::chrono::steady_clock::now();
    ASSERT_EQ(request("POST", path + "/cancel", "", {auth}).status, 200);
    const auto canceled = wait_terminal(id, 30s);
    EXPECT_EQ(canceled["state"], "canceled") << canceled.dump(2);
    EXPECT_LT(std::chrono::steady_clock::now() - canceled_at, 3s) << "stopped at once, not after the RUN ended";
    EXPECT_TRUE(skopeo_inspect("acme/app:main").is_null()) << "nothing was pushed";
    ASSERT_TRUE(wait_until([&] { return with_event(m_ops_receiver, "build.canceled").size() == 1; }, 30s));

    const auto retried = request("POST", path + "/retry", "", {auth});
    ASSERT_EQ(retried.status, 201) << retried.body;
    const auto again = wait_terminal(retried.json()["id"].get<long long>());
    ASSERT_EQ(again["state"], "succeeded") << again.dump(2);
    EXPECT_EQ(again["commit"], sha);
    EXPECT_EQ(again["retry_of"], id);
    EXPECT_EQ(skopeo_inspect("acme/app:main")["Digest"], again["digest"]);
}

TEST_F(PipelineE2E, KillDuringABuildThenRestartCompletesItOnce) {
    const auto sha = commit_and_push({{"Dockerfile", dockerfile("/bin/busybox sleep 4 && echo slow > /version")}});
    const auto r = send_push("refs/heads/main", m_head, sha);
    ASSERT_EQ(r.status, 202);
    const auto id = build_ids(r).at(0);
    ASSERT_TRUE(wait_until(
        [&] {
            const auto b = api_get("/api/v1/builds/" + std::to_string(id)).json();
            for (const auto& s : b.value("stages", json::array())) {
                if (s["name"] == "build" && s["state"] == "running") return true;
            }
            return false;
        },
        60s));
    kill_hookyard();
    start_hookyard();
    const auto build = wait_terminal(id);
    ASSERT_EQ(build["state"], "succeeded") << build.dump(2);
    EXPECT_EQ(build["attempts"], 1);
    EXPECT_EQ(skopeo_inspect("acme/app:main")["Digest"], build["digest"]);
    ASSERT_TRUE(wait_until([&] { return with_event(m_ops_receiver, "build.succeeded").size() == 1; }, 30s));
    // Nothing finished twice: exactly one success notification, even after waiting for stragglers.
    EXPECT_FALSE(wait_until([&] { return with_event(m_ops_receiver, "build.succeeded").size() > 1; }, 3s));
}

TEST_F(PipelineE2E, BuildOutputThatIsNotUtf8FailsTheBuildAndLeavesTheServiceUp) {
    // A pushed Dockerfile whose failing RUN line holds bytes that are not UTF-8 (issue 11: it used to kill the
    // process from the notification planner, and again at every restart).
    const auto bad =
        commit_and_push({{"Dockerfile", dockerfile("echo caf\xc3 \xff; printf 'caf\\\\303 \\\\377'; exit 3")}});
    const auto r = send_push("refs/heads/main", m_head, bad);
    ASSERT_EQ(r.status, 202) << r.body;
    const auto build = wait_terminal(build_ids(r).at(0));
    ASSERT_EQ(build["state"], "failed") << build.dump(2);
    const std::string error = build["error"];
    EXPECT_NE(error.find("exit"), std::string::npos) << error;
    ASSERT_TRUE(wait_until([&] { return with_event(m_ops_receiver, "build.failed").size() == 1; }, 30s));
    EXPECT_EQ(json::parse(with_event(m_ops_receiver, "build.failed")[0].body)["build"]["error"], error);
    ASSERT_TRUE(wait_until(
        [&] {
            for (const auto& s : m_github.requests()) {
                const auto p = json::parse(s.body, nullptr, false);
                if (p.is_object() && p["state"] == "failure") return true;
            }
            return false;
        },
        30s));
    EXPECT_EQ(api_get("/healthz").status, 200);

    // A good push still builds.
    const auto good = commit_and_push({{"Dockerfile", dockerfile("echo fixed > /version")}});
    const auto r2 = send_push("refs/heads/main", bad, good);
    ASSERT_EQ(r2.status, 202) << r2.body;
    EXPECT_EQ(wait_terminal(build_ids(r2).at(0))["state"], "succeeded");
}

TEST_F(PipelineE2E, NotificationsPendingAtAKillAreDeliveredAfterRestart) {
    m_ops_receiver.set_default_status(500);
    const auto r = send_push("refs/heads/main", std::string(40, '0'), m_head);
    ASSERT_EQ(r.status, 202);
    ASSERT_EQ(wait_terminal(build_ids(r).at(0))["state"], "succeeded");
    ASSERT_TRUE(wait_until([&] { return !with_event(m_ops_receiver, "build.succeeded").empty(); }, 30s));
    kill_hookyard();
    m_ops_receiver.set_default_status(200);
    const auto before = m_ops_receiver.count();
    start_hookyard();
    ASSERT_TRUE(wait_until([&] { return m_ops_receiver.count() > before + 2; }, 60s));
    // The receiver counts a request before hookyard has read its answer and recorded the delivery: poll.
    json n;
    const bool delivered = wait_until(
        [&] {
            n = api_get("/api/v1/builds/" + std::to_string(build_ids(r).at(0)) + "/notifications").json();
            int ops_delivered = 0;
            for (const auto& item : n.value("notifications", json::array())) {
                if (item["target"] == "ops" && item["state"] == "delivered") ++ops_delivered;
            }
            return ops_delivered >= 3;
        },
        30s);
    EXPECT_TRUE(delivered) << "three ops notifications delivered after the restart\n" << n.dump(2);
}

}  // namespace
}  // namespace hookyard::test
