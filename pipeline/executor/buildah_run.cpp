#include "pipeline/executor/buildah_run.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pipeline/executor/buildah_errors.hpp"
#include "pipeline/executor/hooks.hpp"
#include "pipeline/executor/oci_labels.hpp"
#include "pipeline/executor/platforms.hpp"

namespace hookyard::pipeline {
namespace {

namespace fs = std::filesystem;
using util::ErrorKind;
using util::make_error;

constexpr const char* k_default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// Clean-up after a failure or cancel must not hang the worker, but it may outlive the build's deadline.
constexpr std::chrono::seconds k_cleanup_timeout{60};

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

// How often a build that lost a storage race (see is_storage_race) is run again.
constexpr int k_storage_race_retries = 2;
// The least time between two looks at the build's process count while it prints.
constexpr std::chrono::milliseconds k_pids_check_interval{20};

// Variables buildah (or the containers libraries it uses) reads: a build arg by such a name must not change
// how buildah itself runs, so its value goes on the command line instead of into the environment.
bool shapes_buildah(const std::string& name) {
    for (const char* prefix : {"BUILDAH", "CONTAINERS_", "STORAGE_", "REGISTRY_", "XDG_", "_CONTAINERS", "DBUS_"}) {
        if (name.rfind(prefix, 0) == 0) return true;
    }
    for (const char* exact : {"PATH", "HOME", "TMPDIR", "DOCKER_CONFIG", "DOCKER_CERT_PATH", "TZ", "USER", "SHELL",
                              "LD_PRELOAD", "LD_LIBRARY_PATH", "NOTIFY_SOCKET"}) {
        if (name == exact) return true;
    }
    return false;
}

std::string with_sha256(std::string id) { return id.rfind("sha256:", 0) == 0 ? id : "sha256:" + id; }

}  // namespace

std::map<std::string, std::string> executor_base_env(const BuildahOptions& options) {
    std::map<std::string, std::string> env = options.env;
    env.try_emplace("PATH", k_default_path);
    if (!options.root.empty()) env["HOOKYARD_BUILDAH_ROOT"] = options.root;
    if (!options.runroot.empty()) env["HOOKYARD_BUILDAH_RUNROOT"] = options.runroot;
    return env;
}

BuildahRun::BuildahRun(const BuildahOptions& options, BuildRequest request, LogSink sink, const CancelSignal& cancel)
    : m_options(options),
      m_request(std::move(request)),
      m_sink(std::move(sink)),
      m_cancel(cancel),
      m_env(executor_base_env(options)),
      m_started(std::chrono::steady_clock::now()) {
    m_limits.deadline = m_started + m_request.timeout;
    m_limits.grace = options.kill_grace;
    if (m_options.containment) m_scope = m_options.containment->open(m_request.build_id);
    if (m_options.sandbox.isolation == config::Isolation::oci && m_scope && !m_scope->cgroup().empty()) {
        m_cgroup = std::make_unique<BuildCgroup>(cgroup_relative(m_scope->cgroup()), m_options.sandbox.limits);
    }
}

ChildPlacement BuildahRun::placement() const { return m_scope ? m_scope->placement() : ChildPlacement{}; }

void BuildahRun::note(const std::string& line) const {
    if (m_sink) m_sink("hookyard: " + line);
}

util::Result<BuildResult> BuildahRun::run() {
    const bool hook_builds = m_request.hooks && !hook_path(m_request, Hook::build).empty();
    util::Status status = prepare();
    if (status) status = run_hook(Hook::post_checkout);
    if (status) status = run_hook(Hook::pre_build);
    if (status) status = hook_builds ? build_with_hook() : build_with_buildah();
    if (status) status = run_hook(Hook::post_build);
    if (status) status = export_layout();
    remove_temporaries(!status.ok());
    if (!status) {
        note("build failed: " + status.error().message);
        return status.error();
    }
    BuildResult result;
    result.layout_dir = m_request.layout_dir;
    result.layout_ref = m_request.layout_ref;
    result.image_id = m_image_id;
    result.manifest_digest = m_manifest_digest;
    result.built_by_hook = m_built_by_hook;
    result.duration =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - m_started);
    note("built " + m_image_id + " into oci:" + result.layout_dir + ":" + result.layout_ref + " in " +
         std::to_string(result.duration.count()) + " ms");
    return result;
}

