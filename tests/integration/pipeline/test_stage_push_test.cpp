// The test stage inside the stage runner, with real buildah, our push client and a real docker-registry: a
// passing docker-compose.test.yml lets the image be pushed, a failing one fails the build with the test's
// output in the log and nothing in the registry. The checkout and the store are the in-memory fakes.

#include <gtest/gtest.h>

#include <filesystem>

#include "config/loader.hpp"
#include "pipeline/registry_pusher.hpp"
#include "pipeline/stage_runner.hpp"
#include "tests/integration/executor/build_fixture.hpp"
#include "tests/support/fake_checkout.hpp"
#include "tests/support/fake_store.hpp"
#include "tests/support/registry_server.hpp"
#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

using storage::BuildState;

// The config of one repository acme/app pushing to `registry`, its work under `data_dir`.
config::Config one_repository(const test::RegistryServer& registry, const std::string& data_dir) {
    std::string yaml = R"(server: { webhook_secret: test-stage-test-0123456789 }
data_dir: DATA
registries: { local: { endpoint: "URL" } }
repositories:
  - github: acme/app
    registry: local
    push_repo: HOST/acme/app
    clone_url: https://example.invalid/acme/app.git
    rules: [{ source: main, tag: latest }]
)";
    for (const auto& [from, to] :
         {std::pair<std::string, std::string>{"DATA", data_dir}, {"URL", registry.url()}, {"HOST", registry.host()}}) {
        yaml.replace(yaml.find(from), from.size(), to);
    }
    auto loaded = config::load_config_text(yaml, "test.yaml", [](const std::string&) { return std::nullopt; });
    EXPECT_TRUE(loaded.config.has_value()) << (loaded.diagnostics.empty() ? "" : loaded.diagnostics[0].message);
    return loaded.config ? *loaded.config : config::Config{};
}

// Real buildah on a storage of the test's own (ExecutorTest), a real registry, the fake checkout and store.
class TestStageBuild : public test_fixture::ExecutorTest {
protected:
    // Runs a build of a FROM scratch + busybox image whose test file's sut runs `sut_command`.
    storage::Build run(const std::string& sut_command) {
        test::FakeCheckout checkout(
            {{"Dockerfile",
              "FROM scratch\nCOPY --chmod=0755 busybox /bin/busybox\nRUN [\"/bin/busybox\", "
              "\"--install\", \"-s\", \"/bin\"]\nCMD [\"/bin/sh\"]\n"},
             {"busybox", test::read_file("/bin/busybox")},
             {"docker-compose.test.yml", "services:\n  sut:\n    build: .\n    command: " + sut_command + "\n"}});
        RegistryPusher pusher;
        StageRunner runner(m_config, *m_store, checkout, *m_executor, pusher);
        storage::NewBuild wanted;  // context and Dockerfile: the defaults (the checkout's root, Dockerfile)
        wanted.repository = "acme/app";
        wanted.ref = "refs/heads/main";
        wanted.image = m_registry.host() + "/acme/app";
        wanted.tags = {"latest"};
        auto inserted = m_store->insert_builds({wanted});
        EXPECT_TRUE(inserted.ok());
        const auto claimed = *m_store->claim(inserted->at(0).id);
        CancelToken token;
        m_outcome = runner.run(claimed, token);
        return *m_store->get_build(claimed.id);
    }

    std::string log_of(const storage::Build& build) {
        auto chunk = m_store->read_log(build.id, 0, 1 << 20);
        return chunk ? chunk->data : chunk.error().message;
    }

    int skopeo_inspect(std::string& out) {
        return test::sh("skopeo inspect --tls-verify=false docker://" + m_registry.host() + "/acme/app:latest 2>&1",
                        &out);
    }

    // The stages in order, a failed one marked with "!".
    std::vector<std::string> stage_names(const storage::Build& b) {
        std::vector<std::string> out;
        for (const auto& s : b.stages) out.push_back(s.name + (s.state == BuildState::succeeded ? "" : "!"));
        return out;
    }

    RunOutcome m_outcome;
    test::RegistryServer m_registry;
    std::unique_ptr<storage::Store> m_store = test::make_fake_store();
    config::Config m_config = one_repository(m_registry, m_dir / "data");
};

TEST_F(TestStageBuild, PassingSutLetsTheImageBePushed) {
    const auto build = run("sh -c 'echo sut-ran-in-$$(cat /proc/1/comm)'");
    ASSERT_EQ(m_outcome.state, BuildState::succeeded) << m_outcome.error << "\n" << log_of(build);
    EXPECT_EQ(stage_names(build), (std::vector<std::string>{"checkout", "locate", "build", "test", "push"}));
    EXPECT_NE(log_of(build).find("sut | sut-ran-in-"), std::string::npos) << log_of(build);
    std::string out;
    EXPECT_EQ(skopeo_inspect(out), 0) << out;
}

TEST_F(TestStageBuild, FailingSutFailsTheBuildAndPushesNothing) {
    const auto build = run("sh -c 'echo the-test-says-no; exit 1'");
    EXPECT_EQ(m_outcome.state, BuildState::failed);
    EXPECT_EQ(m_outcome.error.rfind("test: docker-compose.test.yml: sut failed with exit code 1", 0), 0u)
        << m_outcome.error;
    EXPECT_NE(m_outcome.error.find("the-test-says-no"), std::string::npos) << m_outcome.error;
    EXPECT_EQ(stage_names(build), (std::vector<std::string>{"checkout", "locate", "build", "test!"}));
    EXPECT_NE(log_of(build).find("sut | the-test-says-no"), std::string::npos) << log_of(build);
    std::string out;
    EXPECT_NE(skopeo_inspect(out), 0) << "nothing may be pushed: " << out;
    EXPECT_NE(out.find("manifest unknown"), std::string::npos) << out;
}

}  // namespace
}  // namespace hookyard::pipeline
