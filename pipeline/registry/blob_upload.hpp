#pragma once
// Putting one blob into a repository: HEAD (skip when present), cross-repository mount, monolithic PUT
// for small blobs, PATCH chunks for large ones, streamed from disk and hashed on the way. Internal.

#include <atomic>
#include <cstdint>
#include <string>

#include "pipeline/registry/oci_layout.hpp"
#include "pipeline/registry/session.hpp"

namespace hookyard::pipeline::detail {

enum class BlobAction { skipped, mounted, uploaded };

// Ensures `blob` is in `repository`, retrying transient faults. `mount_from` (may be empty) is another
// repository of the same registry believed to hold the blob. Sets `action` on success. A blob whose
// file content does not match its digest fails with invalid_input (the layout is corrupt).
util::Status put_blob(Session& session, const OciImage& image, const std::string& repository, const Descriptor& blob,
                      const std::string& mount_from, const RegistryClientOptions& options, BlobAction& action,
                      const std::atomic<bool>& abort);

}  // namespace hookyard::pipeline::detail