util::Status BuildahRun::prepare() {
    std::error_code ec;
    if (find_program(m_options.buildah, m_env).empty()) {
        return make_error(ErrorKind::not_found, "buildah is not installed (no '" + m_options.buildah + "' on PATH " +
                                                    m_env["PATH"] + "); install the Debian package buildah");
    }
    if (!fs::is_directory(m_request.context_dir, ec)) {
        return make_error(ErrorKind::invalid_input, "build context " + m_request.context_dir + " is not a directory");
    }
    if (!fs::is_regular_file(m_request.dockerfile, ec)) {
        return make_error(ErrorKind::invalid_input,
                          "Dockerfile " + m_request.dockerfile + " does not exist; check the rule's dockerfile path");
    }
    if (m_request.layout_dir.empty() || m_request.layout_dir.find(':') != std::string::npos) {
        return make_error(ErrorKind::invalid_input,
                          "OCI layout directory '" + m_request.layout_dir + "' must be set and contain no ':'");
    }
    m_layout_existed = fs::exists(m_request.layout_dir, ec);
    if (m_layout_existed && !fs::is_empty(m_request.layout_dir, ec)) {
        return make_error(ErrorKind::conflict, "OCI layout directory " + m_request.layout_dir +
                                                   " is not empty; each build needs a fresh directory");
    }
    m_layout_ours = true;
    fs::create_directories(fs::path(m_request.layout_dir).parent_path(), ec);
    if (m_request.work_dir.empty()) {
        std::string tmpl = (fs::temp_directory_path(ec) / "hookyard-build-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) return make_error(ErrorKind::internal, "cannot create a work dir");
        m_work_dir = tmpl;
        m_own_work_dir = true;
    } else {
        m_work_dir = m_request.work_dir;
        fs::create_directories(m_work_dir, ec);
        if (ec) return make_error(ErrorKind::internal, "cannot create work dir " + m_work_dir + ": " + ec.message());
    }
    if (m_request.docker_hub.dockerfile_path.empty()) {
        m_request.docker_hub.dockerfile_path =
            fs::path(m_request.dockerfile).lexically_relative(m_request.context_dir).string();
    }
    note("build " + m_request.build_id + ": context " + m_request.context_dir + ", Dockerfile " +
         m_request.docker_hub.dockerfile_path + ", cache " + (m_request.cache ? "on" : "off"));
    if (auto status = prepare_sandbox(); !status) return status;
    return prepare_pull_credentials();
}

util::Status BuildahRun::prepare_sandbox() {
    const SandboxOptions& sandbox = m_options.sandbox;
    note("sandbox: " + describe(sandbox));
    if (sandbox.isolation == config::Isolation::chroot) {
        note("WARNING: isolation chroot: RUN steps share the host's processes and network");
        return {};
    }
    if (m_cgroup && !m_cgroup->applied()) {
        note("limits not on the build's cgroup: " + m_cgroup->missing() + "; per RUN step instead");
    }
    if (!sandbox.containers_conf.empty()) m_env["CONTAINERS_CONF"] = sandbox.containers_conf;
    if (!sandbox.cache_mount_root.empty()) {
        // buildah keeps RUN --mount=type=cache directories under $TMPDIR: one TMPDIR per repository.
        const fs::path dir = fs::path(sandbox.cache_mount_root) / cache_scope_key(m_request.docker_hub.docker_repo);
        std::error_code ec;
        fs::create_directories(dir, ec);
        fs::permissions(dir, fs::perms::owner_all, ec);
        if (ec)
            return make_error(ErrorKind::internal,
                              "cannot create cache mount dir " + dir.string() + ": " + ec.message());
        m_env["TMPDIR"] = dir.string();
    }
    return {};
}

util::Status BuildahRun::prepare_pull_credentials() {
    auto registries = m_options.pull_registries;
    if (!m_request.registry_credentials) {
        // The registries stay known (http ones need their registries.conf entry); only the secrets go.
        for (auto& r : registries) r.username.clear(), r.password.clear(), r.credentials_file.clear();
        m_env.erase("REGISTRY_AUTH_FILE");  // buildah would read the host's credentials from it
        note("FROM pulls are anonymous: this build gets no registry credentials");
    }
    auto pull = PullCredentials::write(m_options.credentials_root, m_request.build_id, registries, m_env);
    if (!pull) return pull.error();
    m_pull = std::move(*pull);
    std::string hosts;
    for (const auto& r : m_options.pull_registries) hosts += " " + r.host + (r.insecure ? " (http)" : "");
    if (!m_pull->dir().empty()) note("FROM pulls use the configured registries:" + hosts);
    return {};
}

util::Status BuildahRun::run_hook(Hook hook, bool* ran) {
    return run_hook_file(hook, m_request, m_env, m_sink, m_limits, m_cancel, ran, placement());
}

std::vector<std::string> buildah_command(const BuildahOptions& options, std::vector<std::string> args) {
    std::vector<std::string> argv{options.buildah};
    if (options.sandbox.isolation == config::Isolation::oci) {
        argv.insert(argv.end(), {"--cgroup-manager", options.sandbox.cgroup_manager});
    }
    if (!options.root.empty()) argv.insert(argv.end(), {"--root", options.root});
    if (!options.runroot.empty()) argv.insert(argv.end(), {"--runroot", options.runroot});
    argv.insert(argv.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
    return argv;
}

util::Result<StorageCommandOutcome> run_storage_command(const BuildahOptions& options, std::vector<std::string> argv,
                                                        std::chrono::seconds timeout) {
    StorageCommandOutcome result;
    const LogSink capture = [&result](std::string_view line) { result.output.append(line).push_back('\n'); };
    const CancelSignal never;
    const ChildLimits limits{std::chrono::steady_clock::now() + timeout, options.kill_grace};
    auto outcome = run_child({std::move(argv), executor_base_env(options), "", {}}, capture, limits, never);
    if (!outcome) return outcome.error();
    result.exit_code = outcome->ok() ? 0 : (outcome->exit_code != 0 ? outcome->exit_code : 128 + outcome->signal);
    return result;
}

util::Result<nlohmann::json> buildah_json_list(const std::string& output, const std::string& command) {
    std::size_t start = output.rfind('[', 0) == 0 ? 0 : output.find("\n[");
    if (start == std::string::npos) {
        if (output.rfind("null\n", 0) == 0 || output.find("\nnull\n") != std::string::npos) {
            return nlohmann::json::array();
        }
        return make_error(ErrorKind::internal, command + " printed no JSON list: " + output.substr(0, 300));
    }
    start += output[start] == '\n' ? 1 : 0;
    const auto end = output.find("\n]", start);
    const auto length = end == std::string::npos ? output.find('\n', start) - start : end + 2 - start;
    auto list = nlohmann::json::parse(output.substr(start, length), nullptr, false);
    if (!list.is_array()) return make_error(ErrorKind::internal, command + " printed no JSON list");
    return list;
}

std::vector<std::string> BuildahRun::buildah_argv(std::vector<std::string> args) const {
    return buildah_command(m_options, std::move(args));
}

util::Result<int> BuildahRun::run_buildah(std::vector<std::string> args, const LogSink& sink, const ChildLimits& limits,
                                          const CancelSignal& cancel, std::string_view what,
                                          const std::map<std::string, std::string>& extra_env) {
    ChildSpec spec{buildah_argv(std::move(args)), m_env, m_work_dir, placement()};
    for (const auto& [k, v] : extra_env) spec.env[k] = v;
    auto outcome = run_child(spec, sink, limits, cancel);
    const std::string name(what);
    if (!outcome) {
        if (outcome.error().kind == ErrorKind::not_found) {
            return make_error(ErrorKind::not_found, "buildah is not installed; install the Debian package buildah");
        }
        return make_error(outcome.error().kind, name + ": " + outcome.error().message);
    }
    if (outcome->canceled) return make_error(ErrorKind::canceled, "build canceled during " + name);
    if (outcome->timed_out) {
        return make_error(ErrorKind::timeout, "build ran past its timeout of " +
                                                  std::to_string(m_request.timeout.count()) + " s during " + name +
                                                  "; raise builder.timeout or make the build faster");
    }
    if (outcome->signal != 0) {
        return make_error(ErrorKind::internal, name + " was killed by signal " + std::to_string(outcome->signal));
    }
    return outcome->exit_code;
}

std::vector<std::string> BuildahRun::build_command(std::map<std::string, std::string>& arg_env) {
    std::map<std::string, std::string> args = target_platform_args();
    for (const auto& [k, v] : m_request.docker_hub.to_map()) {
        // An empty variable would override the Dockerfile's own ARG default, so it is left out.
        if (!v.empty()) args[k] = v;
    }
    for (const auto& [k, v] : m_request.build_args) args[k] = v;
    const std::string layers = std::string("--layers=") + (m_request.cache ? "true" : "false");
    std::vector<std::string> cmd{"build"};
    const auto sandbox = sandbox_build_flags(m_options.sandbox, m_cgroup ? m_cgroup->cgroup_parent() : "",
                                             m_cgroup && m_cgroup->applied());
    cmd.insert(cmd.end(), sandbox.begin(), sandbox.end());
    // Only buildah build pulls: the credentials reach neither hooks nor buildah's other commands.
    if (m_pull && !m_pull->auth_file().empty()) cmd.insert(cmd.end(), {"--authfile", m_pull->auth_file()});
    if (m_pull && !m_pull->registries_conf().empty()) arg_env["CONTAINERS_REGISTRIES_CONF"] = m_pull->registries_conf();
    cmd.insert(cmd.end(), {layers, "--force-rm", "-f", m_request.dockerfile, "--iidfile", m_work_dir + "/iid"});
    // Cache off: the image is this build's alone, so buildah commits it straight into the layout, its layers
    // compressed as `buildah push` would: no export process, and no image to remove from the storage.
    m_exported_by_build = !m_request.cache;
    if (m_exported_by_build) cmd.insert(cmd.end(), {"--disable-compression=false", "-t", layout_reference()});
    if (!m_request.platform.empty()) cmd.insert(cmd.end(), {"--platform", m_request.platform});
    std::string shown = "buildah build";
    for (const auto& flag : cmd) shown += flag == "build" ? "" : " " + flag;
    for (const auto& [k, v] : args) {
        // `--build-arg NAME` takes the value from buildah's environment: no process's command line (readable
        // by every user of the host in /proc) shows it. A name buildah itself reads keeps NAME=VALUE.
        if (shapes_buildah(k) || m_env.count(k)) {
            cmd.insert(cmd.end(), {"--build-arg", k + "=" + v});
            note("build arg " + k + " is also a variable buildah reads; passed on its command line");
        } else {
            cmd.insert(cmd.end(), {"--build-arg", k});
            arg_env[k] = v;
        }
        shown += " --build-arg " + k;  // values may be secrets: names only in the log
    }
    cmd.insert(cmd.end(), m_options.extra_build_flags.begin(), m_options.extra_build_flags.end());
    cmd.push_back(m_request.context_dir);
    note(shown + " " + m_request.context_dir);
    return cmd;
}

std::map<std::string, std::string> BuildahRun::target_platform_args() const {
    const auto target = config::parse_platform(m_request.platform);
    if (!target) return {};
    std::map<std::string, std::string> args;
    // An empty TARGETVARIANT is still set, as buildx does: a Dockerfile may test it.
    for (const auto& [k, v] : platform_build_args(*target, config::host_platform())) args[k] = v;
    return args;
}

util::Status BuildahRun::build_with_buildah() {
    std::map<std::string, std::string> arg_env;
    const auto cmd = build_command(arg_env);
    BuildahOutputWatch watch;
    std::chrono::steady_clock::time_point next_pids_check;
    const LogSink watched = [&](std::string_view line) {
        watch.observe(line);
        if (m_sink) m_sink(line);
        // A RUN step at its process limit is a fork bomb or needs a higher limit; either way it ends now.
        // Reading the cgroup's files for every line cost a chatty build more than its RUN step (200,000 lines),
        // so output looks at most every k_pids_check_interval (a fork bomb keeps printing fork errors).
        const auto now = std::chrono::steady_clock::now();
        if (!m_cgroup || now < next_pids_check) return;
        next_pids_check = now + k_pids_check_interval;
        if (m_cgroup->stop_at_pids_limit()) note("RUN step at builder.limits.pids: stopping it");
    };
    auto code = run_buildah(cmd, watched, m_limits, m_cancel, "buildah build", arg_env);
    for (int retry = 1; code && *code != 0 && is_storage_race(watch) && retry <= k_storage_race_retries; ++retry) {
        note("buildah's layer store changed under the build (another build removed an image); retrying");
        watch = BuildahOutputWatch();
        code = run_buildah(cmd, watched, m_limits, m_cancel, "buildah build", arg_env);
    }
    if (!code) return code.error();
    if (*code != 0 && m_cgroup && !m_cgroup->exceeded().empty()) {
        return make_error(ErrorKind::invalid_input, m_cgroup->exceeded());
    }
    if (*code != 0) {
        std::ifstream in(m_request.dockerfile);
        std::stringstream text;
        text << in.rdbuf();
        return explain_pull_refusal(
            diagnose_build_failure(watch, *code, m_request.docker_hub.dockerfile_path, text.str()), watch.pulling(),
            m_options.pull_registries);
    }
    if (m_exported_by_build) return {};  // the image id is the layout's config digest (export_layout)
    m_image_id = with_sha256(read_text(m_work_dir + "/iid"));
    if (m_image_id.size() <= 7) return make_error(ErrorKind::internal, "buildah build wrote no image id");
    m_image = m_image_id;
    return {};
}

util::Status BuildahRun::build_with_hook() {
    const std::string image_name = m_request.docker_hub.to_map()["IMAGE_NAME"];
    if (image_name.empty()) {
        return make_error(ErrorKind::invalid_input, "hooks/build needs IMAGE_NAME, but DOCKER_REPO is not set");
    }
    if (auto status = run_hook(Hook::build); !status) return status;
    m_built_by_hook = true;
    std::string id;
    const LogSink capture = [&](std::string_view line) { id += line; };
    auto code = run_buildah({"inspect", "--type", "image", "--format", "{{.FromImageID}}", image_name}, capture,
                            m_limits, m_cancel, "buildah inspect");
    if (!code) return code.error();
    if (*code != 0 || id.empty()) {
        return make_error(ErrorKind::invalid_input,
                          "hooks/build finished but buildah has no image " + image_name +
                              "; the hook must build it, e.g. buildah bud -t \"$IMAGE_NAME\" .");
    }
    m_image = image_name;
    m_image_id = with_sha256(id);
    return {};
}

std::string BuildahRun::layout_reference() const { return "oci:" + m_request.layout_dir + ":" + m_request.layout_ref; }

util::Status BuildahRun::export_layout() {
    const std::string dest = layout_reference();
    if (!m_exported_by_build) {
        note("buildah push " + m_image + " " + dest);
        auto code = run_buildah({"push", m_image, dest}, m_sink, m_limits, m_cancel, "buildah push");
        if (!code) return code.error();
        if (*code != 0) {
            return make_error(ErrorKind::internal, "buildah push to " + dest + " failed with exit code " +
                                                       std::to_string(*code) + "; see the build log");
        }
    }
    // The labels go into the exported image, not into the build: see oci_labels.hpp.
    auto stamped = stamp_layout_labels(m_request.layout_dir, m_request.layout_ref, m_request.labels);
    if (!stamped) return stamped.error();
    m_manifest_digest = stamped->manifest_digest;
    if (m_exported_by_build) m_image_id = stamped->built_config;
    return {};
}

void BuildahRun::remove_temporaries(bool failed) {
    std::error_code ec;
    m_pull.reset();
    // Cache on: the image stays, untagged, as the cache of its last step. Cache off or a hook-built
    // image: it is this build's alone. A failed build may have an image when only the export failed.
    const bool remove_image = !m_image.empty() && (!m_request.cache || (failed && m_built_by_hook));
    if (remove_image) {
        const CancelSignal never;
        ChildLimits limits{std::chrono::steady_clock::now() + k_cleanup_timeout, m_options.kill_grace};
        auto code = run_buildah({"rmi", "--force", m_image}, m_sink, limits, never, "buildah rmi");
        if (!code || *code != 0) note("could not remove temporary image " + m_image);
    }
    if (failed && m_layout_ours) {
        if (m_layout_existed) {
            for (const auto& entry : fs::directory_iterator(m_request.layout_dir, ec)) fs::remove_all(entry, ec);
        } else {
            fs::remove_all(m_request.layout_dir, ec);
        }
    }
    if (m_own_work_dir) {
        fs::remove_all(m_work_dir, ec);
    } else if (!m_work_dir.empty()) {
        fs::remove(m_work_dir + "/iid", ec);
    }
}

}  // namespace hookyard::pipeline
