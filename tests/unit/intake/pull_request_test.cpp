// pull_request deliveries: every example of @octokit/webhooks-examples (as sent, and as if from a fork or a
// deleted fork) planned under each autotest setting, and through the handler: opened queues a build of
// refs/pull/N/head, synchronize supersedes nothing by itself, closed cancels what the pull request queued.

#include "webhook/intake/pull_request.hpp"

#include <filesystem>
#include <fstream>

#include "tests/unit/intake/intake_fixture.hpp"
#include "util/signature.hpp"
#include "webhook/intake/github_handler.hpp"

using namespace hookyard;

namespace {

const std::string k_pr_examples = "/tests/fixtures/npm/node_modules/@octokit/webhooks-examples";

// Every pull_request example of every flavour (api.github.com, ghes-3x), named by flavour and position.
std::vector<std::pair<std::string, nlohmann::json>> pull_request_examples() {
    std::vector<std::pair<std::string, nlohmann::json>> out;
    for (const auto& dir : std::filesystem::directory_iterator(test::source_dir() + k_pr_examples)) {
        std::ifstream in(dir.path() / "index.json");
        if (!dir.is_directory() || !in) continue;
        for (const auto& ev : nlohmann::json::parse(in)) {
            if (ev["name"] != "pull_request") continue;
            int n = 0;
            for (const auto& ex : ev["examples"]) {
                out.emplace_back(dir.path().filename().string() + "#" + std::to_string(n++), ex);
            }
        }
    }
    return out;
}

// The examples' repository, with clone_url set so that every flavour's host is accepted.
config::Config pr_config(const std::string& autotest, const std::string& push_tag = "") {
    const std::string text =
        "server: { webhook_secret: s3cret }\n"
        "registries: { local: { endpoint: 'http://127.0.0.1:5000' } }\n"
        "repositories:\n"
        "  - github: Codertocat/Hello-World\n"
        "    registry: local\n"
        "    push_repo: 127.0.0.1:5000/hello\n"
        "    clone_url: https://git.example.com/hello.git\n"
        "    autotest: " +
        autotest + "\n" + (push_tag.empty() ? "" : "    pull_requests: { push_tag: '" + push_tag + "' }\n") +
        "    rules:\n"
        "      - { source: master, tag: 'latest,{sha:7}', build_args: { TOKEN: secret-value } }\n"
        "      - { source: release, tag: release }\n";
    auto out =
        config::load_config_text(text, "pr.yaml", [](const std::string&) { return std::optional<std::string>(); });
    if (!out.config) throw std::runtime_error(out.diagnostics.at(0).str());
    return *out.config;
}

intake::PushEvent parsed(const nlohmann::json& example) {
    auto ev = intake::parse_payload("application/json", example.dump());
    EXPECT_TRUE(ev.ok());
    return ev ? *ev : intake::PushEvent{};
}

// Checks the plan of one example under one setting against what Docker Hub's Autotest would do.
void expect_planned_right(const nlohmann::json& ex, const std::string& autotest, const std::string& origin) {
    SCOPED_TRACE(autotest + ", " + origin);
    const auto config = pr_config(autotest);
    const auto plan = intake::plan_pull_request(config, parsed(ex));
    const std::string action = ex["action"];
    const bool fork = origin != "same repository";
    EXPECT_TRUE(plan.rejected.empty()) << plan.rejected;
    if (action == "closed") {
        EXPECT_TRUE(plan.close);
        return;
    }
    const bool builds = (action == "opened" || action == "synchronize" || action == "reopened") && autotest != "off" &&
                        (autotest == "external" || !fork);
    ASSERT_EQ(plan.builds.size(), builds ? 1u : 0u) << plan.ignored;
    if (!builds) {
        EXPECT_FALSE(plan.ignored.empty());
        return;
    }
    const auto& b = plan.builds[0];
    const std::string sha = ex["pull_request"]["head"]["sha"];
    EXPECT_EQ(b.ref, "refs/pull/" + std::to_string(ex["number"].get<int>()) + "/head");
    EXPECT_EQ(b.commit, sha);
    EXPECT_EQ(b.rule, 0u) << "the base branch's rule";
    EXPECT_EQ(b.tags, (std::vector<std::string>{"latest", sha.substr(0, 7)}));
    EXPECT_FALSE(b.push);
    EXPECT_EQ(b.pull_request, ex["number"].get<int>());
    EXPECT_EQ(b.pull_request_external, fork);
    EXPECT_EQ(b.build_args.count("TOKEN"), fork ? 0u : 1u) << "a fork never gets the configured build args";
    EXPECT_EQ(b.trigger_type, "pull_request");
    EXPECT_EQ(b.clone_url, "https://git.example.com/hello.git");
}

TEST(PullRequestExamples, EveryExampleIsPlannedRightPerAutotestAndOrigin) {
    const auto examples = pull_request_examples();
    ASSERT_GE(examples.size(), 20u) << "run scripts/fixtures";
    for (const auto& [name, example] : examples) {
        SCOPED_TRACE(name);
        auto fork = example;
        fork["pull_request"]["head"]["repo"]["full_name"] = "forker/Hello-World";
        auto deleted_fork = example;
        deleted_fork["pull_request"]["head"]["repo"] = nullptr;
        for (const char* autotest : {"off", "internal", "external"}) {
            expect_planned_right(example, autotest, "same repository");
            expect_planned_right(fork, autotest, "fork");
            expect_planned_right(deleted_fork, autotest, "deleted fork");
        }
    }
}

TEST(PullRequestExamples, PushTagPushesOnlyTheRepositorysOwnPullRequests) {
    const auto examples = pull_request_examples();
    ASSERT_FALSE(examples.empty());
    auto opened = examples[0].second;
    opened["action"] = "opened";
    const auto config = pr_config("external", "pr-{pr}");
    auto own = intake::plan_pull_request(config, parsed(opened));
    ASSERT_EQ(own.builds.size(), 1u) << own.ignored;
    EXPECT_TRUE(own.builds[0].push);
    EXPECT_EQ(own.builds[0].tags, std::vector<std::string>{"pr-" + std::to_string(opened["number"].get<int>())});
    opened["pull_request"]["head"]["repo"]["full_name"] = "forker/Hello-World";
    auto fork = intake::plan_pull_request(config, parsed(opened));
    ASSERT_EQ(fork.builds.size(), 1u);
    EXPECT_FALSE(fork.builds[0].push) << "a fork's pull request never pushes";
}

TEST(PullRequestExamples, APullRequestIntoABranchNoRuleBuildsIsIgnored) {
    auto ex = pull_request_examples().at(0).second;
    ex["action"] = "opened";
    ex["pull_request"]["base"]["ref"] = "feature";
    const auto plan = intake::plan_pull_request(pr_config("external"), parsed(ex));
    EXPECT_TRUE(plan.builds.empty());
    EXPECT_NE(plan.ignored.find("no rule matches branch 'feature'"), std::string::npos) << plan.ignored;
}

class PullRequestHandlerTest : public test::IntakeTest {
protected:
    PullRequestHandlerTest() {
        m_config = pr_config("internal");
        m_handler.emplace(m_config, *m_store, nullptr, [this] { ++m_queued; });
        m_handler->add_routes(m_table);
    }

