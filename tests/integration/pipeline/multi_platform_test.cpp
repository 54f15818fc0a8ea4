// Multi-platform builds end to end inside the stage runner, with real buildah (linux/arm64 RUN steps under
// QEMU user emulation), our push client and a real docker-registry, cross-checked with skopeo. The checkout
// and the store are the in-memory fakes. Needs scripts/setup (qemu-user-static, binfmt handlers) and
// scripts/fixtures (busybox-static per platform): without them these tests fail, they never skip.

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "config/loader.hpp"
#include "pipeline/executor/buildah_executor.hpp"
#include "pipeline/executor/containment.hpp"
#include "pipeline/registry_pusher.hpp"
#include "pipeline/stage_runner.hpp"
#include "storage/build_json.hpp"
#include "tests/support/fake_checkout.hpp"
#include "tests/support/fake_store.hpp"
#include "tests/support/registry_server.hpp"
#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

namespace fs = std::filesystem;
using storage::BuildState;

// The cross-compile pattern: a first stage on the build platform (FROM --platform=$BUILDPLATFORM, its
// busybox chosen by BUILDARCH) runs natively and knows TARGETARCH; the final stage is FROM scratch with the
// target platform's busybox (chosen by TARGETARCH), and its RUN step records the machine it ran on, which
// for linux/arm64 on the amd64 hosts these tests run on (CI) is QEMU's aarch64.
constexpr const char* k_dockerfile = R"(FROM --platform=$BUILDPLATFORM scratch AS tools
ARG BUILDARCH
ARG TARGETARCH
COPY --chmod=0755 busybox-${BUILDARCH} /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "echo built for $TARGETARCH on $(/bin/busybox uname -m) > /cross"]
FROM scratch
ARG TARGETARCH
ARG TARGETPLATFORM
ARG BUILDPLATFORM
COPY --from=tools /cross /cross
COPY --chmod=0755 busybox-${TARGETARCH} /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox uname -m > /arch; echo \"$TARGETPLATFORM on $BUILDPLATFORM\" > /platform"]
)";

std::string fixture_busybox(const std::string& arch) {
    return test::source_dir() + "/tests/fixtures/busybox/" + arch + "/busybox";
}

