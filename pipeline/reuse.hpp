#pragma once
// Build reuse (issue 17): a located build computes its identity (pipeline/build_identity.hpp), resolving
// each base image with one HEAD, records it with the build, and, when allowed, finds a succeeded build with
// the same identity whose image the registry still has (one more HEAD). The stage runner then re-tags that
// image (ImagePusher::retag) instead of building.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "pipeline/checkout/locate.hpp"
#include "pipeline/image_pusher.hpp"
#include "storage/store.hpp"

namespace hookyard::pipeline {

// The registry a pull of `host`'s images talks to: the configured registry on that host (with its
// credentials), else an anonymous https one (Docker Hub's API for docker.io).
config::RegistryConfig pull_registry_for(const config::Config& config, const std::string& host);

struct ReuseInputs {
    const storage::Build& build;
    const config::RepositoryConfig& repo;
    const config::Rule* rule;  // null when the rule is gone from the config
    const BuildLocation& location;
    std::map<std::string, std::string> automatic_args;  // Docker Hub's variables by name, this build's values
    std::vector<std::string> platforms;                 // what the rule builds
};

struct ReuseDecision {
    std::string identity;                            // "" when the build has none (the log says why)
    std::map<std::string, std::string> base_images;  // FROM reference → the digest resolved now
    std::optional<storage::Build> source;            // the succeeded build whose image to re-tag; nullopt = build
    storage::BuildId reused_from = 0;                // the build that built that image
    std::string final_base;                          // the image the last stage starts from ("" = scratch)
};

// The OCI labels of a built image: org.opencontainers.image.source (`source_url`), .revision (`commit`),
// .created (now), and .base.name / .base.digest of the last stage's base image when it has one. Image
// config, not per-tag data: an image reused under other tags keeps them.
std::map<std::string, std::string> provenance_labels(const std::string& source_url, const std::string& commit,
                                                     const ReuseDecision& decision);

// Computes and records the identity; looks for a build to reuse unless the rule (`reuse: false`) or the
// build (`"reuse": false`, a retry) opted out. Never fails the build: a step that cannot be done (an
// unreadable context, a FROM naming an unset variable, a registry that does not answer) is logged and
// the build builds.
ReuseDecision decide_reuse(const config::Config& config, storage::Store& store, ImagePusher& pusher,
                           const ReuseInputs& in, const LogSink& log, CancelToken& token);

// Puts the image of `source` at every tag of `build` on `registry` (manifest PUTs, blob mounts) and records
// each reference (and the source's platform digests) as pushed by `build`; returns the digest.
util::Result<std::string> push_reused(storage::Store& store, ImagePusher& pusher, const storage::Build& build,
                                      const storage::Build& source, const config::RegistryConfig& registry,
                                      const LogSink& log, CancelToken& token);

}  // namespace hookyard::pipeline
