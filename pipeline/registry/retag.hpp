#pragma once
// Re-tagging an image the registry already has (build reuse): HEAD a manifest, and copy a manifest (an
// index with its children) to tags of the same or another repository of the registry, mounting the blobs
// across repositories. Nothing is downloaded or uploaded but manifests. Internal to hookyard_registry.

#include <string>
#include <vector>

#include "pipeline/registry/registry_client.hpp"
#include "pipeline/registry/session.hpp"

namespace hookyard::pipeline::detail {

// The manifest media types a HEAD or GET accepts: OCI and Docker, image and index.
std::string manifest_accept();

// The digest `reference` (tag or digest) of `repository` points at; not_found when the registry does not
// have it. Transient faults are retried.
util::Result<std::string> head_manifest(Session& session, const std::string& repository, const std::string& reference);

// Puts the manifest `digest` of `from` at every tag of `repository`: when the repositories differ, each blob
// is mounted (201) and an index's children are copied by digest first. invalid_input when the registry
// will not mount a blob (it has no copy to give); not_found when `from` no longer has the manifest.
util::Status copy_manifest(Session& session, const std::string& from, const std::string& digest,
                           const std::string& repository, const std::vector<std::string>& tags, PushResult& result);

}  // namespace hookyard::pipeline::detail