    http::ServerResponse deliver(const std::string& delivery, const nlohmann::json& body) {
        http::ServerRequest r{"POST", "/hooks/github", {}, body.dump()};
        r.headers["x-github-event"] = "pull_request";
        r.headers["x-github-delivery"] = delivery;
        r.headers["content-type"] = "application/json";
        r.headers["x-hub-signature-256"] = "sha256=" + util::hmac_sha256_hex("s3cret", r.body);
        return call(std::move(r));
    }

    std::optional<intake::GithubHandler> m_handler;
};

TEST_F(PullRequestHandlerTest, OpenedQueuesAndClosedCancelsThePullRequestsBuilds) {
    auto ex = pull_request_examples().at(0).second;
    ex["action"] = "opened";
    auto opened = deliver("d-open", ex);
    ASSERT_EQ(opened.status, 202u) << opened.body;
    const auto id = json(opened)["builds"].at(0).get<storage::BuildId>();
    auto build = m_store->get_build(id);
    ASSERT_TRUE(build.ok());
    EXPECT_EQ(build->ref, "refs/pull/2/head");
    EXPECT_EQ(build->pull_request, 2);
    EXPECT_EQ(build->state, storage::BuildState::queued);

    ex["action"] = "closed";
    auto closed = deliver("d-close", ex);
    ASSERT_EQ(closed.status, 200u) << closed.body;
    EXPECT_EQ(json(closed)["canceled"], nlohmann::json::array({id}));
    EXPECT_EQ(m_store->get_build(id)->state, storage::BuildState::canceled);

    ex["action"] = "labeled";
    auto labeled = deliver("d-label", ex);
    EXPECT_EQ(labeled.status, 200u);
    EXPECT_TRUE(json(labeled)["ignored"].get<bool>());
}

}  // namespace
