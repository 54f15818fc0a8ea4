// Where an image came from, end to end: acme/app builds FROM acme/base, an image hookyard built into the
// local registry behind basic auth (credentials only under registries:). The app image carries the OCI
// provenance labels (read back with skopeo) and the API serves its SLSA provenance statement.

#include <filesystem>

#include "tests/integration/e2e/e2e_fixture.hpp"

namespace hookyard::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string k_before_any(40, '0');
const std::string k_oci_label = "org.opencontainers.image.";

class BaseImageE2E : public PipelineE2E {
protected:
    void SetUp() override {
        // The base repository is served by the same git daemon, which SetUp starts over the git root.
        m_base = std::make_unique<SourceRepo>(m_dir / "git", "base");
        write_file(m_base->work() + "/busybox", read_file("/bin/busybox"), true);
        git({"add", "busybox"}, m_base->work());
        m_base_head = push_base("base 1");
        PipelineE2E::SetUp();
    }

    // acme/base, and acme/linked (the app's repository again) rebuilt whenever hookyard pushes acme/base;
    // a short watch interval, and acme/app's main rule (not its tag rule) opted in.
    void adjust_config(std::string& yaml) override {
        const std::string repositories =
            "  - github: acme/base\n    registry: local\n    push_repo: " + m_registry->host() +
            "/acme/base\n    clone_url: " + m_git->url("base.git") +
            "\n    rules: [{ source_type: branch, source: main, tag: '1' }]\n"
            "  - github: acme/linked\n    registry: local\n    push_repo: " +
            m_registry->host() + "/acme/linked\n    clone_url: " + m_git->url("app.git") +
            "\n    rebuild_when_pushed: [acme/base]\n"
            "    rules: [{ source_type: branch, source: main, tag: latest }]\n";
        yaml.replace(yaml.find("subscribers:\n"), 0, repositories);
        yaml.replace(yaml.find("repositories:\n"), 0, "base_images: { watch_interval: 2s }\n");
        const std::string main_rule = "tag: 'latest,{sourceref}'";
        yaml.replace(yaml.find(main_rule), main_rule.size(), main_rule + ", rebuild_on_base_change: true");
    }

    // Commits a base Dockerfile writing `text` to /base and pushes it to main; the commit.
    std::string push_base(const std::string& text) {
        const std::string sha = m_base->commit(
            {{"Dockerfile", "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"echo " +
                                text + " > /base\"]\n"}},
            text);
        m_base->push("main");
        return sha;
    }

    // Builds acme/base's main (its image is <registry>/acme/base:1); the build's JSON.
    json build_base(const std::string& before, const std::string& after) {
        return wait_terminal(
            build_ids(send_push("refs/heads/main", before, after, {"Dockerfile"}, "x", "acme/base")).at(0));
    }

    std::string app_dockerfile() const {
        return "FROM " + m_registry->host() +
               "/acme/base:1\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"echo app > /version\"]\n";
    }

    std::unique_ptr<SourceRepo> m_base;
    std::string m_base_head;
};

TEST_F(BaseImageE2E, TheImageSaysWhereItCameFromInLabelsAndProvenance) {
    const auto base = build_base(k_before_any, m_base_head);
    ASSERT_EQ(base["state"], "succeeded") << base.dump(2);
    const std::string base_ref = m_registry->host() + "/acme/base:1";
    const std::string app = commit_and_push({{"Dockerfile", app_dockerfile()}});
    const auto built = wait_terminal(build_ids(send_push("refs/heads/main", m_head, app)).at(0));
    ASSERT_EQ(built["state"], "succeeded") << built.dump(2);
    EXPECT_EQ(built["base_images"][base_ref], base["digest"]) << built.dump(2);

    const auto labels = skopeo_inspect("acme/app:latest")["Labels"];
    EXPECT_EQ(labels[k_oci_label + "revision"], app) << labels.dump(2);
    EXPECT_NE(labels[k_oci_label + "source"].get<std::string>().find("app.git"), std::string::npos) << labels.dump(2);
    EXPECT_EQ(labels[k_oci_label + "base.name"], base_ref);
    EXPECT_EQ(labels[k_oci_label + "base.digest"], base["digest"]);
    EXPECT_FALSE(labels[k_oci_label + "created"].get<std::string>().empty());

    const auto r = api_get("/api/v1/builds/" + std::to_string(built["id"].get<long long>()) + "/provenance");
    ASSERT_EQ(r.status, 200) << r.body;
    const auto doc = r.json();
    EXPECT_EQ(doc["_type"], "https://in-toto.io/Statement/v1");
    EXPECT_EQ(doc["predicateType"], "https://slsa.dev/provenance/v1");
    const auto& definition = doc["predicate"]["buildDefinition"];
    EXPECT_EQ(definition["externalParameters"]["commit"], app);
    EXPECT_EQ(definition["externalParameters"]["repository"], "acme/app");
    EXPECT_EQ(definition["externalParameters"]["dockerfile"], "Dockerfile");
    bool names_base = false;
    for (const auto& dep : definition["resolvedDependencies"]) {
        if (dep["uri"] == "docker://" + base_ref) {
            names_base = true;
            EXPECT_EQ("sha256:" + dep["digest"]["sha256"].get<std::string>(), base["digest"]);
        }
    }
    EXPECT_TRUE(names_base) << doc.dump(2);
    const std::string digest_hex = built["digest"].get<std::string>().substr(7);
    bool names_tag = false;
    for (const auto& s : doc["subject"])
        names_tag |= s["name"] == m_registry->host() + "/acme/app:latest" && s["digest"]["sha256"] == digest_hex;
    EXPECT_TRUE(names_tag) << doc.dump(2);
}