class MultiPlatformBuild : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* arch : {"amd64", "arm64"}) {
            ASSERT_TRUE(fs::exists(fixture_busybox(arch)))
                << fixture_busybox(arch) << " is missing: run scripts/fixtures";
        }
        ASSERT_EQ(test::read_file("/proc/sys/fs/binfmt_misc/qemu-aarch64").rfind("enabled", 0), 0u)
            << "no enabled QEMU handler for arm64: run scripts/setup (qemu-user-static, binfmt-support)";
        m_registry = std::make_unique<test::RegistryServer>();
        // The rule's platforms come through the loader, as an operator writes them.
        const std::string yaml =
            "server: { webhook_secret: multi-platform-test-0123456789 }\ndata_dir: " + (m_dir / "data") +
            "\nregistries:\n  local: { endpoint: \"" + m_registry->url() +
            "\" }\n"
            "repositories:\n"
            "  - { github: acme/app, registry: local, push_repo: " +
            m_registry->host() +
            "/acme/app, clone_url: 'https://example.invalid/acme/app.git',\n"
            "      rules: [{ source: main, tag: latest, platforms: [linux/amd64, linux/arm64] }] }\n";
        auto loaded = config::load_config_text(yaml, "multi.yaml", [](const std::string&) { return std::nullopt; });
        ASSERT_TRUE(loaded.config.has_value()) << (loaded.diagnostics.empty() ? "" : loaded.diagnostics[0].message);
        m_config = std::move(*loaded.config);
        m_options.root = m_dir / "storage";
        m_options.runroot = m_dir / "run";
        // As `serve` runs builds: each in a containment scope, whose children's ends kill what is left in it.
        m_options.containment = ProcessContainment::make({m_dir / "data", ""});
        m_executor = make_buildah_executor(m_options);
    }

    void TearDown() override { test::sh(buildah_cli() + " rmi --all --force >/dev/null 2>&1"); }

    std::string buildah_cli() const {
        return "buildah --root '" + m_options.root + "' --runroot '" + m_options.runroot + "'";
    }

    storage::Build claimed() {
        storage::NewBuild b;
        b.repository = "acme/app";
        b.ref = "refs/heads/main";
        b.image = m_registry->host() + "/acme/app";
        b.tags = {"latest"};
        b.context = "/";
        b.dockerfile = "Dockerfile";
        auto inserted = m_store->insert_builds({b});
        EXPECT_TRUE(inserted.ok());
        return *m_store->claim(inserted->at(0).id);
    }

    // Builds `dockerfile` with the busybox fixtures next to it; the stored build afterwards.
    storage::Build run(const std::string& dockerfile, PlatformSupport platforms = PlatformSupport()) {
        test::FakeCheckout checkout({{"Dockerfile", dockerfile},
                                     {"busybox-amd64", test::read_file(fixture_busybox("amd64"))},
                                     {"busybox-arm64", test::read_file(fixture_busybox("arm64"))}});
        RegistryPusher pusher;
        StageRunner runner(m_config, *m_store, checkout, *m_executor, pusher, nullptr, std::move(platforms));
        const auto build = claimed();
        CancelToken token;
        m_outcome = runner.run(build, token);
        return *m_store->get_build(build.id);
    }

    // skopeo inspect of acme/app:latest with `flags`; the output (JSON on success).
    int skopeo(const std::string& flags, std::string& out) {
        return test::sh(
            "skopeo inspect --tls-verify=false " + flags + " docker://" + m_registry->host() + "/acme/app:latest 2>&1",
            &out);
    }

    // The file `path` in the `arch` image's layers, as pulled from the registry.
    std::string file_in_image(const std::string& arch, const std::string& path) {
        const std::string dir = m_dir / ("pulled-" + arch);
        std::string out;
        EXPECT_EQ(test::sh("skopeo copy --src-tls-verify=false --override-arch " + arch + " docker://" +
                               m_registry->host() + "/acme/app:latest dir:" + dir + " 2>&1",
                           &out),
                  0)
            << out;
        test::sh("cd '" + dir + "' && for f in *; do tar -xzf \"$f\" -O " + path + " 2>/dev/null; done", &out);
        return out;
    }

    std::string log_of(const storage::Build& b) {
        auto chunk = m_store->read_log(b.id, 0, 1 << 24);
        return chunk ? chunk->data : chunk.error().message;
    }

    const storage::Stage* stage_named(const storage::Build& b, const std::string& name) {
        for (const auto& s : b.stages) {
            if (s.name == name) return &s;
        }
        return nullptr;
    }

    std::vector<std::pair<std::string, BuildState>> stages(const storage::Build& b) {
        std::vector<std::pair<std::string, BuildState>> out;
        for (const auto& s : b.stages) out.emplace_back(s.name, s.state);
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

TEST_F(MultiPlatformBuild, TwoPlatformRulePushesAnIndexOfBothWithArm64BuiltUnderEmulation) {
    // arm64 ends a few seconds after amd64: amd64's image is exported while buildah still builds arm64.
    const auto build = run(std::string(k_dockerfile) +
                           "RUN [\"/bin/busybox\", \"sh\", \"-c\", \"[ $(/bin/busybox uname -m) = x86_64 ] || "
                           "/bin/busybox sleep 3\"]\n");
    ASSERT_EQ(m_outcome.state, BuildState::succeeded) << m_outcome.error;
    const std::vector<std::pair<std::string, BuildState>> expected = {{"checkout", BuildState::succeeded},
                                                                      {"locate", BuildState::succeeded},
                                                                      {"build linux/amd64", BuildState::succeeded},
                                                                      {"build linux/arm64", BuildState::succeeded},
                                                                      {"push", BuildState::succeeded}};
    auto got = stages(build);
    std::sort(got.begin() + 2, got.end() - 1);  // the two platforms' stages start in either order
    EXPECT_EQ(got, expected);

    std::string raw;
    ASSERT_EQ(skopeo("--raw", raw), 0) << raw;
    const auto index = nlohmann::json::parse(raw, nullptr, false);
    ASSERT_FALSE(index.is_discarded()) << raw;
    EXPECT_EQ(index.value("mediaType", ""), "application/vnd.oci.image.index.v1+json");
    ASSERT_EQ(index["manifests"].size(), 2u) << raw;
    EXPECT_EQ(index["manifests"][0]["platform"]["architecture"], "amd64");
    EXPECT_EQ(index["manifests"][1]["platform"]["architecture"], "arm64");
    std::string digest;
    test::sh("skopeo inspect --tls-verify=false --raw docker://" + m_registry->host() + "/acme/app:latest | sha256sum",
             &digest);
    EXPECT_EQ(m_outcome.digest, "sha256:" + digest.substr(0, 64)) << "the build's digest is the index's";

    std::string arm;
    ASSERT_EQ(skopeo("--override-arch arm64", arm), 0) << arm;
    const auto arm_config = nlohmann::json::parse(arm, nullptr, false);
    EXPECT_EQ(arm_config.value("Architecture", ""), "arm64") << arm;
    // The provenance labels are stamped into each platform's exported image, not built as LABEL steps.
    EXPECT_TRUE(arm_config["Labels"].is_object() && arm_config["Labels"].contains("org.opencontainers.image.revision"))
        << arm;
    EXPECT_EQ(file_in_image("arm64", "arch"), "aarch64\n") << "the arm64 RUN step ran under QEMU";
    EXPECT_EQ(file_in_image("arm64", "platform"), "linux/arm64 on linux/amd64\n");
    EXPECT_EQ(file_in_image("arm64", "cross"), "built for arm64 on x86_64\n") << "FROM --platform=$BUILDPLATFORM";
    EXPECT_EQ(file_in_image("amd64", "arch"), "x86_64\n") << "the amd64 image still builds natively";

    EXPECT_NE(log_of(build).find("one buildah build for linux/amd64,linux/arm64 (--jobs 2)"), std::string::npos)
        << "one buildah process builds every platform";
    std::string names;
    test::sh(buildah_cli() + " images --format '{{.Name}}' 2>&1", &names);
    EXPECT_EQ(names.find("hookyard-platforms"), std::string::npos) << "the manifest list is removed: " << names;

    const auto json = storage::build_to_json(build);
    ASSERT_TRUE(json["platforms"].is_array()) << json.dump();
    ASSERT_EQ(json["platforms"].size(), 2u);
    EXPECT_EQ(json["platforms"][1]["platform"], "linux/arm64");
    EXPECT_EQ(json["platforms"][1]["digest"], index["manifests"][1]["digest"]);
}

TEST_F(MultiPlatformBuild, HostWithoutTheArm64HandlerFailsBeforeBuildingNamingThePackage) {
    const std::string no_handlers = m_dir / "binfmt_misc";
    fs::create_directories(no_handlers);
    const auto build = run(k_dockerfile, PlatformSupport(no_handlers));
    EXPECT_EQ(m_outcome.state, BuildState::failed);
    EXPECT_NE(m_outcome.error.find("qemu-user-static"), std::string::npos) << m_outcome.error;
    EXPECT_NE(m_outcome.error.find("linux/arm64"), std::string::npos) << m_outcome.error;
    ASSERT_FALSE(build.stages.empty());
    EXPECT_EQ(build.stages.back().name, "build linux/arm64");
    std::string images;
    test::sh(buildah_cli() + " images -q 2>&1", &images);
    EXPECT_EQ(images, "") << "nothing may be built when a platform cannot be";
    std::string out;
    EXPECT_NE(skopeo("--raw", out), 0) << out;
}

TEST_F(MultiPlatformBuild, WithTheCacheOffEachPlatformReachesItsOwnLayoutAndNoImageStays) {
    // Cache off: a single-platform build commits straight into its layout (-t oci:…); with several platforms
    // each image goes to its own layout and is then removed from buildah's storage.
    m_config.builder.cache = false;
    const auto build = run(k_dockerfile);
    ASSERT_EQ(m_outcome.state, BuildState::succeeded) << m_outcome.error;
    std::string raw;
    ASSERT_EQ(skopeo("--raw", raw), 0) << raw;
    const auto index = nlohmann::json::parse(raw, nullptr, false);
    ASSERT_FALSE(index.is_discarded()) << raw;
    ASSERT_EQ(index["manifests"].size(), 2u) << raw;
    EXPECT_NE(index["manifests"][0]["digest"], index["manifests"][1]["digest"]);
    EXPECT_EQ(file_in_image("arm64", "arch"), "aarch64\n");
    EXPECT_EQ(file_in_image("amd64", "arch"), "x86_64\n");
    std::string ids;
    test::sh(buildah_cli() + " images -q 2>&1", &ids);
    EXPECT_EQ(ids, "") << "images left in the build's storage: " << log_of(build);
}

TEST_F(MultiPlatformBuild, OnePlatformFailingFailsTheBuildAndPushesNothing) {
    const std::string dockerfile =
        std::string(k_dockerfile) +
        "RUN [\"/bin/busybox\", \"sh\", \"-c\", \"test $(/bin/busybox uname -m) != aarch64\"]\n";
    const auto build = run(dockerfile);
    EXPECT_EQ(m_outcome.state, BuildState::failed);
    EXPECT_EQ(m_outcome.error.rfind("build linux/arm64: ", 0), 0u) << m_outcome.error;
    // One buildah process builds both: amd64's stage ends with its image, arm64's with the failing step.
    const auto* arm64 = stage_named(build, "build linux/arm64");
    ASSERT_NE(arm64, nullptr);
    EXPECT_EQ(arm64->state, BuildState::failed);
    EXPECT_NE(arm64->error.find("Dockerfile:13"), std::string::npos)
        << "the failing RUN's Dockerfile line: " << arm64->error;
    for (const auto& s : build.stages) EXPECT_NE(s.name, "push");
    std::string out;
    EXPECT_NE(skopeo("--raw", out), 0) << "nothing is pushed: " << out;
}

TEST_F(MultiPlatformBuild, TimeoutStopsTheOneBuildahProcessOfEveryPlatform) {
    m_config.builder.timeout = std::chrono::seconds(8);
    m_options.kill_grace = std::chrono::milliseconds(500);
    m_executor = make_buildah_executor(m_options);
    const auto started = std::chrono::steady_clock::now();
    const auto build = run(std::string(k_dockerfile) + "RUN [\"/bin/busybox\", \"sleep\", \"613\"]\n");
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(120));
    EXPECT_EQ(m_outcome.state, BuildState::failed);
    EXPECT_NE(m_outcome.error.find("timeout"), std::string::npos) << m_outcome.error;
    for (const char* name : {"build linux/amd64", "build linux/arm64"}) {
        const auto* s = stage_named(build, name);
        ASSERT_NE(s, nullptr) << name;
        EXPECT_EQ(s->state, BuildState::failed) << name;
    }
    std::string left;
    EXPECT_NE(test::sh("pgrep -f 'busybox slee[p] 613'", &left), 0) << "the process group is gone: " << left;
}

}  // namespace
}  // namespace hookyard::pipeline
