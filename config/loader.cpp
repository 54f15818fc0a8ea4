#include "config/loader.hpp"

#include <boost/url/parse.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "config/base_images.hpp"
#include "config/builder.hpp"
#include "config/cluster.hpp"
#include "config/image_ref.hpp"
#include "config/naming.hpp"
#include "config/platform.hpp"
#include "config/pull_request_keys.hpp"
#include "config/rules.hpp"
#include "config/secret_policy.hpp"
#include "config/ui.hpp"
#include "util/log.hpp"

namespace hookyard::config {
namespace {

const std::vector<std::string> k_top_keys = {"server",       "data_dir",    "storage",     "builder", "registries",
                                             "repositories", "subscribers", "git",         "github",  "notify",
                                             "retention",    "ui",          "base_images", "cluster"};
const std::vector<std::string> k_server_keys = {"listen",          "webhook_secret", "webhook_secret_file",
                                                "api_token",       "api_token_file", "public_url",
                                                "max_connections", "rate_limit"};
const std::vector<std::string> k_retention_keys = {"builds", "keep_per_rule", "deliveries", "kept_workdirs",
                                                   "interval"};
const std::vector<std::string> k_registry_keys = {"endpoint",         "username", "password",       "password_file",
                                                  "credentials_file", "ca_file",  "manifest_format"};
const std::vector<std::string> k_git_keys = {
    "token", "token_file", "username", "password", "password_file", "ssh_key_file", "ssh_known_hosts_file"};
// The top-level git: block also says where submodules may come from.
const std::vector<std::string> k_top_git_keys = {"token",
                                                 "token_file",
                                                 "username",
                                                 "password",
                                                 "password_file",
                                                 "ssh_key_file",
                                                 "ssh_known_hosts_file",
                                                 "submodule_hosts",
                                                 "allow_local_submodules"};
const std::vector<std::string> k_repository_keys = {"github",
                                                    "registry",
                                                    "push_repo",
                                                    "push_repo_prefix",
                                                    "image_name",
                                                    "clone_url",
                                                    "trigger_token",
                                                    "trigger_token_file",
                                                    "hooks",
                                                    "git",
                                                    "rules",
                                                    "allow_tag_collisions",
                                                    "autotest",
                                                    "pull_requests",
                                                    "rebuild_when_pushed"};
const std::vector<std::string> k_rule_keys = {
    "source_type", "source",     "tag",   "dockerfile",   "context",   "autobuild", "cache",
    "submodules",  "build_args", "paths", "ignore_paths", "platforms", "reuse",     "rebuild_on_base_change"};
const std::vector<std::string> k_subscriber_keys = {"name",        "url",          "format", "secret",
                                                    "secret_file", "repositories", "events"};
const std::vector<std::string> k_github_keys = {"token", "token_file", "api_url", "url"};
const std::vector<std::string> k_notify_keys = {"max_attempts", "timeout", "initial_backoff"};
const std::vector<std::string> k_events = {"build.queued", "build.started",  "build.succeeded",
                                           "build.failed", "build.canceled", "push"};

std::string to_lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool valid_http_url(const std::string& text) {
    auto url = boost::urls::parse_absolute_uri(text);
    if (!url) return false;
    return (url->scheme() == "http" || url->scheme() == "https") && url->has_authority() && !url->host().empty();
}

class ConfigParser {
public:
    ConfigParser(Diagnostics& diags, const EnvLookup& env) : m_r(diags, env), m_env(env) {}

