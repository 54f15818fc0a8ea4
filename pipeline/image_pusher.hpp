#pragma once
// The push stage's seam: puts a built OCI layout into the registry under every tag of the build.
// The default implementation (registry_pusher.cpp) is our OCI distribution client.

#include <memory>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "pipeline/executor/executor.hpp"
#include "util/result.hpp"

namespace hookyard::pipeline {

class CancelToken;

struct PushRequest {
    std::string layout_dir;           // OCI image layout written by the build stage
    std::string layout_ref;           // the reference name inside the layout
    std::vector<std::string> images;  // full references host/repository:tag, all on `registry`
    config::RegistryConfig registry;  // endpoint and credentials (credentials_file re-read per push)
};

class ImagePusher {
public:
    virtual ~ImagePusher() = default;
    // Pushes the image to every reference and returns the manifest digest ("sha256:…"). Progress lines
    // go to `log`. Errors name the cause and the fix (credentials refused, repository missing, …) and carry
    // their kind (auth, not_found, transient after retries, canceled). Thread-safe.
    virtual util::Result<std::string> push(const PushRequest& request, const LogSink& log, CancelToken& token) = 0;
};

}  // namespace hookyard::pipeline
