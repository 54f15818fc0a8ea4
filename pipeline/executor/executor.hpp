#pragma once
// The build stage: turns a checked-out context + Dockerfile into an OCI image layout directory on disk,
// streaming the build log line by line. `Executor` is the seam; buildah_executor.hpp is the default engine.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace hookyard::pipeline {

class PlatformsJob;       // platforms_job.hpp
struct PlatformsRequest;  // platforms_job.hpp

// Receives every output line (without the trailing newline) of the build's processes and hookyard's own
// progress lines ("hookyard: ..."). Called from the job's worker thread, one line at a time, never
// concurrently for one job; it must not throw, and not block for long (it throttles the build).
using LogSink = std::function<void(std::string_view line)>;

// Docker Hub's Autobuild variables ("Advanced options for Autobuild and Autotest"); passed to the build
// as --build-arg and to hooks as environment variables, under exactly these names.
struct DockerHubVars {
    std::string source_branch;    // SOURCE_BRANCH: the branch or tag name that triggered the build
    std::string source_commit;    // SOURCE_COMMIT: the full commit SHA
    std::string commit_msg;       // COMMIT_MSG: the head commit's message
    std::string docker_repo;      // DOCKER_REPO: image repository without tag, e.g. docker.io/acme/web
    std::string dockerfile_path;  // DOCKERFILE_PATH: the Dockerfile relative to the context, e.g. Dockerfile
    std::string docker_tag;       // DOCKER_TAG: the tag being built, e.g. latest
    std::string image_name;       // IMAGE_NAME: DOCKER_REPO:DOCKER_TAG; derived when left empty

    // The seven variables by their Docker Hub names; IMAGE_NAME is DOCKER_REPO:DOCKER_TAG when unset.
    std::map<std::string, std::string> to_map() const;
};

// One build. Paths are absolute and already resolved inside the checkout by the checkout/locate stage.
struct BuildRequest {
    std::string build_id;                           // names temporary files and log lines; any text
    std::string context_dir;                        // build context directory
    std::string dockerfile;                         // the Dockerfile (absolute path)
    std::map<std::string, std::string> build_args;  // the rule's build_args (--build-arg K=V)
    DockerHubVars docker_hub;                       // also passed as build args and to hooks
    bool cache = true;                              // keep and reuse the layer cache
    bool hooks = false;                             // run Docker Hub hooks/ next to the Dockerfile
    bool registry_credentials = true;               // false: FROM pulls go anonymously (a fork's pull request)
    std::chrono::seconds timeout{3600};             // whole build: hooks + build + export
    std::string layout_dir;                         // output OCI layout; must be absent or empty
    std::string layout_ref = "latest";              // the reference name inside the layout (index.json)
    std::string work_dir;                           // scratch directory for this build; created if missing
    // Target platform "os/arch[/variant]": built with --platform and BuildKit's automatic build args
    // (platforms.hpp; the rule's build_args win over them). Empty = the host's, exactly as without it.
    std::string platform;
    // Image config labels, e.g. OCI provenance: written into the exported image (oci_labels.hpp), not built as
    // LABEL steps, so buildah's storage keeps no image per label value.
    std::map<std::string, std::string> labels;
};

struct BuildResult {
    std::string layout_dir;       // the OCI image layout holding exactly one image
    std::string layout_ref;       // its reference name: `oci:<layout_dir>:<layout_ref>`
    std::string image_id;         // the image in buildah's storage, "sha256:<hex>" (before `labels`)
    std::string manifest_digest;  // the manifest digest in the layout, "sha256:<hex>"
    std::chrono::milliseconds duration{0};
    bool built_by_hook = false;  // true when hooks/build replaced the build command
};

// Docker Hub hooks, in the order Docker Hub runs them.
enum class Hook { post_checkout, pre_build, build, post_build, pre_test, test, post_test, pre_push, post_push };
// "post_checkout", ... — the file name under hooks/.
std::string_view to_string(Hook hook);

