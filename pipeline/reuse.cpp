#include "pipeline/reuse.hpp"

#include <fstream>
#include <sstream>

#include "config/image_ref.hpp"
#include "pipeline/build_identity.hpp"

namespace hookyard::pipeline {
namespace {

// The host of an image reference ("debian:12" → docker.io); "" when it does not parse.
std::string host_of(const std::string& image) {
    auto ref = config::parse_image_ref(image.substr(0, image.find('@')));
    return ref ? ref->host : "";
}

// Every base image's digest, one HEAD each (a reference pinned by digest needs none); false when one
// could not be resolved (logged).
bool resolve_bases(const config::Config& config, ImagePusher& pusher, const std::vector<std::string>& bases,
                   std::map<std::string, std::string>& out, const LogSink& log, CancelToken& token) {
    for (const auto& base : bases) {
        if (const auto at = base.find('@'); at != std::string::npos) {
            out[base] = base.substr(at + 1);
            continue;
        }
        const std::string host = host_of(base);
        auto digest =
            host.empty()
                ? util::Result<std::string>(util::make_error(util::ErrorKind::invalid_input, "not an image reference"))
                : pusher.resolve(pull_registry_for(config, host), base, token);
        if (!digest) {
            log("hookyard: base image " + base + " not resolved (" + digest.error().message + "); no reuse");
            return false;
        }
        out[base] = *digest;
    }
    return true;
}

util::Result<std::string> read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return util::make_error(util::ErrorKind::invalid_input, "cannot read " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// The identity of the located build with its base images resolved; "" (logged) when it has none.
std::string compute_identity(const config::Config& config, ImagePusher& pusher, const ReuseInputs& in,
                             ReuseDecision& out, const LogSink& log, CancelToken& token) {
    auto text = read_text(in.location.dockerfile);
    auto context = context_digest(in.location.context_dir);
    if (!text || !context) {
        log("hookyard: no build identity: " + (text ? context.error() : text.error()).message);
        return "";
    }
    const DockerfileFacts facts = read_dockerfile(*text, in.build.build_args);
    if (!facts.unresolved.empty()) {
        log("hookyard: no build identity: FROM " + facts.unresolved + " names a variable no build arg sets");
        return "";
    }
    IdentityInputs id;
    out.final_base = facts.final_base;
    if (!resolve_bases(config, pusher, facts.bases, id.base_digests, log, token)) return "";
    out.base_images = id.base_digests;
    id.context_digest = *context;
    id.dockerfile_path = in.location.dockerfile_rel;
    id.dockerfile_text = *text;
    id.build_args = in.build.build_args;
    id.automatic_args = declared_automatic_args(facts, in.automatic_args);
    id.platforms = in.platforms;
    id.hooks = in.repo.hooks;
    return build_identity(id);
}

// The last succeeded build of `identity` whose image the target registry still has; logged either way.
std::optional<storage::Build> find_source(const config::Config& config, storage::Store& store, ImagePusher& pusher,
                                          const ReuseInputs& in, const std::string& identity, const LogSink& log,
                                          CancelToken& token) {
    auto found = store.find_reusable(identity);
    if (!found || !*found) return std::nullopt;
    const storage::Build& source = **found;
    const std::string host = host_of(source.image);
    if (host != host_of(in.build.image)) {
        log("hookyard: #" + std::to_string(source.id) + " built the same image on " + host + "; building here");
        return std::nullopt;
    }
    auto digest = pusher.resolve(pull_registry_for(config, host), source.image + "@" + source.digest, token);
    if (!digest) {
        log("hookyard: #" + std::to_string(source.id) + " built the same image, but " + source.image + "@" +
            source.digest + " is not available (" + digest.error().message + "); building");
        return std::nullopt;
    }
    return source;
}

}  // namespace

config::RegistryConfig pull_registry_for(const config::Config& config, const std::string& host) {
    for (const auto& [name, registry] : config.registries) {
        if (registry.host == host) return registry;
    }
    config::RegistryConfig anonymous;
    anonymous.name = host;
    anonymous.host = host;
    anonymous.endpoint = host;
    anonymous.docker_hub = host == "docker.io";
    anonymous.api_base = anonymous.docker_hub ? "https://registry-1.docker.io" : "https://" + host;
    return anonymous;
}

ReuseDecision decide_reuse(const config::Config& config, storage::Store& store, ImagePusher& pusher,
                           const ReuseInputs& in, const LogSink& log, CancelToken& token) {
    ReuseDecision out;
    out.identity = compute_identity(config, pusher, in, out, log, token);
    const bool allowed = in.build.reuse && (in.rule == nullptr || in.rule->reuse);
    if (!out.identity.empty() && allowed) {
        out.source = find_source(config, store, pusher, in, out.identity, log, token);
        if (out.source) out.reused_from = out.source->reused_from > 0 ? out.source->reused_from : out.source->id;
    } else if (!allowed) {
        log(in.build.trigger_type == "retry" ? "hookyard: a retry always builds"
                                             : "hookyard: reuse is off for this build");
    }
    if (auto st = store.record_identity(in.build.id, out.identity, out.base_images, out.reused_from); !st) {
        log("hookyard: could not record the build identity: " + st.error().message);
    }
    return out;
}

std::map<std::string, std::string> provenance_labels(const std::string& source_url, const std::string& commit,
                                                     const ReuseDecision& decision) {
    const std::string prefix = "org.opencontainers.image.";
    std::map<std::string, std::string> labels{{prefix + "source", source_url},
                                              {prefix + "revision", commit},
                                              {prefix + "created", storage::format_rfc3339(storage::now_ms())}};
    if (!decision.final_base.empty()) {
        labels[prefix + "base.name"] = decision.final_base;
        const auto digest = decision.base_images.find(decision.final_base);
        if (digest != decision.base_images.end()) labels[prefix + "base.digest"] = digest->second;
    }
    return labels;
}

util::Result<std::string> push_reused(storage::Store& store, ImagePusher& pusher, const storage::Build& build,
                                      const storage::Build& source, const config::RegistryConfig& registry,
                                      const LogSink& log, CancelToken& token) {
    PushRequest req;
    req.registry = registry;
    for (const auto& tag : build.tags) req.images.push_back(build.image + ":" + tag);
    auto digest = pusher.retag(source.image + "@" + source.digest, req, log, token);
    if (!digest) return digest.error();
    std::map<std::string, std::string> pushed;
    for (const auto& image : req.images) pushed[image] = *digest;
    for (const auto& [image, d] : source.pushed) {
        if (image.rfind("platform:", 0) == 0) pushed[image] = d;
    }
    for (const auto& [image, d] : pushed) {
        if (image.rfind("platform:", 0) != 0) log("hookyard: pushed " + image + "@" + d);
        if (auto st = store.record_pushed(build.id, image, d); !st) {
            log("hookyard: could not record the push: " + st.error().message);
        }
    }
    return digest;
}

}  // namespace hookyard::pipeline
