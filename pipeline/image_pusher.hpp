#pragma once
// The push stage's seam: puts a built OCI layout into the registry under every tag of the build.
// The default implementation (registry_pusher.cpp) is our OCI distribution client.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/model.hpp"
#include "pipeline/executor/executor.hpp"
#include "util/result.hpp"

namespace hookyard::pipeline {

class CancelToken;

// One platform's image of a multi-platform build.
struct PlatformLayout {
    std::string platform;    // os/arch[/variant]
    std::string layout_dir;  // its OCI layout, as the build stage wrote it
    std::string layout_ref;
};

struct PushRequest {
    std::string layout_dir;                 // OCI image layout written by the build stage
    std::string layout_ref;                 // the reference name inside the layout
    std::vector<PlatformLayout> platforms;  // push_platforms(): every platform's layout (layout_dir unused)
    std::vector<std::string> images;        // full references host/repository:tag, all on `registry`
    config::RegistryConfig registry;        // endpoint and credentials (credentials_file re-read per push)
};

// What push_platforms() put at the tags: the index, and each platform's manifest digest in it.
struct PushedIndex {
    std::string digest;                                          // the index (or Docker manifest list) digest
    std::vector<std::pair<std::string, std::string>> platforms;  // (platform, manifest digest), request order
};

class ImagePusher {
public:
    virtual ~ImagePusher() = default;
    // Pushes the image to every reference and returns the manifest digest ("sha256:…"). Progress lines
    // go to `log`. Errors name the cause and the fix (credentials refused, repository missing, …) and carry
    // their kind (auth, not_found, transient after retries, canceled). Thread-safe.
    virtual util::Result<std::string> push(const PushRequest& request, const LogSink& log, CancelToken& token) = 0;
    // Pushes request.platforms as one multi-platform image: every platform's blobs and manifest, then one
    // index per reference (request.registry.manifest_format: an OCI image index, or Docker's manifest list).
    // Errors as push(). Thread-safe.
    virtual util::Result<PushedIndex> push_platforms(const PushRequest& request, const LogSink& log,
                                                     CancelToken& token) = 0;
    // The manifest digest `image` (host/repository:tag or host/repository@digest) has on `registry`: one
    // HEAD. not_found when the registry does not have it. Thread-safe.
    virtual util::Result<std::string> resolve(const config::RegistryConfig& registry, const std::string& image,
                                              CancelToken& token) {
        (void)registry, (void)token;
        return util::make_error(util::ErrorKind::invalid_input, "this pusher cannot look up " + image);
    }
    // Puts `source` (host/repository@digest, on request.registry) at every reference of request.images
    // without uploading a layer (build reuse); returns the digest. Errors as push(). Thread-safe.
    virtual util::Result<std::string> retag(const std::string& source, const PushRequest& request, const LogSink& log,
                                            CancelToken& token) {
        (void)request, (void)log, (void)token;
        return util::make_error(util::ErrorKind::invalid_input, "this pusher cannot re-tag " + source);
    }
};

}  // namespace hookyard::pipeline
