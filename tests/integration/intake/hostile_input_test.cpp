// Hostile requests against the real `hookyard serve` binary: each gets its answer, and afterwards the
// process is alive, /healthz answers and a good signed push is still accepted.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/intake/serve_binary.hpp"
#include "util/signature.hpp"

using namespace hookyard;

namespace {

constexpr const char* k_trigger_token = "trigger-token-for-hostile-tests";

class HostileInput : public test::ServeBinary {
protected:
    void SetUp() override {
        write_config(std::string("    trigger_token: ") + k_trigger_token + "\n");
        m_serve = start();
    }

    // The process survived, answers /healthz, and a good signed push is still queued.
    void expect_still_serving() {
        ASSERT_TRUE(m_serve->running()) << m_serve->log();
        EXPECT_EQ(test::http_request(m_port, "GET", "/healthz").status, 200) << m_serve->log();
        auto good =
            test::post_github(m_port, test::k_secret, "push", "good-" + std::to_string(++m_good), test::k_sample_push);
        EXPECT_EQ(good.status, 202) << good.body;
    }

    test::Reply trigger(const std::string& body) {
        return test::http_request(m_port, "POST", std::string("/api/v1/trigger/") + k_trigger_token,
                                  {{"Content-Type", "application/json"}}, body);
    }

    std::unique_ptr<test::Process> m_serve;
    int m_good = 0;
};

}  // namespace

TEST_F(HostileInput, TriggerWithANumericSourceTypeIs400) {
    auto r = trigger(R"({"source_name":"main","source_type":1})");
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.body.find("source_type"), std::string::npos) << r.body;
    expect_still_serving();
}

TEST_F(HostileInput, DockerHubCallbackWithANullStateIs400) {
    auto queued = test::post_github(m_port, test::k_secret, "push", "for-callback", test::k_sample_push);
    ASSERT_EQ(queued.status, 202) << queued.body;
    const auto id = nlohmann::json::parse(queued.body)["builds"][0].get<std::int64_t>();
    const std::string target = "/api/v1/callbacks/" + std::to_string(id) + "/" +
                               util::callback_token(test::k_secret, static_cast<storage::BuildId>(id));
    auto r = test::http_request(m_port, "POST", target, {{"Content-Type", "application/json"}}, R"({"state":null})");
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.body.find("state"), std::string::npos) << r.body;
    expect_still_serving();
}

TEST_F(HostileInput, ProjectsV2EventsAreAcknowledged) {
    for (const char* event : {"projects_v2_item", "projects_v2", "projects_v2_status_update"}) {
        auto r =
            test::post_github(m_port, test::k_secret, event, std::string("pv2-") + event, R"({"action":"edited"})");
        EXPECT_EQ(r.status, 200) << event << ": " << r.body;
        EXPECT_NE(r.body.find("ignored"), std::string::npos) << r.body;
    }
    expect_still_serving();
}

TEST_F(HostileInput, AfterThatIsNotACommitIdIs400) {
    auto push = nlohmann::json::parse(test::k_sample_push);
    push["after"] = "../../../../user/repos";
    auto r = test::post_github(m_port, test::k_secret, "push", "after-path", push.dump());
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.body.find("after"), std::string::npos) << r.body;
    expect_still_serving();
}

TEST_F(HostileInput, RefsOver255BytesAreIgnoredOnTheHookAnd400OnTheTrigger) {
    auto push = nlohmann::json::parse(test::k_sample_push);
    push["ref"] = "refs/heads/" + std::string(300, 'a');
    auto hook = test::post_github(m_port, test::k_secret, "push", "long-ref", push.dump());
    EXPECT_EQ(hook.status, 200) << hook.body;
    EXPECT_NE(hook.body.find("ignored"), std::string::npos) << hook.body;
    auto t = trigger(R"({"source_type":"Branch","source_name":")" + std::string(300, 'a') + "\"}");
    EXPECT_EQ(t.status, 400) << t.body;
    expect_still_serving();
}

TEST_F(HostileInput, DataFilesAreOwnerOnlyAndSigpipeIsIgnored) {
    struct stat db {};
    ASSERT_EQ(::stat((m_dir.path() + "/data/hookyard.db").c_str(), &db), 0);
    EXPECT_EQ(db.st_mode & 077, 0u) << std::oct << db.st_mode;
    struct stat dir {};
    ASSERT_EQ(::stat((m_dir.path() + "/data").c_str(), &dir), 0);
    EXPECT_EQ(dir.st_mode & 077, 0u) << std::oct << dir.st_mode;
    // SigIgn in /proc/PID/status is a hex mask; SIGPIPE is bit 13 - 1.
    std::ifstream status("/proc/" + std::to_string(m_serve->pid()) + "/status");
    std::string line;
    unsigned long long ignored = 0;
    while (std::getline(status, line)) {
        if (line.rfind("SigIgn:", 0) == 0) ignored = std::stoull(line.substr(7), nullptr, 16);
    }
    EXPECT_NE(ignored & (1ull << (SIGPIPE - 1)), 0u) << "SIGPIPE is not ignored";
    expect_still_serving();
}
