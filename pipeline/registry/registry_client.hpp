#pragma once
// Our OCI distribution-spec push client: pushes an OCI layout's blobs and manifests to a registry
// repository under one or more tags, over the shared http::Client.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "http/client.hpp"
#include "pipeline/cancel.hpp"
#include "pipeline/registry/oci_layout.hpp"
#include "util/result.hpp"

namespace hookyard::pipeline {

struct RegistryClientOptions {
    std::string api_base;              // scheme://host[:port] the client talks to, e.g. https://registry-1.docker.io
    std::string registry;              // host as written in image references (docker.io), for messages and config.json
    std::string username;              // basic credentials (also sent to the token service); may be empty
    std::string password;              // secret
    std::string credentials_file;      // docker config.json, re-read at every push; used when username is empty
    std::size_t parallel_uploads = 4;  // blobs uploaded at once
    std::uint64_t monolithic_limit = 8ull << 20;   // blobs up to this size go in one PUT
    std::uint64_t chunk_size = 64ull << 20;        // larger blobs go in PATCH chunks of this size
    int max_attempts = 6;                          // per step (a blob, a manifest), transient faults only
    std::chrono::milliseconds backoff_base{500};   // first retry delay; doubles each attempt
    std::chrono::milliseconds backoff_max{30000};  // cap for the delay and for Retry-After
};

struct PushResult {
    std::string digest;      // digest of the pushed manifest or index (what the tags point at)
    std::string media_type;  // its media type
    std::size_t blobs_uploaded = 0;
    std::size_t blobs_mounted = 0;  // cross-repository mounts
    std::size_t blobs_skipped = 0;  // already in the repository
    std::size_t manifests_put = 0;  // manifest PUTs (0 when every tag already pointed at the digest)
    std::uint64_t bytes_uploaded = 0;
};

// Pushes images to one registry. Thread-safe: pushes may run concurrently from worker threads.
class RegistryClient {
public:
    virtual ~RegistryClient() = default;
    // Pushes `image` to `repository` (e.g. "acme/web", Docker Hub names with "library/" already added)
    // under every tag in `tags` (at least one). Idempotent: blobs the repository has are skipped, blobs
    // this client saw in another repository of the registry are mounted, tags already pointing at the
    // digest are left alone. Transient faults (5xx, 429 with Retry-After, resets, timeouts) are retried with
    // backoff; errors name the cause: auth ("credentials for <registry> were refused"), not_found
    // ("repository <x> does not exist; create it first"), invalid_input (bad tag, corrupt layout).
    // With `cancel` set, a cancel ends the push within a second (between requests, and while a request
    // waits on the network) with ErrorKind::canceled.
    virtual util::Result<PushResult> push(const OciImage& image, const std::string& repository,
                                          const std::vector<std::string>& tags, CancelToken* cancel = nullptr) = 0;
    // The manifest digest `reference` (a tag or a digest) of `repository` points at: one HEAD. not_found
    // when the registry does not have it; other errors as push().
    virtual util::Result<std::string> manifest_digest(const std::string& repository, const std::string& reference,
                                                      CancelToken* cancel = nullptr) = 0;
    // Puts the manifest `digest` of `from_repository` (an image or an index) at every tag of `repository`
    // without uploading a layer: manifest PUTs, and cross-repository blob mounts when the repositories
    // differ. not_found when the registry no longer has the manifest; invalid_input when it refuses to
    // mount a blob; other errors as push().
    virtual util::Result<PushResult> retag(const std::string& from_repository, const std::string& digest,
                                           const std::string& repository, const std::vector<std::string>& tags,
                                           CancelToken* cancel = nullptr) = 0;
};

// Creates a client for one registry over `http` (which carries the TLS settings). Fails with
// invalid_input when api_base is not an http(s) URL.
util::Result<std::unique_ptr<RegistryClient>> make_registry_client(RegistryClientOptions options,
                                                                   std::shared_ptr<http::Client> http);

}  // namespace hookyard::pipeline
