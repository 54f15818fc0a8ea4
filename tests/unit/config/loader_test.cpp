// Config loading: every validation message the foundation issue lists, with its line, and the
// interpolation/secret/override rules. Configs are inline YAML so each test shows what it feeds.

#include "config/loader.hpp"

#include <gtest/gtest.h>

#include <map>

#include "tests/support/support.hpp"

namespace hookyard::config {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
    return [vars](const std::string& name) -> std::optional<std::string> {
        const auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

const char* const k_valid = R"(server:
  listen: "127.0.0.1:8080"
  webhook_secret: s3cret
registries:
  hub: { endpoint: docker.io, username: acme, password: "${HUB_TOKEN}" }
repositories:
  - github: acme/web
    registry: hub
    push_repo: acme/web
    rules:
      - { source_type: branch, source: main, tag: latest }
)";

LoadOutcome load(const std::string& text, std::map<std::string, std::string> env = {{"HUB_TOKEN", "tok-123"}}) {
    return load_config_text(text, "hookyard.yaml", env_of(std::move(env)));
}

// Asserts exactly one diagnostic mentioning `needle`, on `line`.
void expect_diagnostic(const LoadOutcome& out, int line, const std::string& needle) {
    ASSERT_FALSE(out.config.has_value());
    int hits = 0;
    for (const auto& d : out.diagnostics) {
        if (d.message.find(needle) != std::string::npos) {
            ++hits;
            EXPECT_EQ(d.line, line) << d.str();
            EXPECT_EQ(d.file, "hookyard.yaml");
        }
    }
    std::string all;
    for (const auto& d : out.diagnostics) all += d.str() + "\n";
    EXPECT_EQ(hits, 1) << "looking for '" << needle << "' in:\n" << all;
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
    const auto pos = text.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    return text.replace(pos, from.size(), to);
}

TEST(ConfigLoader, LoadsAValidConfigWithDefaults) {
    const auto out = load(k_valid);
    ASSERT_TRUE(out.config) << (out.diagnostics.empty() ? "" : out.diagnostics[0].str());
    const Config& c = *out.config;
    EXPECT_EQ(c.registries.at("hub").password, "tok-123");
    EXPECT_EQ(c.registries.at("hub").api_base, "https://registry-1.docker.io");
    EXPECT_TRUE(c.registries.at("hub").docker_hub);
    ASSERT_EQ(c.repositories.size(), 1u);
    EXPECT_EQ(c.repositories[0].push_repo, "docker.io/acme/web");
    EXPECT_EQ(c.repositories[0].rules[0].dockerfile, "Dockerfile");
    EXPECT_EQ(c.repositories[0].rules[0].context, "/");
    EXPECT_TRUE(c.repositories[0].rules[0].autobuild);
    EXPECT_EQ(c.builder.concurrency, 2);
    EXPECT_EQ(c.storage, "sqlite:./hookyard-data/hookyard.db");
    EXPECT_EQ(summarize(c), "hookyard.yaml: valid: 1 registry, 1 repository (1 rule), 0 subscribers");
}

TEST(ConfigLoader, LoadsJsonBecauseJsonIsYaml) {
    const auto out = load(R"({"server": {"webhook_secret": "x"},
      "registries": {"local": {"endpoint": "http://127.0.0.1:5000"}},
      "repositories": [{"github": "acme/api", "registry": "local", "push_repo_prefix": "127.0.0.1:5000/team",
                        "rules": [{"source_type": "tag", "source": "/^v(.*)$/", "tag": "{\\1}"}]}]})");
    ASSERT_TRUE(out.config) << out.diagnostics[0].str();
    EXPECT_EQ(out.config->registries.at("local").api_base, "http://127.0.0.1:5000");
    EXPECT_EQ(out.config->repositories[0].image_name, "api");
    EXPECT_EQ(out.config->repositories[0].rules[0].capture_groups, 1u);
}

