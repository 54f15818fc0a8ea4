// The test stage inside the stage runner, with real buildah, our push client and a real docker-registry: a
// passing docker-compose.test.yml lets the image be pushed, a failing one fails the build with the test's
// output in the log and nothing in the registry. The checkout and the store are the in-memory fakes.

#include <gtest/gtest.h>

#include <filesystem>

#include "config/loader.hpp"
#include "pipeline/executor/buildah_executor.hpp"
#include "pipeline/registry_pusher.hpp"
#include "pipeline/stage_runner.hpp"
#include "tests/support/fake_checkout.hpp"
#include "tests/support/fake_store.hpp"
#include "tests/support/registry_server.hpp"
#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

using storage::BuildState;

class TestStageBuild : public ::testing::Test {
protected:
    void SetUp() override {
        if (!test::have_program("buildah") || !std::filesystem::exists("/bin/busybox")) {
            GTEST_SKIP() << "needs buildah and busybox-static (scripts/setup installs them)";
        }
        m_registry = std::make_unique<test::RegistryServer>();
        const std::string yaml =
            "server: { webhook_secret: test-stage-test-0123456789 }\ndata_dir: " + (m_dir / "data") +
            "\nregistries:\n  local: { endpoint: \"" + m_registry->url() +
            "\" }\nrepositories:\n  - { github: acme/app, registry: local, push_repo: " + m_registry->host() +
            "/acme/app, clone_url: 'https://example.invalid/acme/app.git',\n"
            "      rules: [{ source: main, tag: latest }] }\n";
        auto loaded = config::load_config_text(yaml, "test.yaml", [](const std::string&) { return std::nullopt; });
        ASSERT_TRUE(loaded.config.has_value()) << (loaded.diagnostics.empty() ? "" : loaded.diagnostics[0].message);
        m_config = std::move(*loaded.config);
        m_options.root = m_dir / "storage";
        m_options.runroot = m_dir / "run";
        m_executor = make_buildah_executor(m_options);
    }

    void TearDown() override {
        test::sh("buildah --root '" + m_options.root + "' --runroot '" + m_options.runroot +
                 "' rmi --all --force >/dev/null 2>&1");
    }

    // Runs a build of a FROM scratch + busybox image whose test file's sut runs `sut_command`.
    storage::Build run(const std::string& sut_command) {
        const std::string dockerfile =
            "FROM scratch\nCOPY --chmod=0755 busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", "
            "\"-s\", \"/bin\"]\nCMD [\"/bin/sh\"]\n";
        test::FakeCheckout checkout(
            {{"Dockerfile", dockerfile},
             {"busybox", test::read_file("/bin/busybox")},
             {"docker-compose.test.yml", "services:\n  sut:\n    build: .\n    command: " + sut_command + "\n"}});
        RegistryPusher pusher;
        StageRunner runner(m_config, *m_store, checkout, *m_executor, pusher);
        storage::NewBuild b;
        b.repository = "acme/app";
        b.ref = "refs/heads/main";
        b.image = m_registry->host() + "/acme/app";
        b.tags = {"latest"};
        b.context = "/";
        b.dockerfile = "Dockerfile";
        auto inserted = m_store->insert_builds({b});
        EXPECT_TRUE(inserted.ok());
        const auto build = *m_store->claim(inserted->at(0).id);
        CancelToken token;
        m_outcome = runner.run(build, token);
        return *m_store->get_build(build.id);
    }

    std::string log_of(const storage::Build& build) {
        auto chunk = m_store->read_log(build.id, 0, 1 << 20);
        return chunk ? chunk->data : chunk.error().message;
    }

    int skopeo_inspect(std::string& out) {
        return test::sh("skopeo inspect --tls-verify=false docker://" + m_registry->host() + "/acme/app:latest 2>&1",
                        &out);
    }

    std::vector<std::string> stage_names(const storage::Build& b) {
        std::vector<std::string> out;
        for (const auto& s : b.stages) out.push_back(s.name + (s.state == BuildState::succeeded ? "" : "!"));
        return out;
    }

    test::TempDir m_dir;
    std::unique_ptr<test::RegistryServer> m_registry;
    config::Config m_config;
    BuildahOptions m_options;
    std::unique_ptr<Executor> m_executor;
    std::unique_ptr<storage::Store> m_store = test::make_fake_store();
    RunOutcome m_outcome;
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
