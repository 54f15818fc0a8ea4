#include "pipeline/registry_pusher.hpp"

#include "config/image_ref.hpp"
#include "config/platform.hpp"
#include "pipeline/registry/index_push.hpp"
#include "pipeline/scheduler.hpp"

namespace hookyard::pipeline {

util::Result<RegistryClient*> RegistryPusher::client_for(const config::RegistryConfig& registry) {
    const std::string key = registry.name + "\n" + registry.api_base + "\n" + registry.ca_file + "\n" +
                            registry.username + "\n" + registry.credentials_file;
    std::lock_guard lock(m_mutex);
    if (auto it = m_clients.find(key); it != m_clients.end()) return it->second.get();
    http::ClientOptions http_options;
    http_options.ca_file = registry.ca_file;
    auto http = http::make_client(http_options);
    if (!http) return http.error();
    RegistryClientOptions options;
    options.api_base = registry.api_base;
    options.registry = registry.host;
    options.username = registry.username;
    options.password = registry.password;
    options.credentials_file = registry.credentials_file;
    auto client = make_registry_client(options, std::shared_ptr<http::Client>(std::move(*http)));
    if (!client) return client.error();
    auto* raw = client->get();
    m_clients.emplace(key, std::move(*client));
    return raw;
}

util::Result<std::string> RegistryPusher::push(const PushRequest& request, const LogSink& log, CancelToken& token) {
    if (token.canceled()) return util::make_error(util::ErrorKind::canceled, "canceled before the push");
    auto image = load_oci_layout(request.layout_dir, request.layout_ref);
    if (!image) return image.error();
    return push_image(*image, request, log, token);
}

util::Result<PushedIndex> RegistryPusher::push_platforms(const PushRequest& request, const LogSink& log,
                                                         CancelToken& token) {
    if (token.canceled()) return util::make_error(util::ErrorKind::canceled, "canceled before the push");
    std::vector<PlatformImage> images;
    for (const auto& layout : request.platforms) {
        std::string error;
        auto platform = config::parse_platform(layout.platform, &error);
        if (!platform) return util::make_error(util::ErrorKind::invalid_input, error);
        auto image = load_oci_layout(layout.layout_dir, layout.layout_ref);
        if (!image) return image.error();
        images.push_back({*platform, std::move(*image)});
    }
    auto format = request.registry.manifest_format;
    {
        const std::lock_guard lock(m_mutex);
        if (m_refuse_oci_index.count(request.registry.api_base) != 0) format = config::ManifestFormat::docker;
    }
    auto index = make_platform_index(images, format);
    if (!index) return index.error();
    auto digest = push_image(*index, request, log, token);
    if (!digest && format == config::ManifestFormat::oci && is_manifest_type_refused(digest.error())) {
        log("hookyard: " + request.registry.host + " refused the OCI image index (" + digest.error().message +
            "); pushing a Docker manifest list instead (manifest_format: docker skips this attempt)");
        format = config::ManifestFormat::docker;
        {
            const std::lock_guard lock(m_mutex);
            m_refuse_oci_index.insert(request.registry.api_base);
        }
        index = make_platform_index(images, format);
        if (!index) return index.error();
        digest = push_image(*index, request, log, token);
    }
    if (!digest) return digest.error();
    PushedIndex pushed{*digest, {}};
    for (std::size_t i = 0; i < images.size(); ++i) {
        pushed.platforms.emplace_back(request.platforms[i].platform, index->children[i].descriptor.digest);
    }
    return pushed;
}

namespace {

// "host/repository" and the tag or digest of an image reference ("latest" when it has neither).
util::Result<std::pair<config::ImageRef, std::string>> split_reference(const std::string& image) {
    const auto at = image.find('@');
    auto ref = config::parse_image_ref(image.substr(0, at));
    if (!ref) return ref.error();
    std::string reference = at != std::string::npos ? image.substr(at + 1) : ref->tag.empty() ? "latest" : ref->tag;
    return std::make_pair(*ref, reference);
}

}  // namespace

util::Result<std::string> RegistryPusher::resolve(const config::RegistryConfig& registry, const std::string& image,
                                                  CancelToken& token) {
    auto parts = split_reference(image);
    if (!parts) return parts.error();
    auto client = client_for(registry);
    if (!client) return client.error();
    return (*client)->manifest_digest(parts->first.repository, parts->second, &token);
}

util::Result<std::string> RegistryPusher::retag(const std::string& source, const PushRequest& request,
                                                const LogSink& log, CancelToken& token) {
    auto from = split_reference(source);
    if (!from) return from.error();
    auto client = client_for(request.registry);
    if (!client) return client.error();
    std::map<std::string, std::vector<std::string>> tags_by_repo;
    for (const auto& ref_text : request.images) {
        auto ref = split_reference(ref_text);
        if (!ref) return ref.error();
        tags_by_repo[ref->first.repository].push_back(ref->second);
    }
    for (const auto& [repository, tags] : tags_by_repo) {
        auto result = (*client)->retag(from->first.repository, from->second, repository, tags, &token);
        if (!result) return result.error();
        log("hookyard: re-tagged " + source + " as " + request.registry.host + "/" + repository + " (" +
            std::to_string(result->manifests_put) + " manifests put, " + std::to_string(result->blobs_mounted) +
            " blobs mounted)");
    }
    return from->second;
}

util::Result<std::string> RegistryPusher::push_image(const OciImage& image, const PushRequest& request,
                                                     const LogSink& log, CancelToken& token) {
    auto client = client_for(request.registry);
    if (!client) return client.error();
    // Group the tags by repository: one push per repository, every tag at once.
    std::map<std::string, std::vector<std::string>> tags_by_repo;
    for (const auto& ref_text : request.images) {
        auto ref = config::parse_image_ref(ref_text);
        if (!ref) return ref.error();
        if (ref->tag.empty()) {
            return util::make_error(util::ErrorKind::invalid_input, "image reference " + ref_text + " has no tag");
        }
        tags_by_repo[ref->repository].push_back(ref->tag);
    }
    std::string digest;
    for (const auto& [repository, tags] : tags_by_repo) {
        log("hookyard: pushing " + std::to_string(image.blobs.size()) + " blobs (" +
            std::to_string(image.total_blob_bytes()) + " bytes) to " + request.registry.host + "/" + repository);
        auto result = (*client)->push(image, repository, tags, &token);
        if (!result) return result.error();
        log("hookyard: " + std::to_string(result->blobs_uploaded) + " uploaded, " +
            std::to_string(result->blobs_mounted) + " mounted, " + std::to_string(result->blobs_skipped) +
            " already there; manifest " + result->digest);
        digest = result->digest;
    }
    return digest;
}

}  // namespace hookyard::pipeline
