#pragma once
// A multi-platform build as ONE buildah process: `buildah build --platform a,b --jobs N --manifest LIST`,
// otherwise BuildahRun's build command (sandbox, credentials, cache, build args). buildah 1.28's layer-cache
// lookup takes the storage's locks once per stored image at every step: one process per platform side by
// side contend for them, which on a storage of thousands of images costs more than building in parallel saves.
//
// What buildah 1.28 prints and does with several platforms: each platform's STEP and COMMIT lines start with
// "[os/arch[/variant]] "; after a platform's COMMIT its image id follows on a bare line (RUN output is not
// prefixed, so a bare id line is checked with `buildah inspect` to be an image of a platform that committed);
// a failing platform does not stop the others, and buildah exits non-zero at the end; TARGETPLATFORM,
// TARGETOS, TARGETARCH and TARGETVARIANT are set per platform by buildah itself (a rule's build arg of such a
// name wins for every platform, as it does for one); BUILDPLATFORM, BUILDOS and BUILDARCH are the host's
// and passed as build args. `--iidfile` is refused with several platforms, hence the manifest list.
//
// Each platform's image is exported to its OCI layout by BuildahRun's export (export_layout()) as soon as its
// id appears, while the other platforms still build. At the end each exported image is checked against the
// manifest list (a platform whose id line was missed is taken from it), and the list is removed.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/platform.hpp"
#include "pipeline/executor/buildah_executor.hpp"
#include "pipeline/executor/platforms_job.hpp"

namespace hookyard::pipeline {

// The platform as buildah names it in its log prefixes and manifest lists (containerd's normalisation:
// linux/arm is linux/arm/v7, linux/arm64/v8 is linux/arm64).
std::string buildah_platform_name(const config::Platform& platform);

// Follows the output of one multi-platform buildah build, line by line. Not thread-safe.
class PlatformOutput {
public:
    // `names`: buildah_platform_name() of each platform of the build, in the request's order.
    explicit PlatformOutput(std::vector<std::string> names);

    struct Line {
        std::optional<std::size_t> platform;  // the platform whose "[name] " prefix the line has
        std::string_view text;                // the line without that prefix
        bool first = false;                   // the platform's first line: it started building
        bool committed = false;               // its COMMIT line: its image id follows on a later line
        bool image_id = false;                // a bare 64-hex line: an image id (or a RUN step's output)
    };
    // `line` must outlive the result's text.
    Line observe(std::string_view line);
    // True once platform `i` printed its COMMIT line.
    bool committed(std::size_t i) const { return m_committed.at(i); }

private:
    std::vector<std::string> m_prefixes;
    std::vector<bool> m_started;
    std::vector<bool> m_committed;
};

// Starts the build of request.platforms as one buildah process on a worker thread. Never nullptr; errors
// (buildah missing, bad paths) are each platform's outcome. Request.base.hooks must be off (hooks run once
// per platform, so such builds take one BuildahRun per platform).
std::unique_ptr<PlatformsJob> start_buildah_platforms(std::shared_ptr<const BuildahOptions> options,
                                                      PlatformsRequest request, LogSink sink);

}  // namespace hookyard::pipeline