// A running build. Thread-safe: cancel() may be called from any thread while another thread is in wait().
class BuildJob {
public:
    virtual ~BuildJob() = default;  // an unfinished job is canceled and waited for

    // Asks the build to stop: the whole process group of the running step gets SIGTERM, then SIGKILL after
    // the executor's grace period; temporary images and the partial layout are removed; wait() then
    // returns ErrorKind::canceled. Returns immediately. Idempotent; a no-op once the build has finished.
    virtual void cancel() = 0;

    // Blocks until the build has finished and returns its outcome; later calls return the same outcome.
    // Errors: timeout (request.timeout passed; handled like cancel), canceled, invalid_input (bad paths,
    // Dockerfile error or failing RUN/hook, with buildah's message and the Dockerfile line), not_found
    // (buildah not installed, a FROM image that cannot be pulled, named), conflict (layout_dir is not
    // empty; it is left untouched), internal (a process died by a signal that we did not send, or the
    // export failed). On any other error than conflict nothing is left at layout_dir.
    virtual util::Result<BuildResult> wait() = 0;

    // True once the outcome is known (wait() would not block).
    virtual bool finished() const = 0;
};

// The test stage's input (test_stage.hpp says what runs).
struct TestRequest {
    BuildRequest build;    // the build's request: test files and hooks next to its Dockerfile, its variables
    std::string image_id;  // the image under test, "sha256:<hex>" (BuildResult::image_id)
    std::string layout;    // the same image as "oci:<layout_dir>:<layout_ref>", used when storage lost it
};

// A running test stage. Thread-safe like BuildJob: cancel() from any thread while another is in wait().
class TestJob {
public:
    virtual ~TestJob() = default;  // an unfinished job is canceled and waited for
    // Stops the running test containers and hooks; wait() then returns ErrorKind::canceled. Idempotent.
    virtual void cancel() = 0;
    // Blocks until the tests have finished: success, or the first failing test's error (invalid_input
    // naming the file and the exit code, with its last output lines), timeout, canceled, not_found.
    virtual util::Status wait() = 0;
    // True once the outcome is known (wait() would not block).
    virtual bool finished() const = 0;
};

class Executor {
public:
    virtual ~Executor() = default;

    // Starts a build on a worker thread and returns at once; the log streams to `sink` until the job
    // finishes. Hooks post_checkout, pre_build, build (replaces the build command), post_build run here
    // when request.hooks is set; pre_push and post_push are the push stage's, see run_hook(). Never
    // returns nullptr; a request that cannot start (bad paths, buildah missing) yields a job whose wait()
    // returns the error. Thread-safe: several builds may run at once and do not share temporary names.
    virtual std::unique_ptr<BuildJob> start(BuildRequest request, LogSink sink) = 0;

    // Runs one Docker Hub hook (hooks/<name> next to request.dockerfile, in the Dockerfile's directory,
    // with the Docker Hub variables and build args in its environment) synchronously, bounded by
    // request.timeout. Returns success without running anything when request.hooks is false or the hook
    // file does not exist; invalid_input naming the hook and its exit code when it fails; timeout when
    // it ran too long (its process group is killed). Thread-safe.
    virtual util::Status run_hook(Hook hook, const BuildRequest& request, const LogSink& sink) = 0;

    // Starts the test stage (test_stage.hpp) on a worker thread and returns at once; the tests' output
    // streams to `sink`. Never returns nullptr. Thread-safe.
    virtual std::unique_ptr<TestJob> start_tests(TestRequest request, LogSink sink) = 0;

    // Starts every platform of a multi-platform build as one job (platforms_job.hpp) and returns at once, or
    // returns nullptr when this executor builds them one start() per platform (the default, and buildah's
    // choice for a build with Docker Hub hooks, which run once per platform). Thread-safe.
    virtual std::unique_ptr<PlatformsJob> start_platforms(const PlatformsRequest& request, LogSink sink);
};

}  // namespace hookyard::pipeline
