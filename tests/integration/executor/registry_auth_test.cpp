// FROM images from a registry behind basic auth, over plain http, with the credentials only in the
// executor's pull registries (registries: in the config): real buildah, runc and docker-registry.

#include <filesystem>

#include "tests/integration/executor/sandbox_fixture.hpp"
#include "tests/support/registry_server.hpp"

namespace hookyard::pipeline::test_fixture {
namespace {

class PullAuthTest : public SandboxTest {
protected:
    void SetUp() override {
        SandboxTest::SetUp();
        if (IsSkipped()) return;
        if (!test::have_program("docker-registry") || !test::have_program("skopeo")) {
            GTEST_SKIP() << "needs docker-registry and skopeo (scripts/setup installs them)";
        }
        m_registry = std::make_unique<test::RegistryServer>(
            test::RegistryServerOptions{test::RegistryServerOptions::Auth::htpasswd});
        push_base_image();
    }

    // base:1 on the registry: busybox FROM scratch, built by the executor and copied there with skopeo.
    void push_base_image() {
        LogLines log;
        const auto ctx = make_context("base", "FROM scratch\nCOPY busybox /bin/busybox\n");
        auto built = build(request_for(ctx, "base"), log);
        ASSERT_TRUE(built.ok()) << built.error().message << log.text();
        std::string cmd = "skopeo copy";
        for (const auto& o : m_registry->skopeo_options("dest")) cmd += " '" + o + "'";
        cmd += " oci:" + built->layout_dir + ":" + built->layout_ref + " docker://" + base_image() + " 2>&1";
        std::string out;
        ASSERT_EQ(test::sh(cmd, &out), 0) << out;
    }

    std::string base_image() const { return m_registry->host() + "/base:1"; }

    // The configured registry: the test registry, http, with or without its credentials.
    PullRegistry configured(bool with_credentials) const {
        PullRegistry r{"local", m_registry->host(), true, "", "", ""};
        if (with_credentials) {
            r.username = m_registry->username();
            r.password = m_registry->password();
        }
        return r;
    }

    void use_registries(std::vector<PullRegistry> registries) {
        m_options.pull_registries = std::move(registries);
        m_options.credentials_root = m_dir / "credentials";
        use_sandbox({});
    }

    bool credentials_left() const {
        std::error_code ec;
        return std::filesystem::exists(m_options.credentials_root, ec) &&
               !std::filesystem::is_empty(m_options.credentials_root, ec);
    }

