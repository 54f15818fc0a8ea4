// What a build leaves in buildah's storage and the data dir, through the real service: after the push
// (succeeded or failed) the final image and the OCI layout are gone, while the layer cache stays usable.

#include <signal.h>

#include <filesystem>
#include <random>
#include <regex>

#include "tests/integration/e2e/e2e_fixture.hpp"

namespace hookyard::test {
namespace {

using namespace std::chrono_literals;

// Where the build said it put its image: "hookyard: built <id> into oci:<layout>:<ref> in N ms".
struct BuiltImage {
    std::string id;
    std::string layout;
};

class ImageCleanupE2E : public PipelineE2E {
protected:
    std::string log_of(long long id) { return api_get("/api/v1/builds/" + std::to_string(id) + "/log").body; }

    BuiltImage built_image(long long id) {
        std::smatch m;
        const std::string log = log_of(id);
        if (!std::regex_search(log, m, std::regex("hookyard: built (sha256:[0-9a-f]{64}) into oci:([^:]+):"))) {
            ADD_FAILURE() << "no 'built' line in the log of build " << id << ":\n" << log;
            return {};
        }
        return {m[1], m[2]};
    }

    // True while buildah's storage (the machine's default, as serve uses it) still has image `id`.
    static bool buildah_has(const std::string& id) {
        return sh("buildah inspect --type image '" + id + "' >/dev/null 2>&1") == 0;
    }

    // A RUN step no other test (or earlier run) has cached.
    static std::string unique_step() {
        std::random_device rd;
        return "echo cleanup-" + std::to_string(rd()) + std::to_string(rd()) + " > /version";
    }

    // Restarts the service with a repository acme/denied whose registry entry has a wrong password.
    void add_denied_repository() {
        std::string config = read_file(m_config);
        config.replace(config.find("registries:\n") + 12, 0,
                       "  denied: { endpoint: '" + m_registry->url() + "', username: " + m_registry->username() +
                           ", password: 'not-the-password' }\n");
        config.replace(config.find("repositories:\n") + 14, 0,
                       "  - github: acme/denied\n"
                       "    registry: denied\n"
                       "    push_repo: " +
                           m_registry->host() + "/acme/denied\n    clone_url: " + m_git->url("app.git") +
                           "\n    rules:\n      - { source_type: branch, source: main, tag: latest }\n");
        write_file(m_config, config);
        m_hookyard->signal(SIGTERM);
        ASSERT_EQ(m_hookyard->wait(20s), 0);
        // start_hookyard() allows 30 s; a second start-up on a loaded host (sandbox probes) can take longer.
        m_hookyard =
            std::make_unique<Process>(std::vector<std::string>{binary_dir() + "/hookyard", "serve", "-c", m_config},
                                      m_dir / "hookyard-denied.log");
        ASSERT_TRUE(wait_until([&] { return port_open(m_port) && api_get("/healthz").status == 200; }, 120s))
            << m_hookyard->log();
    }
};

// A final image goes once no build stage runs on the same buildah storage, in this serve or any other
// process (other tests build in parallel under ctest -j2): hence the generous waits for its removal.
constexpr auto k_removal_wait = 180s;

TEST_F(ImageCleanupE2E, APushedBuildLeavesNoFinalImageNorLayoutAndItsLayerCacheStays) {
    const auto sha = commit_and_push({{"Dockerfile", dockerfile(unique_step())}});
    const auto accepted = send_push("refs/heads/main", m_head, sha);
    ASSERT_EQ(accepted.status, 202) << accepted.body;
    const auto id = build_ids(accepted).at(0);
    ASSERT_EQ(wait_terminal(id)["state"], "succeeded");
    const auto built = built_image(id);
    ASSERT_FALSE(built.id.empty());
    EXPECT_TRUE(wait_until([&] { return !buildah_has(built.id); }, k_removal_wait))
        << built.id << " is still in buildah's storage";
    EXPECT_FALSE(std::filesystem::exists(built.layout)) << built.layout;

    // The same commit again: the RUN step (the last one with a layer) comes from the cache that stayed.
    const auto retried = request("POST", "/api/v1/builds/" + std::to_string(id) + "/retry", "",
                                 {std::string("Authorization: Bearer ") + k_token});
    ASSERT_EQ(retried.status, 201) << retried.body;
    const auto again = retried.json()["id"].get<long long>();
    ASSERT_EQ(wait_terminal(again)["state"], "succeeded");
    const std::string log = log_of(again);
    // Step 3 of 4 or more: each provenance label (pipeline/reuse.hpp) is a LABEL step after the Dockerfile's.
    EXPECT_TRUE(std::regex_search(log, std::regex("STEP 3/[0-9]+: RUN[^\n]*\n--> Using cache"))) << log;
    const auto rebuilt = built_image(again);
    EXPECT_TRUE(wait_until([&] { return !buildah_has(rebuilt.id); }, k_removal_wait)) << rebuilt.id;
}

TEST_F(ImageCleanupE2E, AFailedPushLeavesNoFinalImageAndNoLayoutInTheKeptWorkDir) {
    add_denied_repository();
    const auto sha = commit_and_push({{"Dockerfile", dockerfile(unique_step())}});
    const auto accepted = send_push("refs/heads/main", m_head, sha, {"Dockerfile"}, "change", "acme/denied");
    ASSERT_EQ(accepted.status, 202) << accepted.body;
    const auto id = build_ids(accepted).at(0);
    const auto build = wait_terminal(id);
    ASSERT_EQ(build["state"], "failed") << build.dump(2);
    EXPECT_EQ(build["error"].get<std::string>().rfind("push", 0), 0u) << build.dump(2);
    const auto built = built_image(id);
    ASSERT_FALSE(built.id.empty());
    EXPECT_TRUE(wait_until([&] { return !buildah_has(built.id); }, k_removal_wait))
        << built.id << " is still in buildah's storage";
    // builder.keep_failed_workdirs keeps the checkout for inspection, not the image's layers.
    const auto kept = m_dir / ("data/kept/" + std::to_string(id));
    EXPECT_TRUE(std::filesystem::exists(kept + "/src/Dockerfile"));
    EXPECT_FALSE(std::filesystem::exists(kept + "/layout"));
    EXPECT_FALSE(std::filesystem::exists(built.layout)) << built.layout;
}

}  // namespace
}  // namespace hookyard::test
