#pragma once
// A multi-platform build run as one job (one `buildah build --platform a,b --jobs N`, buildah_multi.hpp),
// which still reports each platform's outcome on its own, so that each platform keeps its own stage.

#include <cstddef>
#include <string>
#include <vector>

#include "pipeline/executor/executor.hpp"
#include "util/result.hpp"

namespace hookyard::pipeline {

// What one job builds: `base` (context, Dockerfile, build args, cache, hooks, timeout, its work dir) for
// every platform of `platforms`, each of which names the platform (BuildRequest::platform) and its own
// layout, work dir and build id (pipeline/platform_builds.hpp's platform_request()).
struct PlatformsRequest {
    BuildRequest base;
    std::vector<BuildRequest> platforms;
    int parallelism = 2;  // platforms built at once (buildah --jobs)
};

// A running multi-platform build. Thread-safe: every method may be called from any thread, several at once.
class PlatformsJob {
public:
    virtual ~PlatformsJob() = default;  // an unfinished job is canceled and waited for

    // Stops the whole build (the process group of buildah and every export): the platforms not finished
    // yet end ErrorKind::canceled. Idempotent.
    virtual void cancel() = 0;
    // Blocks until platform `i` (its index in the request) printed its first build step, or its outcome is
    // known (e.g. the build failed before any step).
    virtual void wait_started(std::size_t i) = 0;
    // Blocks until platform `i`'s outcome is known: its image exported to its layout, or its error (the
    // errors of BuildJob::wait()). A platform can succeed while another fails.
    virtual util::Result<BuildResult> wait(std::size_t i) = 0;
    // Blocks until the whole job has ended. Success only when every platform succeeded and every exported
    // image is the one buildah's manifest list holds for its platform; else the first error, prefixed with
    // the platform it concerns ("linux/arm64: ...").
    virtual util::Status wait_all() = 0;
};

}  // namespace hookyard::pipeline
