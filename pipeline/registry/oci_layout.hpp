#pragma once
// Reading an OCI image layout directory (index.json + blobs/sha256/…), as `buildah push IMG oci:DIR:TAG`
// writes it, into what a push needs: the manifests' exact bytes and the blobs they reference.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace hookyard::pipeline {

inline constexpr std::string_view k_oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view k_oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view k_docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view k_docker_manifest_list = "application/vnd.docker.distribution.manifest.list.v2+json";

// True for the index / manifest-list media types.
bool is_index_media_type(std::string_view media_type);

struct Descriptor {
    std::string media_type;
    std::string digest;  // valid sha256 digest (checked on load)
    std::uint64_t size = 0;
};

// A manifest or index with its bytes exactly as stored (its digest is the digest of these bytes).
struct ManifestBlob {
    Descriptor descriptor;
    std::string content;
};

struct OciImage {
    std::string layout_dir;
    ManifestBlob root;                   // pushed to every tag
    std::vector<ManifestBlob> children;  // for an index: its manifests, pushed by digest before the root
    std::vector<Descriptor> blobs;       // configs and layers of every manifest, without duplicates
    // Blobs that live in another layout directory than layout_dir (a multi-platform image assembled from one
    // layout per platform, index_push.hpp): digest → that layout directory.
    std::map<std::string, std::string, std::less<>> blob_dirs;
    // Path of a blob's file inside its layout.
    std::string blob_path(std::string_view digest) const;
    std::uint64_t total_blob_bytes() const;
};

// Loads the image in layout `dir`. With several entries in index.json, `ref_name` picks the one whose
// org.opencontainers.image.ref.name annotation equals it; empty `ref_name` requires exactly one entry.
// Manifests are verified against their digests and sizes; blobs must exist with the right size (their
// content is verified while it is uploaded). Errors are invalid_input naming the file and the fix.
util::Result<OciImage> load_oci_layout(const std::string& dir, std::string_view ref_name = "");

}  // namespace hookyard::pipeline
