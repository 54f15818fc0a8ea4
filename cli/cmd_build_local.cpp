// hookyard build-local: one build of a local directory with the build executor, no config, no push.
// For trying a Dockerfile the way hookyard builds it, and for bench/build.

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "pipeline/executor/buildah_executor.hpp"
#include "cli/commands.hpp"

namespace hookyard::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* k_usage =
    "usage: hookyard build-local --context DIR --layout DIR [--dockerfile FILE] [--ref NAME]\n"
    "                            [--build-arg K=V]... [--no-cache] [--hooks] [--timeout SECONDS]\n"
    "                            [--tag TAG] [--repo REPO] [--root DIR --runroot DIR] [--quiet]\n"
    "Builds DIR with buildah the way a hookyard build does and writes the image as an OCI layout;\n"
    "prints the manifest digest. --dockerfile is relative to the context (default Dockerfile);\n"
    "--repo/--tag set DOCKER_REPO/DOCKER_TAG (and IMAGE_NAME) for the build and hooks;\n"
    "--root/--runroot select a buildah storage other than the default one.\n";

int usage_error(const std::string& message) {
    std::fprintf(stderr, "hookyard build-local: %s\n%s", message.c_str(), k_usage);
    return 2;
}

}  // namespace

int cmd_build_local(const Args& args) {
    pipeline::BuildRequest request;
    pipeline::BuildahOptions options;
    request.build_id = "local";
    std::string dockerfile = "Dockerfile";
    bool quiet = false;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        const bool has_value = i + 1 < args.size();
        auto value = [&]() -> const std::string& { return args[++i]; };
        if (a == "--help" || a == "-h") {
            std::printf("%s", k_usage);
            return 0;
        } else if (a == "--no-cache") {
            request.cache = false;
        } else if (a == "--hooks") {
            request.hooks = true;
        } else if (a == "--quiet") {
            quiet = true;
        } else if (!has_value) {
            return usage_error("unknown option or missing value: " + a);
        } else if (a == "--context") {
            request.context_dir = value();
        } else if (a == "--layout") {
            request.layout_dir = value();
        } else if (a == "--dockerfile") {
            dockerfile = value();
        } else if (a == "--ref") {
            request.layout_ref = value();
        } else if (a == "--tag") {
            request.docker_hub.docker_tag = value();
        } else if (a == "--repo") {
            request.docker_hub.docker_repo = value();
        } else if (a == "--root") {
            options.root = value();
        } else if (a == "--runroot") {
            options.runroot = value();
        } else if (a == "--timeout") {
            try {
                request.timeout = std::chrono::seconds(std::stol(value()));
            } catch (const std::exception&) {
                return usage_error("--timeout takes a number of seconds");
            }
        } else if (a == "--build-arg") {
            const std::string& kv = value();
            const auto eq = kv.find('=');
            if (eq == std::string::npos || eq == 0) return usage_error("--build-arg takes K=V, got " + kv);
            request.build_args[kv.substr(0, eq)] = kv.substr(eq + 1);
        } else {
            return usage_error("unknown option " + a);
        }
    }
    if (request.context_dir.empty() || request.layout_dir.empty()) {
        return usage_error("--context and --layout are required");
    }
    std::error_code ec;
    request.context_dir = fs::absolute(request.context_dir, ec).lexically_normal().string();
    request.layout_dir = fs::absolute(request.layout_dir, ec).lexically_normal().string();
    request.dockerfile = (fs::path(request.context_dir) / dockerfile).lexically_normal().string();
    request.docker_hub.dockerfile_path = dockerfile;

    // Ctrl-C cancels the build (killing its process group) instead of leaving buildah running.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);

    auto executor = pipeline::make_buildah_executor(options);
    auto job = executor->start(request, [quiet](std::string_view line) {
        if (!quiet) std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
    });
    std::thread canceler([&job, &stop] {
        int sig = 0;
        if (sigwait(&stop, &sig) == 0 && sig != 0) job->cancel();
    });
    auto result = job->wait();
    pthread_kill(canceler.native_handle(), SIGTERM);
    canceler.join();
    if (!result) {
        std::fprintf(stderr, "hookyard build-local: %s\n", result.error().message.c_str());
        return 1;
    }
    std::printf("%s\n", result->manifest_digest.c_str());
    return 0;
}

}  // namespace hookyard::cli
