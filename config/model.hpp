#pragma once
// The configuration model: plain values, filled and validated by load_config() (loader.hpp).
// Every field holds its final value: environment references are expanded, *_file secrets read,
// defaults applied, registry endpoints normalised.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/cluster.hpp"
#include "config/ui.hpp"

namespace re2 {
class RE2;
}  // namespace re2

namespace hookyard::config {

struct ServerConfig {
    std::string listen = "0.0.0.0:8080";
    std::string webhook_secret;  // HMAC key for X-Hub-Signature-256; empty = config error when repos exist
    std::string api_token;       // bearer token for /api/v1; empty = API disabled (401 everywhere)
    std::string public_url;      // base URL used in links (GitHub target_url, Docker Hub callback_url)
    int max_connections = 1024;  // open client connections; more are closed as soon as accepted
    // Requests per second per client address on the token routes (trigger, callback); 0 = no limit.
    int rate_limit = 10;
};

// How RUN steps are isolated from the host (builder.isolation). oci: buildah --isolation oci with its own
// PID, IPC, UTS, mount and network namespaces; chroot: buildah --isolation chroot, which shares the host's
// processes and network (a RUN step sees every process's command line and the host's loopback).
enum class Isolation { oci, chroot };
const char* to_string(Isolation i);

// builder.network.mode. filtered ("private" in the config): outbound connections through a NATed bridge,
// except to the host itself, loopback, link-local and private ranges not listed in `allow`; none: no network.
enum class NetworkMode { filtered, none };

struct BuilderNetwork {
    NetworkMode mode = NetworkMode::filtered;
    std::vector<std::string> allow;  // CIDRs (IPv4 or IPv6, "a.b.c.d" = /32) RUN steps may reach anyway
};

// builder.limits: per build, for all of its RUN steps together. 0 = no limit.
struct BuilderLimits {
    std::uint64_t memory = 4ULL * 1024 * 1024 * 1024;  // bytes
    int pids = 4096;
    double cpus = 2;
};

struct BuilderConfig {
    std::string engine = "buildah";
    int concurrency = 2;
    std::chrono::seconds timeout{3600};
    bool cache = true;
    bool keep_failed_workdirs = false;
    // Per-build log cap in bytes: past it the stored log keeps its head and tail around a marker line.
    std::uint64_t max_log_size = 16ULL * 1024 * 1024;
    // Below this much free space on the data dir or buildah's storage, builds wait (state queued), the
    // pruner runs and /healthz reports degraded.
    std::uint64_t min_free_space = 5ULL * 1024 * 1024 * 1024;
    // The disk the layer cache (images hookyard built) may use in buildah's storage.
    std::uint64_t cache_max_size = 20ULL * 1024 * 1024 * 1024;
    // Base images: always (re-check the registry each build, pull what changed) | missing | never.
    std::string pull = "always";
    Isolation isolation = Isolation::oci;
    // Default platforms of every rule ("linux/arm64", normalised, see platform.hpp); empty = the host's only.
    std::vector<std::string> platforms;
    int platform_parallelism = 2;  // platforms of one multi-platform build built at once
    BuilderNetwork network;
    BuilderLimits limits;
};

// What a multi-platform push puts at each tag: an OCI image index, or Docker's manifest list (registries
// that predate OCI indexes).
enum class ManifestFormat { oci, docker };

// A registry endpoint after normalisation (see image_ref.hpp, normalize_endpoint).
struct RegistryConfig {
    std::string name;
    std::string endpoint;  // as written, for messages
    std::string api_base;  // scheme://host[:port] the client talks to, e.g. https://registry-1.docker.io
    std::string host;      // host[:port] as it appears in image references, e.g. docker.io
    bool docker_hub = false;
    std::string username;
    std::string password;          // secret: never printed
    std::string credentials_file;  // docker config.json, re-read at every push
    std::string ca_file;
    ManifestFormat manifest_format = ManifestFormat::oci;
    int line = 0;
};

struct GitCredentials {
    std::string token;     // https: sent as basic auth x-access-token:<token>; secret
    std::string username;  // https basic auth user when not using a token
    std::string password;  // secret
    std::string ssh_key_file;
    std::string ssh_known_hosts_file;
    bool empty() const { return token.empty() && password.empty() && ssh_key_file.empty(); }
};

// Where submodules may be fetched from besides the superproject's host (top-level git: block).
struct SubmoduleConfig {
    std::vector<std::string> hosts;  // git.submodule_hosts: fetched without credentials
    bool allow_local = false;        // git.allow_local_submodules: file:// URLs and local paths
};

enum class SourceType { branch, tag };
const char* to_string(SourceType t);

struct Rule {
    SourceType source_type = SourceType::branch;
    std::string source;  // literal name, or the pattern between slashes when is_regex
    bool is_regex = false;
    std::shared_ptr<const re2::RE2> regex;  // compiled when is_regex (RE2 syntax, matched in full)
    unsigned capture_groups = 0;
    std::string tag;  // template, comma-separated list
    std::string dockerfile = "Dockerfile";
    std::string context = "/";
    bool autobuild = true;
    std::optional<bool> cache;  // overrides builder.cache when set
    bool submodules = false;
    std::map<std::string, std::string> build_args;
    std::vector<std::string> paths;
    std::vector<std::string> ignore_paths;
    std::vector<std::string> platforms;  // overrides builder.platforms when not empty
    // Re-tag the image of a succeeded build with the same identity instead of building (pipeline/reuse.hpp).
    bool reuse = true;
    // Rebuild the last succeeded commit when a base image it was built FROM changes (base_images.hpp).
    bool rebuild_on_base_change = false;
    int line = 0;
};

// Which pull requests build (Docker Hub's Autotest): none, those from branches of the repository itself, or
// forks' too.
enum class Autotest { off, internal, external };

struct RepositoryConfig {
    std::string github;  // owner/name, as repository.full_name in the payload
    std::string registry;
    std::string push_repo;         // full image name without tag, host included after loading
    std::string push_repo_prefix;  // full prefix, host included after loading
    std::string image_name;        // defaults to the lower-cased repository name
    // push_repo is the shared HOOKYARD_REGISTRY_PUSH_REPO (the repository sets no naming key): its tags are
    // "<image_name>-<tag>", as PrimeHub names images in customImage.pushRepo (config/naming.hpp).
    bool shared_push_repo = false;
    std::string clone_url;      // empty = take repository.clone_url from the payload
    std::string trigger_token;  // secret for POST /api/v1/trigger/{token}
    bool hooks = false;         // run Docker Hub build hooks (they execute on the build host)
    // Let a tag that sanitising changed overwrite the same tag of another ref (off: such a build fails).
    bool allow_tag_collisions = false;
    GitCredentials git;  // overrides the global git credentials when not empty
    Autotest autotest = Autotest::off;
    // pull_requests.push_tag: the tag template a pull request of the repository itself pushes ("pr-{pr}");
    // empty = pull request builds push nothing. A fork's never push.
    std::string pr_push_tag;
    int pr_push_tag_line = 0;
    // Rebuild the rules' last succeeded commits when hookyard pushes an image of one of these repositories.
    std::vector<std::string> rebuild_when_pushed;
    std::vector<Rule> rules;
    int line = 0;
};

enum class PayloadFormat { dockerhub, hookyard };

struct Subscriber {
    std::string name;
    std::string url;
    PayloadFormat format = PayloadFormat::hookyard;
    std::string secret;                     // HMAC key for format hookyard; secret
    std::vector<std::string> repositories;  // empty = all
    std::vector<std::string> events;        // empty = the format's default events
    int line = 0;
};

struct GithubConfig {
    std::string token;  // enables commit statuses; secret
    std::string api_url = "https://api.github.com";
    std::string url = "https://github.com";  // where repositories are cloned from (GitHub Enterprise: its own)
};

struct NotifyConfig {
    int max_attempts = 8;
    std::chrono::seconds timeout{10};
    std::chrono::seconds initial_backoff{2};
};

// What the pruner keeps (retention:). Builds older than `builds` go with their logs, stages,
// notifications, attempts and callbacks, except the last `keep_per_rule` of each repository+rule and the
// last succeeded one of each repository+rule+ref.
struct RetentionConfig {
    std::chrono::seconds builds{90 * 24 * 3600};
    int keep_per_rule = 20;
    std::chrono::seconds deliveries{30 * 24 * 3600};
    std::chrono::seconds kept_workdirs{7 * 24 * 3600};
    std::chrono::seconds interval{3600};
};

// base_images: (config/base_images.hpp reads it).
struct BaseImagesConfig {
    // Between two checks of every base image opted-in rules' last builds used (jittered by ±10%).
    std::chrono::seconds watch_interval{3600};
};

struct Config {
    std::string source_file;
    ServerConfig server;
    std::string data_dir = "./hookyard-data";
    std::string storage;  // "sqlite:PATH" or "postgresql://…"; default sqlite:<data_dir>/hookyard.db
    BuilderConfig builder;
    std::map<std::string, RegistryConfig> registries;
    std::vector<RepositoryConfig> repositories;
    std::vector<Subscriber> subscribers;
    GitCredentials git;
    SubmoduleConfig submodules;
    GithubConfig github;
    NotifyConfig notify;
    RetentionConfig retention;
    BaseImagesConfig base_images;
    UiConfig ui;
    ClusterConfig cluster;

    // The repository entry for a GitHub full name (case-insensitive, as GitHub names are), or nullptr.
    const RepositoryConfig* find_repository(std::string_view full_name) const;
    // The registry a repository pushes to, or nullptr when it names none.
    const RegistryConfig* registry_for(const RepositoryConfig& repo) const;
    // The git credentials for a repository: its own when set, else the global ones.
    const GitCredentials& git_for(const RepositoryConfig& repo) const;
};

}  // namespace hookyard::config