    std::unique_ptr<test::RegistryServer> m_registry;
};

TEST_F(PullAuthTest, FromImageBehindBasicAuthIsPulledWithTheConfiguredCredentials) {
    use_registries({configured(true)});
    // The RUN step looks for the credentials everywhere it can: their directory, any auth.json, buildah's
    // environment through /proc.
    const std::string root = m_options.credentials_root;
    const auto ctx = make_context(
        "app", "FROM " + base_image() + "\nRUN [\"/bin/busybox\",\"sh\",\"-c\",\"echo BEGIN-creds; /bin/busybox ls " +
                   root + "; /bin/busybox cat " + root + "/*/auth.json; /bin/busybox find / -name auth.json " +
                   "-o -name 'pull-*'; /bin/busybox cat /proc/*/environ; echo END-creds; echo " + nonce() + "\"]\n");
    LogLines log;
    auto result = build(request_for(ctx, "app"), log);
    ASSERT_TRUE(result.ok()) << result.error().message << log.text();
    const auto creds = section(log, "creds");
    ASSERT_FALSE(creds.empty()) << log.text();
    for (const auto& line : creds) {
        EXPECT_EQ(line.find("auths"), std::string::npos) << line;
        EXPECT_EQ(line.find("pull-"), std::string::npos) << line;
    }
    EXPECT_EQ(log.text().find(m_registry->password()), std::string::npos) << log.text();
    EXPECT_NE(log.text().find("--authfile"), std::string::npos) << log.text();
    EXPECT_NE(log.text().find(m_registry->host() + " (http)"), std::string::npos) << log.text();
    EXPECT_FALSE(credentials_left());
    // The registry saw the pull of base:1's manifest.
    bool pulled = false;
    for (const auto& r : m_registry->requests()) pulled = pulled || r.rfind("GET /v2/base/manifests/1", 0) == 0;
    EXPECT_TRUE(pulled);
}

TEST_F(PullAuthTest, WithoutCredentialsThePullFailsNamingTheRegistryAndTheFix) {
    use_registries({configured(false)});
    LogLines log;
    const auto ctx = make_context("app", "FROM " + base_image() + "\nRUN [\"/bin/busybox\",\"true\"]\n");
    auto result = build(request_for(ctx, "nocreds"), log);
    ASSERT_FALSE(result.ok()) << log.text();
    EXPECT_EQ(result.error().kind, util::ErrorKind::not_found) << result.error().message;
    EXPECT_NE(result.error().message.find("registry " + m_registry->host() + " wants credentials"), std::string::npos)
        << result.error().message;
    EXPECT_NE(result.error().message.find("registries:"), std::string::npos) << result.error().message;
    EXPECT_FALSE(credentials_left());
}

TEST_F(PullAuthTest, WrongCredentialsNameTheConfiguredRegistry) {
    auto wrong = configured(true);
    wrong.password = "not-" + wrong.password;
    use_registries({wrong});
    LogLines log;
    const auto ctx = make_context("app", "FROM " + base_image() + "\nRUN [\"/bin/busybox\",\"true\"]\n");
    auto result = build(request_for(ctx, "wrong"), log);
    ASSERT_FALSE(result.ok()) << log.text();
    EXPECT_NE(result.error().message.find("refused the credentials of registries: 'local'"), std::string::npos)
        << result.error().message;
    EXPECT_EQ(result.error().message.find(wrong.password), std::string::npos);
    EXPECT_FALSE(credentials_left());
}

// `hookyard build-local -c` takes builder: and registries: from the config, set up by serve's code path:
// the sandbox of builder: (runtime probed, its limits) and the password (from password_file) for the pull.
TEST_F(PullAuthTest, BuildLocalWithAConfigUsesItsBuilderSectionAndRegistries) {
    const std::string password_file = m_dir / "registry-password";
    test::write_file(password_file, m_registry->password() + "\n");
    const std::string data = m_dir / "data";
    const std::string config = m_dir / "hookyard.yaml";
    test::write_file(config, "data_dir: " + data +
                                 "\nbuilder:\n  network: {mode: none}\n  limits: {pids: 321, memory: 1GiB}\n"
                                 "registries:\n  local:\n    endpoint: " +
                                 m_registry->url() + "\n    username: " + m_registry->username() +
                                 "\n    password_file: " + password_file + "\n");
    const auto ctx = make_context("app", "FROM " + base_image() + "\nRUN [\"/bin/busybox\",\"true\"]\n");
    std::string out;
    const int rc =
        test::run({test::binary_dir() + "/hookyard", "build-local", "-c", config, "--context", ctx, "--layout",
                   m_dir / "cli-layout", "--root", m_options.root, "--runroot", m_options.runroot},
                  &out);
    ASSERT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("OCI runtime runc with cgroup manager"), std::string::npos) << out;
    EXPECT_NE(out.find("network none, limits per build: memory 1 GiB, pids 321"), std::string::npos) << out;
    EXPECT_NE(out.find("--isolation oci --runtime runc"), std::string::npos) << out;
    EXPECT_NE(out.find("--authfile " + data + "/run/credentials/pull-"), std::string::npos) << out;
    EXPECT_EQ(out.find(m_registry->password()), std::string::npos);
    EXPECT_TRUE(std::filesystem::is_empty(data + "/run/credentials"));

    // Without credentials for it, in chroot: the config's isolation holds, the pull fails saying why.
    test::write_file(config, "data_dir: " + data + "\nbuilder:\n  isolation: chroot\nregistries:\n  local:\n" +
                                 "    endpoint: " + m_registry->url() + "\n");
    ASSERT_EQ(test::run({test::binary_dir() + "/hookyard", "build-local", "-c", config, "--context", ctx, "--layout",
                         m_dir / "chroot-layout", "--root", m_options.root, "--runroot", m_options.runroot},
                        &out),
              1)
        << out;
    EXPECT_NE(out.find("builder.isolation is chroot"), std::string::npos) << out;
    EXPECT_NE(out.find("--isolation chroot"), std::string::npos) << out;
    EXPECT_NE(out.find("registry " + m_registry->host() + " wants credentials"), std::string::npos) << out;
}

}  // namespace
}  // namespace hookyard::pipeline::test_fixture
