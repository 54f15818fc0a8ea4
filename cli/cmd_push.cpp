// hookyard push OCI_LAYOUT_DIR[:NAME] IMAGE_REF... [-c FILE] [--credentials-file F]
//               [--username U --password-stdin] [--ca-file F] [--insecure-http] [--parallel N]

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>

#include "config/image_ref.hpp"
#include "config/loader.hpp"
#include "http/client.hpp"
#include "pipeline/registry/oci_layout.hpp"
#include "pipeline/registry/registry_client.hpp"
#include "cli/commands.hpp"

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

std::optional<PushArgs> parse_args(const Args& args) {
    PushArgs out;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](std::string& into) {
            if (i + 1 >= args.size()) return false;
            into = args[++i];
            return true;
        };
        if (a == "-c" || a == "--config") {
            if (!value(out.config_file)) return std::nullopt;
        } else if (a.rfind("--config=", 0) == 0) {
            out.config_file = a.substr(9);
        } else if (a == "--credentials-file") {
            if (!value(out.credentials_file)) return std::nullopt;
        } else if (a == "--username") {
            if (!value(out.username)) return std::nullopt;
        } else if (a == "--ca-file") {
            if (!value(out.ca_file)) return std::nullopt;
        } else if (a == "--password-stdin") {
            out.password_stdin = true;
        } else if (a == "--insecure-http") {
            out.insecure_http = true;
        } else if (a == "--parallel") {
            std::string n;
            if (!value(n) || std::atoi(n.c_str()) < 1) return std::nullopt;
            out.parallel = static_cast<std::size_t>(std::atoi(n.c_str()));
        } else if (!a.empty() && a[0] == '-') {
            return std::nullopt;
        } else if (out.layout.empty()) {
            out.layout = a;
        } else {
            out.refs.push_back(a);
        }
    }
    if (out.layout.empty() || out.refs.empty() || (out.password_stdin != !out.username.empty())) return std::nullopt;
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

}  // namespace

int cmd_push(const Args& args) {
    for (const auto& a : args) {
        if (a == "--help" || a == "-h") {
            std::printf("%s", k_push_usage);
            return 0;
        }
    }
    const auto parsed = parse_args(args);
    if (!parsed) {
        std::fprintf(stderr, "%s", k_push_usage);
        return 2;
    }
    std::string password;
    if (parsed->password_stdin) {
        password.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
        while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
    }
    std::optional<config::Config> config;
    if (!parsed->config_file.empty()) {
        auto outcome = config::load_config_file(parsed->config_file);
        if (!outcome.config) {
            for (const auto& d : outcome.diagnostics) std::fprintf(stderr, "%s\n", d.str().c_str());
            return 2;
        }
        config = std::move(outcome.config);
    }

    // DIR:NAME picks an image of a layout holding several; a plain existing DIR is taken as is.
    std::string dir = parsed->layout, name;
    if (const auto colon = dir.rfind(':'); !std::filesystem::exists(dir) && colon != std::string::npos) {
        name = dir.substr(colon + 1);
        dir = dir.substr(0, colon);
    }
    auto image = pipeline::load_oci_layout(dir, name);
    if (!image) {
        std::fprintf(stderr, "hookyard push: %s\n", image.error().message.c_str());
        return 2;
    }

    // host → repository → tags, in the order given.
    std::map<std::string, std::map<std::string, std::vector<std::string>>> targets;
    std::vector<config::ImageRef> refs;
    for (const auto& text : parsed->refs) {
        auto ref = config::parse_image_ref(text);
        if (!ref) {
            std::fprintf(stderr, "hookyard push: %s\n", ref.error().message.c_str());
            return 2;
        }
        if (ref->tag.empty()) ref->tag = "latest";
        targets[ref->host][ref->repository].push_back(ref->tag);
        refs.push_back(*ref);
    }

    int failures = 0;
    for (const auto& [host, repositories] : targets) {
        std::string ca_file;
        auto options = options_for(host, *parsed, config ? &*config : nullptr, password, ca_file);
        if (!options) {
            std::fprintf(stderr, "hookyard push: %s\n", options.error().message.c_str());
            return 2;
        }
        http::ClientOptions http_options;
        http_options.ca_file = ca_file;
        auto http = http::make_client(http_options);
        if (!http) {
            std::fprintf(stderr, "hookyard push: %s\n", http.error().message.c_str());
            return 2;
        }
        auto client = pipeline::make_registry_client(*options, std::shared_ptr<http::Client>(std::move(*http)));
        if (!client) {
            std::fprintf(stderr, "hookyard push: %s\n", client.error().message.c_str());
            return 2;
        }
        for (const auto& [repository, tags] : repositories) {
            auto result = (*client)->push(*image, repository, tags);
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
    }
    std::fflush(stdout);
    return failures == 0 ? 0 : 1;
}

}  // namespace hookyard::cli