TEST(ConfigLoader, ReportsUnknownKeyWithDidYouMean) {
    expect_diagnostic(load(replace(k_valid, "  listen:", "  listn:")), 2, "did you mean 'listen'?");
    expect_diagnostic(load(replace(k_valid, "tag: latest", "tag: latest, dockerfle: x")), 11,
                      "did you mean 'dockerfile'?");
}

TEST(ConfigLoader, ReportsWrongTypes) {
    expect_diagnostic(load(replace(k_valid, "tag: latest", "tag: latest, autobuild: maybe")), 11,
                      "'autobuild' must be true or false");
    expect_diagnostic(load(k_valid + std::string("builder: { concurrency: lots }\n")), 12,
                      "'concurrency' must be a whole number");
    expect_diagnostic(load(k_valid + std::string("builder: { timeout: soon }\n")), 12, "must be a positive duration");
    expect_diagnostic(load(replace(k_valid, "push_repo: acme/web", "push_repo: [acme/web]")), 9,
                      "'push_repo' must be a single value, not a list");
}

TEST(ConfigLoader, ReportsRuleWithoutTag) {
    expect_diagnostic(load(replace(k_valid, "source: main, tag: latest", "source: main")), 11, "a rule has no tag");
}

TEST(ConfigLoader, ReportsRegexThatDoesNotCompile) {
    expect_diagnostic(load(replace(k_valid, "source: main", "source: '/^(main$/'")), 11, "does not compile");
}

TEST(ConfigLoader, ReportsRegexConstructsRe2CannotTake) {
    expect_diagnostic(load(replace(k_valid, "source: main", "source: '/^(?!wip).*$/'")), 11, "lookaround (?!");
    expect_diagnostic(load(replace(k_valid, "source: main", "source: '/^(a)\\1$/'")), 11, "backreference \\1");
}

TEST(ConfigLoader, ReportsCaptureGroupBeyondTheRegex) {
    expect_diagnostic(load(replace(k_valid, "source: main, tag: latest", "source: '/^v(.*)$/', tag: '{\\2}'")), 11,
                      "has only 1 capture group");
    expect_diagnostic(load(replace(k_valid, "tag: latest", "tag: '{\\1}'")), 11, "the source is not a regex");
}

TEST(ConfigLoader, ReportsUndefinedRegistryWithSuggestion) {
    expect_diagnostic(load(replace(k_valid, "registry: hub", "registry: hubb")), 8,
                      "registry 'hubb', which is not defined under registries:; did you mean 'hub'?");
}

TEST(ConfigLoader, ReportsBothOrNeitherPushRepoAndPrefix) {
    expect_diagnostic(load(replace(k_valid, "push_repo: acme/web", "push_repo: acme/web\n    push_repo_prefix: acme")),
                      10, "sets both push_repo and push_repo_prefix");
    expect_diagnostic(load(replace(k_valid, "    push_repo: acme/web\n", "")), 7,
                      "sets neither push_repo nor push_repo_prefix");
}

TEST(ConfigLoader, ReportsUnsetEnvironmentVariableWithoutPrintingSecrets) {
    const auto out = load(k_valid, {});
    expect_diagnostic(out, 5, "${HUB_TOKEN} is not set");
    const auto with_default = load(replace(k_valid, "${HUB_TOKEN}", "${HUB_TOKEN:-fallback}"), {});
    ASSERT_TRUE(with_default.config);
    EXPECT_EQ(with_default.config->registries.at("hub").password, "fallback");
}

TEST(ConfigLoader, ReportsInvalidImageNameAndTag) {
    expect_diagnostic(load(replace(k_valid, "push_repo: acme/web", "push_repo: acme/Web")), 9,
                      "is not valid: use lower-case letters");
    expect_diagnostic(load(replace(k_valid, "tag: latest", "tag: 'bad tag'")), 11, "is not a valid OCI tag");
    expect_diagnostic(load(replace(k_valid, "tag: latest", "tag: '-x'")), 11, "is not a valid OCI tag");
}

TEST(ConfigLoader, ReportsPushRepoOnAnotherRegistryHost) {
    expect_diagnostic(load(replace(k_valid, "push_repo: acme/web", "push_repo: ghcr.io/acme/web")), 9,
                      "is on host ghcr.io but registry 'hub' is docker.io");
}

