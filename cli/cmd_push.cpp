// hookyard push OCI_LAYOUT_DIR[:NAME] IMAGE_REF... [-c FILE] [--credentials-file F]
//               [--username U --password-stdin] [--ca-file F] [--insecure-http] [--parallel N]

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>

#include "cli/commands.hpp"
#include "cli/config_file.hpp"
#include "config/image_ref.hpp"
#include "http/client.hpp"
#include "pipeline/registry/oci_layout.hpp"
#include "pipeline/registry/registry_client.hpp"

namespace hookyard::cli {
namespace {

constexpr const char* k_push_usage =
    "usage: hookyard push OCI_LAYOUT_DIR[:NAME] IMAGE_REF... [options]\n"
    "  -c, --config FILE         take registry endpoint/credentials/ca_file from the config's registries\n"
    "  --credentials-file F      docker config.json with {\"auths\":{host:{\"auth\":base64(user:pass)}}}\n"
    "  --username U              user name; the password (or token) is read from stdin with\n"
    "  --password-stdin\n"
    "  --ca-file F               PEM CA certificate trusted for the registry's TLS certificate\n"
    "  --insecure-http           talk plain http:// to registries not named in the config\n"
    "  --parallel N              blobs uploaded at once (default 4)\n"
    "Without credentials, $DOCKER_CONFIG/config.json or ~/.docker/config.json is used when present.\n";

struct PushArgs {
    std::string layout;
    std::vector<std::string> refs;
    std::string config_file, credentials_file, username, ca_file;
    bool password_stdin = false, insecure_http = false;
    std::size_t parallel = 4;
};

const ArgSpec& push_spec() {
    static const ArgSpec k_spec({{"--config", "-c"},
                                 {"--credentials-file"},
                                 {"--username"},
                                 {"--ca-file"},
                                 {"--parallel"},
                                 bool_flag("--password-stdin"),
                                 bool_flag("--insecure-http")});
    return k_spec;
}

// The push arguments, or nothing on a usage error.
std::optional<PushArgs> push_args_from(const ParsedArgs& parsed) {
    if (!parsed.problems.empty() || parsed.positionals.size() < 2) return std::nullopt;
    PushArgs out;
    out.layout = parsed.positionals.front();
    out.refs.assign(parsed.positionals.begin() + 1, parsed.positionals.end());
    out.config_file = parsed.value("--config");
    out.credentials_file = parsed.value("--credentials-file");
    out.username = parsed.value("--username");
    out.ca_file = parsed.value("--ca-file");
    out.password_stdin = parsed.has("--password-stdin");
    out.insecure_http = parsed.has("--insecure-http");
    if (parsed.has("--parallel")) {
        const int n = std::atoi(parsed.value("--parallel").c_str());
        if (n < 1) return std::nullopt;
        out.parallel = static_cast<std::size_t>(n);
    }
    if (out.layout.empty() || out.password_stdin != !out.username.empty()) return std::nullopt;
    return out;
}

std::string default_docker_config() {
    if (const char* dir = std::getenv("DOCKER_CONFIG"); dir && *dir) return std::string(dir) + "/config.json";
    if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.docker/config.json";
    return "";
}

// Registry client options for `host`: the config's registry with that host, else the host itself.
util::Result<pipeline::RegistryClientOptions> options_for(const std::string& host, const PushArgs& args,
                                                          const config::Config* config, const std::string& password,
                                                          std::string& ca_file) {
    pipeline::RegistryClientOptions options;
    options.registry = host;
    options.parallel_uploads = args.parallel;
    const config::RegistryConfig* chosen = nullptr;
    if (config) {
        for (const auto& [name, r] : config->registries) {
            if (r.host == host) chosen = &r;
        }
    }
    if (chosen) {
        options.api_base = chosen->api_base;
        options.username = chosen->username;
        options.password = chosen->password;
        options.credentials_file = chosen->credentials_file;
        ca_file = chosen->ca_file;
    } else if (args.insecure_http) {
        options.api_base = "http://" + host;
    } else {
        auto endpoint = config::normalize_endpoint(host);
        if (!endpoint) return endpoint.error();
        options.api_base = endpoint->api_base;
    }
    if (!args.username.empty()) {
        options.username = args.username;
        options.password = password;
    }
    if (!args.credentials_file.empty()) options.credentials_file = args.credentials_file;
    if (!args.ca_file.empty()) ca_file = args.ca_file;
    if (options.username.empty() && options.credentials_file.empty()) {
        const std::string fallback = default_docker_config();
        if (!fallback.empty() && std::filesystem::exists(fallback)) options.credentials_file = fallback;
    }
    return options;
}

// DIR:NAME picks an image of a layout holding several; a plain existing DIR is taken as is.
util::Result<pipeline::OciImage> load_layout(const std::string& arg) {
    std::string dir = arg, name;
    if (const auto colon = dir.rfind(':'); !std::filesystem::exists(dir) && colon != std::string::npos) {
        name = dir.substr(colon + 1);
        dir = dir.substr(0, colon);
    }
    return pipeline::load_oci_layout(dir, name);
}

// host → repository → tags, in the order given.
using Targets = std::map<std::string, std::map<std::string, std::vector<std::string>>>;

util::Result<Targets> parse_targets(const std::vector<std::string>& texts) {
    Targets targets;
    for (const auto& text : texts) {
        auto ref = config::parse_image_ref(text);
        if (!ref) return ref.error();
        if (ref->tag.empty()) ref->tag = "latest";
        targets[ref->host][ref->repository].push_back(ref->tag);
    }
    return targets;
}

util::Result<std::unique_ptr<pipeline::RegistryClient>> client_for(const std::string& host, const PushArgs& args,
                                                                   const config::Config* config,
                                                                   const std::string& password) {
    std::string ca_file;
    auto options = options_for(host, args, config, password, ca_file);
    if (!options) return options.error();
    http::ClientOptions http_options;
    http_options.ca_file = ca_file;
    auto http = http::make_client(http_options);
    if (!http) return http.error();
    return pipeline::make_registry_client(*options, std::shared_ptr<http::Client>(std::move(*http)));
}

// Pushes to every repository of one registry; returns the number of failed repositories.
int push_repositories(pipeline::RegistryClient& client, const pipeline::OciImage& image, const std::string& host,
                      const std::map<std::string, std::vector<std::string>>& repositories) {
    int failures = 0;
    for (const auto& [repository, tags] : repositories) {
        auto result = client.push(image, repository, tags);
        if (!result) {
            std::fprintf(stderr, "hookyard push: %s/%s: %s\n", host.c_str(), repository.c_str(),
                         result.error().message.c_str());
            ++failures;
            continue;
        }
        for (const auto& tag : tags) {
            std::printf("%s/%s:%s@%s\n", host.c_str(), repository.c_str(), tag.c_str(), result->digest.c_str());
        }
        std::fprintf(stderr,
                     "pushed %s/%s: %zu blob(s) uploaded (%llu bytes), %zu mounted, %zu already present, "
                     "%zu manifest(s) written\n",
                     host.c_str(), repository.c_str(), result->blobs_uploaded,
                     static_cast<unsigned long long>(result->bytes_uploaded), result->blobs_mounted,
                     result->blobs_skipped, result->manifests_put);
    }
    return failures;
}

int fail(const util::Error& error) {
    std::fprintf(stderr, "hookyard push: %s\n", error.message.c_str());
    return 2;
}

}  // namespace

int cmd_push(const Args& args) {
    const auto flags = parse_args(args, push_spec());
    if (flags.help) return print_usage(k_push_usage, true);
    const auto parsed = push_args_from(flags);
    if (!parsed) return print_usage(k_push_usage, false);
    std::string password;
    if (parsed->password_stdin) {
        password.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
        while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
    }
    std::optional<config::Config> config;
    if (!parsed->config_file.empty()) {
        config = load_config_or_report(parsed->config_file);
        if (!config) return 2;
    }
    auto image = load_layout(parsed->layout);
    if (!image) return fail(image.error());
    auto targets = parse_targets(parsed->refs);
    if (!targets) return fail(targets.error());
    int failures = 0;
    for (const auto& [host, repositories] : *targets) {
        auto client = client_for(host, *parsed, config ? &*config : nullptr, password);
        if (!client) return fail(client.error());
        failures += push_repositories(**client, *image, host, repositories);
    }
    std::fflush(stdout);
    return failures == 0 ? 0 : 1;
}

}  // namespace hookyard::cli
