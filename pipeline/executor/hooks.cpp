#include "pipeline/executor/hooks.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/log.hpp"

namespace hookyard::pipeline {
namespace {

namespace fs = std::filesystem;

std::string describe_end(const ChildOutcome& outcome) {
    if (outcome.signal != 0) return "was killed by signal " + std::to_string(outcome.signal);
    return "failed with exit code " + std::to_string(outcome.exit_code);
}

}  // namespace

std::string hook_path(const BuildRequest& request, Hook hook) {
    const fs::path path = fs::path(request.dockerfile).parent_path() / "hooks" / std::string(to_string(hook));
    std::error_code ec;
    return fs::is_regular_file(path, ec) ? path.string() : "";
}

std::vector<std::string> hook_command(const std::string& path) {
    std::ifstream in(path);
    std::string first;
    std::getline(in, first);
    // Without a #! line exec fails (ENOEXEC); a shell would run the file as a script, so do the same.
    if (first.rfind("#!", 0) != 0) return {"/bin/sh", path};
    if (::access(path.c_str(), X_OK) == 0) return {path};
    // "#!/usr/bin/env bash" → {"/usr/bin/env", "bash", path}: like the kernel, at most one argument.
    std::istringstream words(first.substr(2));
    std::string interpreter;
    std::string argument;
    words >> interpreter;
    std::getline(words >> std::ws, argument);
    while (!argument.empty() && (argument.back() == ' ' || argument.back() == '\r')) argument.pop_back();
    if (interpreter.empty()) return {"/bin/sh", path};
    if (argument.empty()) return {interpreter, path};
    return {interpreter, argument, path};
}

std::map<std::string, std::string> hook_environment(const BuildRequest& request,
                                                    const std::map<std::string, std::string>& base) {
    std::map<std::string, std::string> env = base;
    for (const auto& [k, v] : request.docker_hub.to_map()) env[k] = v;
    for (const auto& [k, v] : request.build_args) env[k] = v;
    return env;
}

util::Status run_hook_file(Hook hook, const BuildRequest& request, const std::map<std::string, std::string>& base_env,
                           const LogSink& sink, const ChildLimits& limits, const CancelSignal& cancel, bool* ran,
                           const ChildPlacement& placement) {
    if (ran) *ran = false;
    if (!request.hooks) return {};
    const std::string path = hook_path(request, hook);
    if (path.empty()) return {};
    const std::string name = "hooks/" + std::string(to_string(hook));
    if (sink) sink("hookyard: running " + name);
    // Hooks are the repository's code run on the host as the service user, outside the build sandbox.
    util::log_warn("executor", "build " + request.build_id + ": running " + name + " on the host, outside the sandbox");
    if (ran) *ran = true;
    ChildSpec spec{hook_command(path), hook_environment(request, base_env),
                   fs::path(request.dockerfile).parent_path().string(), placement};
    auto outcome = run_child(spec, sink, limits, cancel);
    if (!outcome) {
        return util::make_error(outcome.error().kind, name + " could not be started: " + outcome.error().message);
    }
    if (outcome->canceled) return util::make_error(util::ErrorKind::canceled, name + " was canceled");
    if (outcome->timed_out) return util::make_error(util::ErrorKind::timeout, name + " ran past the build timeout");
    if (outcome->signal != 0) return util::make_error(util::ErrorKind::internal, name + " " + describe_end(*outcome));
    if (outcome->exit_code != 0) {
        return util::make_error(util::ErrorKind::invalid_input,
                                name + " " + describe_end(*outcome) + "; see the build log for its output");
    }
    return {};
}

}  // namespace hookyard::pipeline