    void parse(const YAML::Node& root, Config& c) {
        if (!root.IsMap()) {
            m_r.diags().add(YamlReader::line_of(root),
                            "the config must be a mapping with server:, registries:, "
                            "repositories: …; see examples/hookyard.yaml");
            return;
        }
        m_r.check_keys(root, k_top_keys, "the config's top level");
        parse_server(root["server"], c.server);
        m_r.read(root, "data_dir", c.data_dir);
        m_r.read(root, "storage", c.storage);
        parse_builder(m_r, root["builder"], c.builder);
        parse_git(root["git"], c.git, "git");
        if (root["git"] && root["git"].IsMap()) {
            m_r.read(root["git"], "submodule_hosts", c.submodules.hosts);
            m_r.read(root["git"], "allow_local_submodules", c.submodules.allow_local);
        }
        parse_github(root["github"], c.github);
        parse_notify(root["notify"], c.notify);
        parse_retention(root["retention"], c.retention);
        parse_ui(m_r, root["ui"], c.ui);
        parse_base_images(m_r, root["base_images"], c.base_images);
        parse_cluster(m_r, root["cluster"], c.cluster);
        if (const auto regs = root["registries"]; regs && m_r.expect_map(regs, "registries")) {
            for (const auto& kv : regs) parse_registry(kv.first.Scalar(), kv.second, c);
        }
        apply_registry_env(c);
        if (const auto repos = root["repositories"]; repos && m_r.expect_sequence(repos, "repositories")) {
            for (const auto& node : repos) parse_repository(node, c);
        }
        if (const auto subs = root["subscribers"]; subs && m_r.expect_sequence(subs, "subscribers")) {
            for (const auto& node : subs) parse_subscriber(node, c);
        }
        check_secrets(root, c, m_r.diags());
        check_repository_links(c, m_r.diags());
        for (auto& [line, message] : shared_tag_warnings(c)) m_r.diags().warn(line, std::move(message));
        if (c.storage.empty()) c.storage = "sqlite:" + c.data_dir + "/hookyard.db";
        validate_storage(root, c);
    }

private:
    void parse_server(const YAML::Node& n, ServerConfig& s) {
        if (!n || !m_r.expect_map(n, "server")) return;
        m_r.check_keys(n, k_server_keys, "server");
        m_r.read(n, "listen", s.listen);
        m_r.read_secret(n, "webhook_secret", s.webhook_secret);
        m_r.read_secret(n, "api_token", s.api_token);
        m_r.read(n, "public_url", s.public_url);
        m_r.read(n, "max_connections", s.max_connections, 1, 1000000);
        m_r.read(n, "rate_limit", s.rate_limit, 0, 1000000);
        if (s.listen.rfind(':') == std::string::npos) {
            m_r.diags().add(YamlReader::line_of(n["listen"]), "server.listen must be HOST:PORT, e.g. 0.0.0.0:8080");
        }
        if (!s.public_url.empty() && !valid_http_url(s.public_url)) {
            m_r.diags().add(YamlReader::line_of(n["public_url"]),
                            "server.public_url must be an http(s) URL, e.g. https://builds.example.com");
        }
    }

    void parse_retention(const YAML::Node& n, RetentionConfig& r) {
        if (!n || !m_r.expect_map(n, "retention")) return;
        m_r.check_keys(n, k_retention_keys, "retention");
        m_r.read(n, "builds", r.builds);
        m_r.read(n, "keep_per_rule", r.keep_per_rule, 0, 1000000);
        m_r.read(n, "deliveries", r.deliveries);
        m_r.read(n, "kept_workdirs", r.kept_workdirs);
        m_r.read(n, "interval", r.interval);
    }

    void parse_git(const YAML::Node& n, GitCredentials& g, const std::string& where) {
        if (!n || !m_r.expect_map(n, where)) return;
        m_r.check_keys(n, where == "git" ? k_top_git_keys : k_git_keys, where);
        m_r.read_secret(n, "token", g.token);
        m_r.read(n, "username", g.username);
        m_r.read_secret(n, "password", g.password);
        m_r.read(n, "ssh_key_file", g.ssh_key_file);
        m_r.read(n, "ssh_known_hosts_file", g.ssh_known_hosts_file);
    }

