#include "api/provenance.hpp"

#include "util/log.hpp"

namespace hookyard::api {
namespace {

// {"sha256": "<hex>"} of "sha256:<hex>"; {} for anything else.
nlohmann::json digest_set(const std::string& digest) {
    constexpr std::string_view k_prefix = "sha256:";
    if (digest.rfind(k_prefix, 0) != 0) return nlohmann::json::object();
    return {{"sha256", digest.substr(k_prefix.size())}};
}

nlohmann::json subjects(const storage::Build& b) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [image, digest] : b.pushed) {
        if (image.rfind("platform:", 0) == 0) continue;  // a platform's manifest, not a pushed reference
        out.push_back({{"name", image}, {"digest", digest_set(digest)}});
    }
    return out;
}

nlohmann::json dependencies(const storage::Build& b) {
    nlohmann::json out = nlohmann::json::array();
    const std::string source = "git+" + util::redact_url(b.clone_url);
    out.push_back({{"uri", source + "@" + b.ref}, {"digest", {{"gitCommit", b.commit}}}});
    for (const auto& [image, digest] : b.base_images) {
        out.push_back({{"uri", "docker://" + image}, {"digest", digest_set(digest)}});
    }
    return out;
}

}  // namespace

nlohmann::json provenance_statement(const storage::Build& b) {
    nlohmann::json arg_names = nlohmann::json::array();
    for (const auto& [name, value] : b.build_args) arg_names.push_back(name);
    nlohmann::json external = {{"repository", b.repository},
                               {"ref", b.ref},
                               {"commit", b.commit},
                               {"rule", b.rule},
                               {"dockerfile", b.dockerfile},
                               {"context", b.context},
                               {"build_args", std::move(arg_names)},
                               {"image", b.image},
                               {"tags", b.tags}};
    nlohmann::json internal = {{"trigger", {{"type", b.trigger_type}, {"reason", b.trigger_reason}}},
                               {"identity", b.identity}};
    if (b.reused_from > 0) internal["reused_from"] = b.reused_from;
    nlohmann::json metadata = {{"invocationId", std::to_string(b.id)}};
    if (b.started_at > 0) metadata["startedOn"] = storage::format_rfc3339(b.started_at);
    if (b.finished_at > 0) metadata["finishedOn"] = storage::format_rfc3339(b.finished_at);
    return {{"_type", "https://in-toto.io/Statement/v1"},
            {"subject", subjects(b)},
            {"predicateType", "https://slsa.dev/provenance/v1"},
            {"predicate",
             {{"buildDefinition",
               {{"buildType", "https://github.com/hookyard/hookyard/buildtypes/buildah@v1"},
                {"externalParameters", std::move(external)},
                {"internalParameters", std::move(internal)},
                {"resolvedDependencies", dependencies(b)}}},
              {"runDetails", {{"builder", {{"id", "hookyard"}}}, {"metadata", std::move(metadata)}}}}}};
}

}  // namespace hookyard::api
