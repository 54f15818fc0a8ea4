// hookyard build-local: one build of a local directory with the build executor, no config, no push.
// For trying a Dockerfile the way hookyard builds it, and for bench/build.

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include "cli/commands.hpp"
#include "pipeline/executor/buildah_executor.hpp"

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

int usage_error(const std::string& message) { return print_usage_error("build-local", message, k_usage); }

const ArgSpec& spec() {
    static const ArgSpec k_spec(flags({"--context", "--layout", "--dockerfile", "--ref", "--tag", "--repo", "--root",
                                       "--runroot", "--timeout", "--build-arg"},
                                      {"--no-cache", "--hooks", "--quiet"}),
                                /*unknown_take_value=*/false, /*allow_positionals=*/false);
    return k_spec;
}

// The build request of a command line without usage errors; fills in everything but the paths.
std::optional<pipeline::BuildRequest> request_from(const ParsedArgs& parsed, int& exit_code) {
    pipeline::BuildRequest request;
    request.build_id = "local";
    request.cache = !parsed.has("--no-cache");
    request.hooks = parsed.has("--hooks");
    request.context_dir = parsed.value("--context");
    request.layout_dir = parsed.value("--layout");
    if (parsed.has("--ref")) request.layout_ref = parsed.value("--ref");
    request.docker_hub.docker_tag = parsed.value("--tag");
    request.docker_hub.docker_repo = parsed.value("--repo");
    for (const auto& seconds : parsed.values("--timeout")) {
        try {
            request.timeout = std::chrono::seconds(std::stol(seconds));
        } catch (const std::exception&) {
            exit_code = usage_error("--timeout takes a number of seconds");
            return std::nullopt;
        }
    }
    for (const auto& kv : parsed.values("--build-arg")) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) {
            exit_code = usage_error("--build-arg takes K=V, got " + kv);
            return std::nullopt;
        }
        request.build_args[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    return request;
}

// Runs the build until it ends; Ctrl-C cancels it (killing its process group) instead of leaving buildah
// running.
int run_build(const pipeline::BuildRequest& request, const pipeline::BuildahOptions& options, bool quiet) {
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

}  // namespace

int cmd_build_local(const Args& args) {
    const auto parsed = parse_args(args, spec());
    if (parsed.help) return print_usage(k_usage, true);
    if (!parsed.problems.empty()) {
        const auto& p = parsed.problems.front();
        return usage_error(p.followed ? "unknown option " + p.arg : "unknown option or missing value: " + p.arg);
    }
    int exit_code = 0;
    auto request = request_from(parsed, exit_code);
    if (!request) return exit_code;
    if (request->context_dir.empty() || request->layout_dir.empty()) {
        return usage_error("--context and --layout are required");
    }
    const std::string dockerfile = parsed.has("--dockerfile") ? parsed.value("--dockerfile") : "Dockerfile";
    std::error_code ec;
    request->context_dir = fs::absolute(request->context_dir, ec).lexically_normal().string();
    request->layout_dir = fs::absolute(request->layout_dir, ec).lexically_normal().string();
    request->dockerfile = (fs::path(request->context_dir) / dockerfile).lexically_normal().string();
    request->docker_hub.dockerfile_path = dockerfile;

    pipeline::BuildahOptions options;
    options.root = parsed.value("--root");
    options.runroot = parsed.value("--runroot");
    return run_build(*request, options, parsed.has("--quiet"));
}

}  // namespace hookyard::cli