    void parse_github(const YAML::Node& n, GithubConfig& g) {
        if (!n || !m_r.expect_map(n, "github")) return;
        m_r.check_keys(n, k_github_keys, "github");
        m_r.read_secret(n, "token", g.token);
        m_r.read(n, "api_url", g.api_url);
        m_r.read(n, "url", g.url);
        while (!g.url.empty() && g.url.back() == '/') g.url.pop_back();
        if (!valid_http_url(g.url)) {
            m_r.diags().add(YamlReader::line_of(n["url"]),
                            "github.url must be an http(s) URL, e.g. https://github.com");
        }
        while (!g.api_url.empty() && g.api_url.back() == '/') g.api_url.pop_back();
        if (!valid_http_url(g.api_url)) {
            m_r.diags().add(YamlReader::line_of(n["api_url"]),
                            "github.api_url must be an http(s) URL, e.g. https://github.example.com/api/v3");
        }
    }

    void parse_notify(const YAML::Node& n, NotifyConfig& c) {
        if (!n || !m_r.expect_map(n, "notify")) return;
        m_r.check_keys(n, k_notify_keys, "notify");
        m_r.read(n, "max_attempts", c.max_attempts, 1, 100);
        m_r.read(n, "timeout", c.timeout);
        m_r.read(n, "initial_backoff", c.initial_backoff);
    }

    void parse_registry(const std::string& name, const YAML::Node& n, Config& c) {
        const std::string where = "registry '" + name + "'";
        if (!m_r.expect_map(n, where)) return;
        m_r.check_keys(n, k_registry_keys, where);
        RegistryConfig reg;
        reg.name = name;
        reg.line = YamlReader::line_of(n);
        m_r.read(n, "endpoint", reg.endpoint);
        m_r.read(n, "username", reg.username);
        m_r.read_secret(n, "password", reg.password);
        m_r.read(n, "credentials_file", reg.credentials_file);
        m_r.read(n, "ca_file", reg.ca_file);
        read_manifest_format(m_r, n, where, reg.manifest_format);
        if (reg.endpoint.empty()) {
            m_r.diags().add(reg.line, where + " has no endpoint; add e.g. endpoint: docker.io or endpoint: ghcr.io");
        } else {
            normalize(reg, YamlReader::line_of(n["endpoint"]));
        }
        if (!reg.password.empty() && reg.username.empty()) {
            m_r.diags().add(reg.line, where + " has a password but no username; add username:");
        }
        c.registries[name] = std::move(reg);
    }

    void normalize(RegistryConfig& reg, int line) {
        auto ep = normalize_endpoint(reg.endpoint);
        if (!ep) {
            m_r.diags().add(line, ep.error().message);
            return;
        }
        reg.api_base = ep->api_base;
        reg.host = ep->host;
        reg.docker_hub = ep->docker_hub;
    }

    // PrimeHub-style single registry from the environment: it becomes (or overrides) the registry named
    // "default", which repositories without `registry:` use.
    void apply_registry_env(Config& c) {
        const auto endpoint = m_env("HOOKYARD_REGISTRY_ENDPOINT");
        const auto username = m_env("HOOKYARD_REGISTRY_USERNAME");
        const auto password = m_env("HOOKYARD_REGISTRY_PASSWORD");
        m_default_push_repo = m_env("HOOKYARD_REGISTRY_PUSH_REPO").value_or("");
        m_default_push_repo_prefix = m_env("HOOKYARD_REGISTRY_PUSH_REPO_PREFIX").value_or("");
        if (!endpoint && !username && !password) return;
        auto& reg = c.registries["default"];
        reg.name = "default";
        if (endpoint) {
            reg.endpoint = *endpoint;
            normalize(reg, 0);
        } else if (reg.endpoint.empty()) {
            m_r.diags().add(0,
                            "HOOKYARD_REGISTRY_USERNAME/PASSWORD are set but HOOKYARD_REGISTRY_ENDPOINT is not; "
                            "export it (e.g. docker.io)");
        }
        if (username) reg.username = *username;
        if (password) reg.password = *password;
    }

