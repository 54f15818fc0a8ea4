#pragma once
// The default ImagePusher: our OCI distribution client (pipeline/registry/), one client per configured
// registry so bearer tokens and known blob locations (for cross-repository mounts) are reused across builds.

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "pipeline/image_pusher.hpp"
#include "pipeline/registry/registry_client.hpp"

namespace hookyard::pipeline {

class RegistryPusher : public ImagePusher {
public:
    // Pushes every reference of the request (all on request.registry) and returns the manifest digest.
    // A cancel is honoured before the upload starts; an upload that has started runs to its end (it is
    // bounded by the client's timeouts and retries). Thread-safe.
    util::Result<std::string> push(const PushRequest& request, const LogSink& log, CancelToken& token) override;
    // An OCI index unless the registry's manifest_format is docker; a registry that refuses the OCI index's
    // media type (HTTP 415, MANIFEST_INVALID) gets the Docker manifest list instead, with a log line, and
    // Docker lists from then on (until restart) without trying the index again.
    util::Result<PushedIndex> push_platforms(const PushRequest& request, const LogSink& log,
                                             CancelToken& token) override;

    util::Result<std::string> resolve(const config::RegistryConfig& registry, const std::string& image,
                                      CancelToken& token) override;
    util::Result<std::string> retag(const std::string& source, const PushRequest& request, const LogSink& log,
                                    CancelToken& token) override;

private:
    // Pushes `image` to every reference of the request; the digest at the tags.
    util::Result<std::string> push_image(const OciImage& image, const PushRequest& request, const LogSink& log,
                                         CancelToken& token);
    util::Result<RegistryClient*> client_for(const config::RegistryConfig& registry);

    std::mutex m_mutex;
    std::map<std::string, std::unique_ptr<RegistryClient>> m_clients;  // by registry name + endpoint
    std::set<std::string> m_refuse_oci_index;  // registries that refused an OCI index: Docker lists from then on
};

}  // namespace hookyard::pipeline