TEST_F(BaseImageE2E, AChangedBaseImageRebuildsOptedInRulesOnce) {
    const auto base = build_base(k_before_any, m_base_head);
    ASSERT_EQ(base["state"], "succeeded") << base.dump(2);
    const std::string app = commit_and_push({{"Dockerfile", app_dockerfile()}});
    const auto built = wait_terminal(build_ids(send_push("refs/heads/main", m_head, app)).at(0));
    ASSERT_EQ(built["state"], "succeeded") << built.dump(2);
    m_repo->push_tag("v1.0");  // the tag rule (not opted in) has a succeeded build of the same base too
    const auto tagged = wait_terminal(build_ids(send_push("refs/tags/v1.0", k_before_any, app)).at(0));
    ASSERT_EQ(tagged["state"], "succeeded") << tagged.dump(2);

    const auto new_base = build_base(m_base_head, push_base("base 2"));
    ASSERT_EQ(new_base["state"], "succeeded") << new_base.dump(2);
    ASSERT_NE(new_base["digest"], base["digest"]);
    auto rebuilds = [&] {
        std::vector<json> out;
        const auto list = api_get("/api/v1/builds?repository=acme/app").json();
        for (const auto& b : list["builds"]) {
            if (b["trigger"]["type"] == "base_image") out.push_back(b);
        }
        return out;
    };
    ASSERT_TRUE(wait_until([&] { return rebuilds().size() == 1; }, 60s)) << "the watcher queued no rebuild";
    const auto rebuilt = wait_terminal(rebuilds().at(0)["id"].get<long long>());
    ASSERT_EQ(rebuilt["state"], "succeeded") << rebuilt.dump(2);
    EXPECT_EQ(rebuilt["rule"], 0);
    EXPECT_EQ(rebuilt["commit"], app);
    const std::string reason = rebuilt["trigger"]["reason"];
    EXPECT_EQ(reason.find("base image " + m_registry->host() + "/acme/base:1 changed sha256:"), 0u) << reason;
    EXPECT_NE(reason.find(" → sha256:"), std::string::npos) << reason;
    const auto labels = skopeo_inspect("acme/app:latest")["Labels"];
    EXPECT_EQ(labels[k_oci_label + "base.digest"], new_base["digest"]) << labels.dump(2);
    // Two more checks at least: still one rebuild, and none for the tag rule.
    EXPECT_FALSE(wait_until([&] { return rebuilds().size() > 1; }, 8s)) << rebuilds().back().dump(2);
}

TEST_F(BaseImageE2E, PushingALinkedRepositoryQueuesItsDependents) {
    const auto base = build_base(k_before_any, m_base_head);
    ASSERT_EQ(base["state"], "succeeded") << base.dump(2);
    const std::string app = commit_and_push({{"Dockerfile", app_dockerfile()}});
    const auto linked =
        wait_terminal(build_ids(send_push("refs/heads/main", m_head, app, {"Dockerfile"}, "x", "acme/linked")).at(0));
    ASSERT_EQ(linked["state"], "succeeded") << linked.dump(2);

    const auto pushed = build_base(m_base_head, push_base("base 2"));
    ASSERT_EQ(pushed["state"], "succeeded") << pushed.dump(2);
    json queued;
    ASSERT_TRUE(wait_until(
        [&] {
            const auto list = api_get("/api/v1/builds?repository=acme/linked").json();
            for (const auto& b : list["builds"]) {
                if (b["trigger"]["type"] == "link") queued = b;
            }
            return !queued.is_null();
        },
        30s));
    EXPECT_EQ(queued["commit"], app);
    EXPECT_NE(queued["trigger"]["reason"].get<std::string>().find("acme/base pushed"), std::string::npos)
        << queued.dump(2);
    const auto rebuilt = wait_terminal(queued["id"].get<long long>());
    ASSERT_EQ(rebuilt["state"], "succeeded") << rebuilt.dump(2);
    EXPECT_TRUE(rebuilt["reused_from"].is_null()) << "its base changed: it builds";
    EXPECT_EQ(skopeo_inspect("acme/linked:latest")["Labels"][k_oci_label + "base.digest"], pushed["digest"]);
}

}  // namespace
}  // namespace hookyard::test