    void parse_repository(const YAML::Node& n, Config& c) {
        if (!m_r.expect_map(n, "each repository")) return;
        RepositoryConfig repo;
        repo.line = YamlReader::line_of(n);
        m_r.check_keys(n, k_repository_keys, "a repository");
        m_r.read(n, "github", repo.github);
        const std::string where = repo.github.empty() ? "repository" : "repository '" + repo.github + "'";
        m_r.read(n, "registry", repo.registry);
        m_r.read(n, "push_repo", repo.push_repo);
        m_r.read(n, "push_repo_prefix", repo.push_repo_prefix);
        m_r.read(n, "image_name", repo.image_name);
        m_r.read(n, "clone_url", repo.clone_url);
        m_r.read_secret(n, "trigger_token", repo.trigger_token);
        m_r.read(n, "hooks", repo.hooks);
        m_r.read(n, "allow_tag_collisions", repo.allow_tag_collisions);
        m_r.read(n, "rebuild_when_pushed", repo.rebuild_when_pushed);
        parse_git(n["git"], repo.git, where + " git");
        read_pull_request_keys(m_r, n, repo);

        const auto slash = repo.github.find('/');
        if (repo.github.empty()) {
            m_r.diags().add(repo.line, "a repository has no 'github: owner/name'; add the repository's full name");
        } else if (slash == std::string::npos || slash == 0 || slash + 1 == repo.github.size() ||
                   repo.github.find('/', slash + 1) != std::string::npos) {
            m_r.diags().add(YamlReader::line_of(n["github"]),
                            "github: '" + repo.github + "' must be owner/name, as in repository.full_name");
        } else if (c.find_repository(repo.github) != nullptr) {
            m_r.diags().add(YamlReader::line_of(n["github"]), "duplicate repository '" + repo.github +
                                                                  "' (first defined on line " +
                                                                  std::to_string(c.find_repository(repo.github)->line) +
                                                                  "); merge their rules into one entry");
        }

        if (repo.registry.empty() && c.registries.count("default")) repo.registry = "default";
        if (repo.registry.empty()) {
            m_r.diags().add(repo.line, where + " names no registry; add registry: <name from registries:>");
        } else if (!c.registries.count(repo.registry)) {
            std::vector<std::string> names;
            for (const auto& [k, v] : c.registries) names.push_back(k);
            const auto hint = did_you_mean(repo.registry, names);
            m_r.diags().add(YamlReader::line_of(n["registry"]),
                            where + " uses registry '" + repo.registry + "', which is not defined under registries:" +
                                (hint.empty() ? "; define it" : "; did you mean '" + hint + "'?"));
        }
        resolve_image_naming(n, repo, c, where);

        if (const auto rules = n["rules"]; !rules) {
            m_r.diags().add(repo.line, where +
                                           " has no rules; add e.g. rules: [{source_type: branch, source: main, "
                                           "tag: latest}]");
        } else if (m_r.expect_sequence(rules, "rules")) {
            for (const auto& rn : rules) parse_rule(rn, repo);
        }
        c.repositories.push_back(std::move(repo));
    }

