#include "pipeline/registry/index_push.hpp"

#include <nlohmann/json.hpp>
#include <set>

#include "util/digest.hpp"

namespace hookyard::pipeline {
namespace {

using nlohmann::json;
using util::ErrorKind;
using util::make_error;

constexpr std::string_view k_docker_config = "application/vnd.docker.container.image.v1+json";
constexpr std::string_view k_docker_layer_gzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
constexpr std::string_view k_docker_layer_tar = "application/vnd.docker.image.rootfs.diff.tar";

ManifestBlob manifest_blob(std::string_view media_type, const json& body) {
    ManifestBlob blob;
    blob.content = body.dump();
    blob.descriptor.media_type = media_type;
    blob.descriptor.digest = util::sha256_digest(blob.content);
    blob.descriptor.size = blob.content.size();
    return blob;
}

// The same image as a Docker schema 2 manifest: the blobs are unchanged, only their media types are
// Docker's (and the OCI-only annotations go).
util::Result<ManifestBlob> to_docker_manifest(const ManifestBlob& oci) {
    if (oci.descriptor.media_type == k_docker_manifest) return oci;
    auto body = json::parse(oci.content, nullptr, false);
    if (body.is_discarded() || !body.contains("config") || !body.contains("layers")) {
        return make_error(ErrorKind::invalid_input, "manifest " + oci.descriptor.digest + " is not an image manifest");
    }
    body["mediaType"] = k_docker_manifest;
    body.erase("annotations");
    body["config"]["mediaType"] = k_docker_config;
    for (auto& layer : body["layers"]) {
        const std::string type = layer.value("mediaType", "");
        if (type.find("gzip") != std::string::npos) {
            layer["mediaType"] = k_docker_layer_gzip;
        } else if (type.size() > 4 && type.compare(type.size() - 4, 4, ".tar") == 0) {
            layer["mediaType"] = k_docker_layer_tar;
        } else {
            return make_error(ErrorKind::invalid_input,
                              "layer media type " + type + " has no Docker equivalent; use manifest_format: oci");
        }
        layer.erase("annotations");
    }
    return manifest_blob(k_docker_manifest, body);
}

json platform_object(const config::Platform& p) {
    json out = {{"architecture", p.arch}, {"os", p.os}};
    if (!p.variant.empty()) out["variant"] = p.variant;
    return out;
}

}  // namespace

util::Result<OciImage> make_platform_index(const std::vector<PlatformImage>& platforms, config::ManifestFormat format) {
    if (platforms.empty()) return make_error(ErrorKind::invalid_input, "a multi-platform image needs a platform");
    const bool docker = format == config::ManifestFormat::docker;
    OciImage out;
    out.layout_dir = platforms.front().image.layout_dir;
    json manifests = json::array();
    std::set<std::string> seen;
    for (const auto& [platform, image] : platforms) {
        if (!image.children.empty() || is_index_media_type(image.root.descriptor.media_type)) {
            return make_error(ErrorKind::invalid_input,
                              "the " + platform.text() + " image in " + image.layout_dir + " is already an index");
        }
        auto child = docker ? to_docker_manifest(image.root) : util::Result<ManifestBlob>(image.root);
        if (!child) return child.error();
        manifests.push_back({{"mediaType", child->descriptor.media_type},
                             {"digest", child->descriptor.digest},
                             {"size", child->descriptor.size},
                             {"platform", platform_object(platform)}});
        out.children.push_back(std::move(*child));
        for (const auto& blob : image.blobs) {
            if (!seen.insert(blob.digest).second) continue;
            out.blobs.push_back(blob);
            out.blob_dirs[blob.digest] = image.layout_dir;
        }
    }
    const std::string_view root_type = docker ? k_docker_manifest_list : k_oci_index;
    out.root = manifest_blob(root_type, {{"schemaVersion", 2}, {"mediaType", root_type}, {"manifests", manifests}});
    return out;
}

bool is_manifest_type_refused(const util::Error& error) {
    if (error.kind != ErrorKind::invalid_input) return false;
    const std::string& m = error.message;
    return m.find("HTTP 415") != std::string::npos || m.find("MANIFEST_INVALID") != std::string::npos ||
           m.find("MANIFEST_UNSUPPORTED") != std::string::npos;
}

}  // namespace hookyard::pipeline
