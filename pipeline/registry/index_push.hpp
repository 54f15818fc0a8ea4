#pragma once
// Multi-platform images: one image per platform (each its own OCI layout, as the executor writes them)
// assembled into the image the push client sends — an OCI image index (or Docker manifest list) at every
// tag, listing each platform's manifest with its `platform` object.

#include <string>
#include <vector>

#include "config/model.hpp"
#include "config/platform.hpp"
#include "pipeline/registry/oci_layout.hpp"
#include "util/result.hpp"

namespace hookyard::pipeline {

struct PlatformImage {
    config::Platform platform;
    OciImage image;  // a single-manifest image (load_oci_layout of that platform's layout)
};

// The image to push for `platforms` (at least one, each a plain manifest): its root is an OCI image index
// (format oci) or a Docker manifest list (format docker) whose manifests are the platforms' in the given
// order; its children are those manifests — for a Docker list converted to Docker's media types (same
// blobs, so their digests differ from the layouts'); its blobs are every platform's, once each, read from
// their own layouts. invalid_input when a platform's image is an index, or (docker) has a layer Docker's
// format cannot name (zstd).
util::Result<OciImage> make_platform_index(const std::vector<PlatformImage>& platforms, config::ManifestFormat format);

// True for the errors a registry gives a manifest media type it does not accept (HTTP 415, MANIFEST_INVALID,
// MANIFEST_UNSUPPORTED), after which a Docker manifest list may be accepted instead.
bool is_manifest_type_refused(const util::Error& error);

}  // namespace hookyard::pipeline