TEST(ConfigLoader, ReportsDuplicateRepositories) {
    const std::string text = std::string(k_valid) +
                             "  - github: ACME/web\n    registry: hub\n    push_repo: acme/web2\n"
                             "    rules: [{source: main, tag: latest}]\n";
    expect_diagnostic(load(text), 12, "duplicate repository 'ACME/web' (first defined on line 7)");
}

TEST(ConfigLoader, ReportsMissingWebhookSecretWhenRepositoriesExist) {
    expect_diagnostic(load(replace(k_valid, "  webhook_secret: s3cret\n", "")), 2, "webhook_secret");
}

TEST(ConfigLoader, ReadsSecretsFromFilesAndRejectsBoth) {
    test::TempDir dir;
    test::write_file(dir / "pw", "from-file\n");
    const auto out = load(replace(k_valid, "password: \"${HUB_TOKEN}\"", "password_file: " + (dir / "pw")));
    ASSERT_TRUE(out.config) << out.diagnostics[0].str();
    EXPECT_EQ(out.config->registries.at("hub").password, "from-file");
    expect_diagnostic(
        load(replace(k_valid, "password: \"${HUB_TOKEN}\"", "password: x, password_file: " + (dir / "pw"))), 5,
        "'password' and 'password_file' are both set");
    expect_diagnostic(load(replace(k_valid, "password: \"${HUB_TOKEN}\"", "password_file: /nonexistent/pw")), 5,
                      "cannot read /nonexistent/pw");
}

TEST(ConfigLoader, AppliesPrimeHubStyleRegistryOverrides) {
    const std::string text = R"(server: { webhook_secret: s }
repositories:
  - github: acme/Web-App
    rules: [{ source: main, tag: latest }]
)";
    const auto out = load(text, {{"HOOKYARD_REGISTRY_ENDPOINT", "https://ghcr.io"},
                                 {"HOOKYARD_REGISTRY_USERNAME", "bot"},
                                 {"HOOKYARD_REGISTRY_PASSWORD", "pw"},
                                 {"HOOKYARD_REGISTRY_PUSH_REPO_PREFIX", "acme"}});
    ASSERT_TRUE(out.config) << out.diagnostics[0].str();
    const auto& reg = out.config->registries.at("default");
    EXPECT_EQ(reg.host, "ghcr.io");
    EXPECT_EQ(reg.username, "bot");
    EXPECT_EQ(reg.password, "pw");
    EXPECT_EQ(out.config->repositories[0].registry, "default");
    EXPECT_EQ(out.config->repositories[0].push_repo_prefix, "ghcr.io/acme");
    EXPECT_EQ(out.config->repositories[0].image_name, "web-app");

    const auto single = load(text, {{"HOOKYARD_REGISTRY_ENDPOINT", "127.0.0.1:5000"},
                                    {"HOOKYARD_REGISTRY_PUSH_REPO", "127.0.0.1:5000/x/y"}});
    ASSERT_TRUE(single.config) << single.diagnostics[0].str();
    EXPECT_EQ(single.config->repositories[0].push_repo, "127.0.0.1:5000/x/y");
    EXPECT_EQ(single.config->registries.at("default").api_base, "https://127.0.0.1:5000");
}

TEST(ConfigLoader, ValidatesSubscribers) {
    const std::string base = std::string(k_valid) + "subscribers:\n";
    expect_diagnostic(load(base + "  - { name: a, url: 'ftp://x', format: hookyard }\n"), 13,
                      "needs url: an http(s) URL");
    expect_diagnostic(load(base + "  - { name: a, url: 'https://x', format: slack }\n"), 13,
                      "format must be one of dockerhub, hookyard");
    expect_diagnostic(load(base + "  - { name: a, url: 'https://x', events: [build.succeded] }\n"), 13,
                      "did you mean 'build.succeeded'?");
    expect_diagnostic(load(base + "  - { name: a, url: 'https://x', repositories: [acme/nope] }\n"), 13,
                      "names repository 'acme/nope'");
}