    void resolve_image_naming(const YAML::Node& n, RepositoryConfig& repo, const Config& c, const std::string& where) {
        if (repo.push_repo.empty() && repo.push_repo_prefix.empty()) {
            repo.push_repo = m_default_push_repo;
            repo.push_repo_prefix = m_default_push_repo_prefix;
            // Every repository without a naming key shares this one image repository: PrimeHub's naming keeps
            // their tags apart.
            repo.shared_push_repo = !repo.push_repo.empty() && repo.push_repo_prefix.empty();
        }
        if (repo.shared_push_repo && repo.image_name.empty()) {
            repo.image_name = to_lower(repo.github.substr(repo.github.find('/') + 1));
        }
        const int line = repo.line;
        if (!repo.push_repo.empty() && !repo.push_repo_prefix.empty()) {
            m_r.diags().add(YamlReader::line_of(n["push_repo_prefix"]),
                            where +
                                " sets both push_repo and push_repo_prefix; keep one (push_repo names the image, "
                                "push_repo_prefix a namespace for it)");
            return;
        }
        if (repo.push_repo.empty() && repo.push_repo_prefix.empty()) {
            m_r.diags().add(line, where +
                                      " sets neither push_repo nor push_repo_prefix; add push_repo: "
                                      "<registry>/<namespace>/<name>");
            return;
        }
        const auto* reg = c.registry_for(repo);
        const bool is_prefix = repo.push_repo.empty();
        std::string& target = is_prefix ? repo.push_repo_prefix : repo.push_repo;
        const std::string key = is_prefix ? "push_repo_prefix" : "push_repo";
        const int key_line = n[key] ? YamlReader::line_of(n[key]) : line;
        while (!target.empty() && target.back() == '/') target.pop_back();
        if (is_prefix) {
            if (repo.image_name.empty()) repo.image_name = to_lower(repo.github.substr(repo.github.find('/') + 1));
            if (!is_valid_repository_name(repo.image_name)) {
                m_r.diags().add(n["image_name"] ? YamlReader::line_of(n["image_name"]) : line,
                                where + ": image name '" + repo.image_name +
                                    "' is not a valid OCI repository name; set image_name: to lower-case letters, "
                                    "digits and . _ -");
            }
        }
        // A name without a registry host lives on the repository's registry.
        if (!has_registry_host(target + "/x") && reg && !reg->host.empty()) target = reg->host + "/" + target;
        auto ref = parse_image_ref(target + (is_prefix ? "/" + (repo.image_name.empty() ? "x" : repo.image_name) : ""));
        if (!ref) {
            m_r.diags().add(key_line, key + " '" + target + "': " + ref.error().message);
            return;
        }
        if (reg && !reg->host.empty() && ref->host != reg->host) {
            m_r.diags().add(key_line, key + " '" + target + "' is on host " + ref->host + " but registry '" +
                                          reg->name + "' is " + reg->host + "; make them agree");
        }
    }

    void parse_rule(const YAML::Node& n, RepositoryConfig& repo) {
        if (!m_r.expect_map(n, "each rule")) return;
        m_r.check_keys(n, k_rule_keys, "a rule");
        Rule rule;
        rule.line = YamlReader::line_of(n);
        read_choice(m_r, n, "source_type", "source_type", {{"branch", SourceType::branch}, {"tag", SourceType::tag}},
                    rule.source_type);
        m_r.read(n, "source", rule.source);
        m_r.read(n, "tag", rule.tag);
        m_r.read(n, "dockerfile", rule.dockerfile);
        m_r.read(n, "context", rule.context);
        m_r.read(n, "autobuild", rule.autobuild);
        m_r.read(n, "cache", rule.cache);
        m_r.read(n, "reuse", rule.reuse);
        m_r.read(n, "rebuild_on_base_change", rule.rebuild_on_base_change);
        m_r.read(n, "submodules", rule.submodules);
        m_r.read(n, "build_args", rule.build_args);
        m_r.read(n, "paths", rule.paths);
        m_r.read(n, "ignore_paths", rule.ignore_paths);
        read_platforms(m_r, n, "a rule", rule.platforms);

        if (rule.source.empty()) {
            m_r.diags().add(rule.line,
                            "a rule has no source; add source: main (a name) or source: '/^v(.*)$/' (a regex)");
        } else if (auto err = compile_source(rule); !err.empty()) {
            m_r.diags().add(YamlReader::line_of(n["source"]), err);
        }
        if (!n["tag"]) {
            m_r.diags().add(rule.line,
                            "a rule has no tag; add tag: latest, or tag: '{sourceref}' to use the "
                            "branch or tag name");
        } else if (auto err = check_tag_template(rule); !err.empty()) {
            m_r.diags().add(YamlReader::line_of(n["tag"]), err);
        }
        if (rule.dockerfile.empty()) {
            m_r.diags().add(YamlReader::line_of(n["dockerfile"]), "dockerfile is empty; leave it out for Dockerfile");
        }
        repo.rules.push_back(std::move(rule));
    }

