// hookyard build-local: one build of a local directory with the build executor, no config, no push.
// For trying a Dockerfile the way hookyard builds it, and for bench/build.

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include "cli/build_sandbox.hpp"
#include "cli/commands.hpp"
#include "cli/config_file.hpp"
#include "cli/pipeline_service.hpp"
#include "pipeline/executor/buildah_executor.hpp"
#include "util/log.hpp"

namespace hookyard::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* k_usage =
    "usage: hookyard build-local --context DIR --layout DIR [-c FILE] [--dockerfile FILE] [--ref NAME]\n"
    "                            [--build-arg K=V]... [--no-cache] [--hooks] [--timeout SECONDS]\n"
    "                            [--tag TAG] [--repo REPO] [--root DIR --runroot DIR] [--quiet]\n"
    "Builds DIR with buildah the way a hookyard build does and writes the image as an OCI layout;\n"
    "prints the manifest digest. -c FILE: the builder: section (isolation, network, limits, pull)\n"
    "and registries: of hookyard's config, set up as `hookyard serve` does; without it the builder\n"
    "defaults with network none and no registry credentials. --dockerfile is relative to the context\n"
    "(default Dockerfile); --repo/--tag set DOCKER_REPO/DOCKER_TAG (and IMAGE_NAME) for the build and\n"
    "hooks; --root/--runroot select a buildah storage other than the default one.\n";

int usage_error(const std::string& message) { return print_usage_error("build-local", message, k_usage); }

std::vector<FlagSpec> with_config_flag(std::vector<FlagSpec> declared) {
    declared.emplace_back("--config", "-c");
    return declared;
}

const ArgSpec& spec() {
    static const ArgSpec k_spec(with_config_flag(flags({"--context", "--layout", "--dockerfile", "--ref", "--tag",
                                                        "--repo", "--root", "--runroot", "--timeout", "--build-arg"},
                                                       {"--no-cache", "--hooks", "--quiet"})),
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

// A data dir for one build-local without a config, removed afterwards.
struct ScratchDataDir {
    std::string path;
    ~ScratchDataDir() {
        std::error_code ec;
        if (!path.empty()) fs::remove_all(path, ec);
    }
};

// The config of -c, or the builder defaults with network none (the filtered network's nftables table is
// the host's: a build-local must not replace a running service's allow list) in a scratch data dir.
std::optional<config::Config> local_config(const ParsedArgs& parsed, ScratchDataDir& scratch) {
    if (parsed.has("--config")) return load_config_or_report(parsed.value("--config"));
    std::error_code ec;
    std::string tmpl = (fs::temp_directory_path(ec) / "hookyard-build-local-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
        std::fprintf(stderr, "hookyard build-local: cannot create a directory in %s\n", tmpl.c_str());
        return std::nullopt;
    }
    scratch.path = tmpl;
    config::Config cfg;
    cfg.data_dir = tmpl;
    cfg.builder.network.mode = config::NetworkMode::none;
    return cfg;
}

// Sets up the sandbox as `hookyard serve` does (cli/build_sandbox.hpp) and runs the build in it.
int build_in_sandbox(const pipeline::BuildRequest& request, const ParsedArgs& parsed) {
    if (parsed.has("--quiet")) util::set_log_level(util::LogLevel::warn);
    ScratchDataDir scratch;
    const auto cfg = local_config(parsed, scratch);
    if (!cfg) return 2;
    auto sandbox = start_sandbox(*cfg);
    if (!sandbox) {
        std::fprintf(stderr, "hookyard build-local: %s\n", sandbox.error().message.c_str());
        return 1;
    }
    // A containment instance of its own, not the service's (a restarting service would kill this build),
    // and the same on every run (each instance keeps a cgroup directory).
    std::error_code ec;
    const std::string identity = parsed.has("--config") ? cfg->data_dir : fs::temp_directory_path(ec).string();
    auto containment = pipeline::ProcessContainment::make({identity + "/build-local", ""});
    auto options = buildah_options(*cfg, std::move(containment), std::move(*sandbox));
    if (parsed.has("--root")) options.root = parsed.value("--root");
    if (parsed.has("--runroot")) options.runroot = parsed.value("--runroot");
    return run_build(request, options, parsed.has("--quiet"));
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

    return build_in_sandbox(*request, parsed);
}

}  // namespace hookyard::cli