TEST(ConfigLoader, ReportsYamlSyntaxErrorWithLine) {
    const auto out = load("server:\n  listen: [unclosed\n");
    ASSERT_FALSE(out.config);
    ASSERT_EQ(out.diagnostics.size(), 1u);
    EXPECT_NE(out.diagnostics[0].message.find("not valid YAML"), std::string::npos);
    EXPECT_GT(out.diagnostics[0].line, 0);
}

TEST(ConfigLoader, NeverPrintsSecretValues) {
    const std::string text = replace(replace(k_valid, "registry: hub", "registry: nope"), "webhook_secret: s3cret",
                                     "webhook_secret: [s3cret]");
    const auto out = load(text);
    ASSERT_FALSE(out.config);
    for (const auto& d : out.diagnostics) {
        EXPECT_EQ(d.str().find("tok-123"), std::string::npos) << d.str();
        EXPECT_EQ(d.str().find("s3cret"), std::string::npos) << d.str();
    }
}

TEST(ConfigLoader, ExampleConfigsAreValid) {
    for (const char* name : {"hookyard.yaml", "dockerhub.yaml", "gcr.yaml", "ecr.yaml", "quickstart.yaml"}) {
        const auto path = test::source_dir() + "/examples/" + name;
        // The examples carry no default secrets: the variables the README lists must be set.
        EXPECT_FALSE(load_config_file(path, [](const std::string&) { return std::optional<std::string>(); }).config)
            << name;
        const auto out = load_config_file(path, [](const std::string& var) -> std::optional<std::string> {
            if (var == "GITHUB_WEBHOOK_SECRET" || var == "HOOKYARD_API_TOKEN" || var == "OPS_SECRET" ||
                var == "RECEIVER_SECRET") {
                return std::string(32, 'k');
            }
            return std::nullopt;
        });
        std::string all;
        for (const auto& d : out.diagnostics) all += d.str() + "\n";
        EXPECT_TRUE(out.config.has_value()) << name << ": " << all;
        EXPECT_TRUE(out.warnings.empty()) << name;
    }
}

TEST(ConfigLoader, RefusesEmptyAndPlaceholderSecretsAndWarnsAboutShortOnes) {
    expect_diagnostic(load(replace(k_valid, "webhook_secret: s3cret", "webhook_secret: ''")), 3,
                      "server.webhook_secret is not set");
    expect_diagnostic(load(replace(k_valid, "webhook_secret: s3cret", "webhook_secret: change-me")), 3,
                      "placeholder 'change-me'");
    expect_diagnostic(load(replace(k_valid, "webhook_secret: s3cret",
                                   "webhook_secret: s3cret-long-enough\n  api_token: change-me-too")),
                      4, "server.api_token is the placeholder");
    const auto short_one = load(k_valid);
    ASSERT_TRUE(short_one.config) << "a short secret still loads";
    ASSERT_EQ(short_one.warnings.size(), 1u);
    EXPECT_NE(short_one.warnings[0].str().find(":3: warning: server.webhook_secret is shorter than 16"),
              std::string::npos)
        << short_one.warnings[0].str();
    EXPECT_EQ(short_one.warnings[0].str().find("s3cret"), std::string::npos);
}

TEST(ConfigLoader, AStorageUrlOfAnUnknownSchemeIsRefusedWithoutItsPassword) {
    const auto out = load(std::string(k_valid) + "storage: \"mysql://hookyard:${DB_PASSWORD}@db/hookyard\"\n",
                          {{"HUB_TOKEN", "tok-123"}, {"DB_PASSWORD", "pw-from-env-42"}});
    ASSERT_FALSE(out.config.has_value());
    std::string all;
    for (const auto& d : out.diagnostics) all += d.str() + "\n";
    EXPECT_NE(all.find("storage must be sqlite:PATH or postgresql://"), std::string::npos) << all;
    EXPECT_EQ(all.find("pw-from-env-42"), std::string::npos) << all;
}

}  // namespace
}  // namespace hookyard::config