    void validate_storage(const YAML::Node& root, const Config& c) {
        if (c.storage.rfind("sqlite:", 0) == 0 || c.storage.rfind("postgresql://", 0) == 0 ||
            c.storage.rfind("postgres://", 0) == 0) {
            return;
        }
        m_r.diags().add(
            YamlReader::line_of(root["storage"]),
            "storage must be sqlite:PATH or postgresql://user@host/db, not '" + util::redact_url(c.storage) + "'");
    }

    void parse_subscriber(const YAML::Node& n, Config& c) {
        if (!m_r.expect_map(n, "each subscriber")) return;
        m_r.check_keys(n, k_subscriber_keys, "a subscriber");
        Subscriber s;
        s.line = YamlReader::line_of(n);
        s.format = PayloadFormat::hookyard;
        m_r.read(n, "name", s.name);
        m_r.read(n, "url", s.url);
        read_choice(m_r, n, "format", "format",
                    {{"dockerhub", PayloadFormat::dockerhub}, {"hookyard", PayloadFormat::hookyard}}, s.format);
        m_r.read_secret(n, "secret", s.secret);
        m_r.read(n, "repositories", s.repositories);
        m_r.read(n, "events", s.events);
        if (s.name.empty()) m_r.diags().add(s.line, "a subscriber has no name; add name: (used in logs and the API)");
        if (!valid_http_url(s.url)) {
            m_r.diags().add(n["url"] ? YamlReader::line_of(n["url"]) : s.line,
                            "subscriber '" + s.name + "' needs url: an http(s) URL, e.g. https://hooks.example.com/x");
        }
        for (const auto& e : s.events) {
            if (std::find(k_events.begin(), k_events.end(), e) != k_events.end()) continue;
            const auto hint = did_you_mean(e, k_events);
            m_r.diags().add(YamlReader::line_of(n["events"]),
                            "unknown event '" + e + "'" + (hint.empty() ? "" : "; did you mean '" + hint + "'?") +
                                " (events: build.queued, build.started, build.succeeded, build.failed, "
                                "build.canceled, push)");
        }
        for (const auto& r : s.repositories) {
            if (c.find_repository(r) == nullptr) {
                m_r.diags().add(YamlReader::line_of(n["repositories"]),
                                "subscriber '" + s.name + "' names repository '" + r +
                                    "', which is not under repositories:; add it or fix the name");
            }
        }
        c.subscribers.push_back(std::move(s));
    }

    YamlReader m_r;
    const EnvLookup& m_env;
    std::string m_default_push_repo;
    std::string m_default_push_repo_prefix;
};

}  // namespace

LoadOutcome load_config_text(const std::string& text, const std::string& file_name, const EnvLookup& env) {
    Diagnostics diags(file_name);
    Config config;
    config.source_file = file_name;
    try {
        const YAML::Node root = YAML::Load(text);
        ConfigParser(diags, env).parse(root, config);
    } catch (const YAML::Exception& e) {
        diags.add(e.mark.line >= 0 ? e.mark.line + 1 : 0, "not valid YAML: " + e.msg);
    }
    LoadOutcome out;
    out.diagnostics = diags.items();
    out.warnings = diags.warnings();
    if (out.diagnostics.empty()) out.config = std::move(config);
    return out;
}

LoadOutcome load_config_file(const std::string& path, const EnvLookup& env) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        LoadOutcome out;
        out.diagnostics.push_back({path, 0, "cannot read the config file; check the path given with -c"});
        return out;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return load_config_text(text.str(), path, env);
}

std::string summarize(const Config& c) {
    std::size_t rules = 0;
    for (const auto& r : c.repositories) rules += r.rules.size();
    auto count = [](std::size_t n, const char* one, const char* many) {
        return std::to_string(n) + " " + (n == 1 ? one : many);
    };
    return c.source_file + ": valid: " + count(c.registries.size(), "registry", "registries") + ", " +
           count(c.repositories.size(), "repository", "repositories") + " (" + count(rules, "rule", "rules") + "), " +
           count(c.subscribers.size(), "subscriber", "subscribers");
}

}  // namespace hookyard::config
