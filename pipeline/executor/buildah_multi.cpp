#include "pipeline/executor/buildah_multi.hpp"

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "pipeline/executor/buildah_errors.hpp"
#include "pipeline/executor/buildah_leftovers.hpp"
#include "pipeline/executor/buildah_run.hpp"
#include "pipeline/executor/platforms.hpp"
#include "pipeline/executor/registry_auth.hpp"

namespace hookyard::pipeline {
namespace {

namespace fs = std::filesystem;
using util::ErrorKind;
using util::make_error;

bool is_bare_image_id(std::string_view line) {
    return line.size() == 64 && std::all_of(line.begin(), line.end(),
                                            [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// A name no other build uses at the same time: the manifest list is a named image in the shared storage.
std::string manifest_list_name(const std::string& build_id) {
    std::string id;
    for (const char c : build_id)
        id += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '-';
    std::random_device random;
    std::ostringstream suffix;
    suffix << std::hex << random() << random();
    return "localhost/hookyard-platforms-" + id + "-" + suffix.str();
}

// "os/arch/variant" as `buildah inspect` prints it (variant may be empty) → buildah_platform_name() form.
std::string inspected_platform(std::string text) {
    while (!text.empty() && (text.back() == '/' || text.back() == '\n' || text.back() == ' ')) text.pop_back();
    const auto parsed = config::parse_platform(text);
    return parsed ? buildah_platform_name(*parsed) : text;
}

}  // namespace

std::string buildah_platform_name(const config::Platform& platform) {
    config::Platform p = platform;
    if (p.arch == "arm" && p.variant.empty()) p.variant = "v7";
    if (p.arch == "arm64" && p.variant == "v8") p.variant.clear();
    return p.text();
}

PlatformOutput::PlatformOutput(std::vector<std::string> names)
    : m_started(names.size(), false), m_committed(names.size(), false) {
    for (auto& name : names) m_prefixes.push_back("[" + name + "] ");
}

PlatformOutput::Line PlatformOutput::observe(std::string_view line) {
    Line out;
    out.text = line;
    out.image_id = is_bare_image_id(line);
    for (std::size_t i = 0; i < m_prefixes.size(); ++i) {
        if (line.rfind(m_prefixes[i], 0) != 0) continue;
        out.platform = i;
        out.text = line.substr(m_prefixes[i].size());
        out.first = !m_started[i];
        m_started[i] = true;
        // A multi-stage build puts "[k/n] " between the platform and the step; COMMIT is only ever printed
        // for the last step of the last stage.
        std::string_view rest = out.text;
        if (rest.rfind('[', 0) == 0 && rest.find("] ") != std::string_view::npos)
            rest.remove_prefix(rest.find("] ") + 2);
        if (rest == "COMMIT" || rest.rfind("COMMIT ", 0) == 0) out.committed = m_committed[i] = true;
        break;
    }
    return out;
}

// What the job's callers wait for: each platform's start and outcome, and the whole job's.
struct PlatformsState {
    explicit PlatformsState(std::size_t count) : started(count, false), outcomes(count) {}

    void start(std::size_t i) {
        const std::lock_guard lock(mutex);
        started[i] = true;
        changed.notify_all();
    }
    // The first outcome of a platform counts.
    bool finish(std::size_t i, util::Result<BuildResult> outcome) {
        const std::lock_guard lock(mutex);
        if (outcomes[i]) return false;
        outcomes[i].emplace(std::move(outcome));
        changed.notify_all();
        return true;
    }
    bool finished(std::size_t i) {
        const std::lock_guard lock(mutex);
        return outcomes[i].has_value();
    }

    std::mutex mutex;
    std::condition_variable changed;
    std::vector<bool> started;
    std::vector<std::optional<util::Result<BuildResult>>> outcomes;
    std::optional<util::Status> all;
};

// One multi-platform build, run once on the job's thread (friend of BuildahRun: it uses its checks, build
// command, buildah runner and export).
class PlatformsRun {
public:
    PlatformsRun(const BuildahOptions& options, PlatformsRequest request, LogSink sink, const CancelSignal& cancel,
                 PlatformsState& state)
        : m_options(options),
          m_request(std::move(request)),
          m_sink(std::move(sink)),
          m_cancel(cancel),
          m_state(state),
          m_list(manifest_list_name(m_request.base.build_id)),
          m_watches(m_request.platforms.size()),
          m_digests(m_request.platforms.size()) {
        std::vector<std::string> names;
        for (const auto& p : m_request.platforms) {
            const auto parsed = config::parse_platform(p.platform);
            names.push_back(parsed ? buildah_platform_name(*parsed) : p.platform);
        }
        m_names = names;
        m_output.emplace(std::move(names));
    }

    void run();

private:
    BuildRequest lead_request() const {
        BuildRequest lead = m_request.base;
        lead.platform.clear();
        // The lead run checks and, on failure, clears this layout; each platform's export fills its own.
        lead.layout_dir = m_request.platforms.front().layout_dir;
        return lead;
    }
    std::vector<std::string> command(BuildahRun& lead, std::map<std::string, std::string>& arg_env) const;
    util::Result<int> build(BuildahRun& lead);
    void on_line(std::string_view line);
    void claim(const std::string& id);
    void export_platform(std::size_t i, const std::string& id);
    util::Status fail_unfinished(const util::Error& error, int exit_code);
    util::Status check_list(BuildahRun& lead);
    // Runs buildah `args` in `via`'s scope, which must have no other child running (the end of a child kills
    // whatever else is left in its scope), and returns the output.
    std::string capture(BuildahRun& via, std::vector<std::string> args, std::string_view what, bool* ok);

    const BuildahOptions& m_options;
    PlatformsRequest m_request;
    LogSink m_sink;
    const CancelSignal& m_cancel;
    PlatformsState& m_state;
    std::string m_list;
    std::vector<std::string> m_names;           // buildah's name of each platform
    std::optional<PlatformOutput> m_output;     // read on the build's output thread only
    std::vector<BuildahOutputWatch> m_watches;  // each platform's lines, for its failure's diagnosis
    std::mutex m_claim_mutex;                   // guards m_digests and m_helpers
    std::vector<std::string> m_digests;         // the manifest digest of each platform's claimed image
    std::vector<std::thread> m_helpers;         // claims and exports that run while buildah builds
    std::chrono::steady_clock::time_point m_started = std::chrono::steady_clock::now();
};

std::vector<std::string> PlatformsRun::command(BuildahRun& lead, std::map<std::string, std::string>& arg_env) const {
    std::vector<std::string> cmd = lead.build_command(arg_env);
    // --iidfile: refused with several platforms; the ids come from the output and the manifest list.
    if (const auto it = std::find(cmd.begin(), cmd.end(), "--iidfile"); it != cmd.end()) cmd.erase(it, it + 2);
    // Cache off: one platform's build commits straight into its layout (-t oci:…); here each platform's image
    // goes to its own layout through export_platform, so buildah tags nothing.
    if (const auto it = std::find(cmd.begin(), cmd.end(), "-t"); it != cmd.end()) cmd.erase(it, it + 2);
    std::erase(cmd, std::string("--disable-compression=false"));
    std::string platforms;
    for (const auto& p : m_request.platforms) platforms += (platforms.empty() ? "" : ",") + p.platform;
    std::vector<std::string> flags{
        "--platform", platforms, "--jobs", std::to_string(std::max(m_request.parallelism, 1)), "--manifest", m_list};
    const auto host = config::host_platform();
    for (const auto& [k, v] : platform_build_args(host, host)) {
        // TARGET*: buildah's own, per platform. BUILD*: the host's, unless the rule sets them.
        if (k.rfind("BUILD", 0) == 0 && !m_request.base.build_args.count(k)) {
            flags.insert(flags.end(), {"--build-arg", k + "=" + v});
        }
    }
    cmd.insert(cmd.end() - 1, flags.begin(), flags.end());  // before the context directory
    lead.note("one buildah build for " + platforms + " (--jobs " + flags[3] + "), manifest list " + m_list);
    return cmd;
}

void PlatformsRun::on_line(std::string_view line) {
    const auto seen = m_output->observe(line);
    if (seen.platform) {
        m_watches[*seen.platform].observe(seen.text);
        if (seen.first) m_state.start(*seen.platform);
    } else {
        for (auto& watch : m_watches) watch.observe(line);  // "Error: …", "Trying to pull …": any platform's
    }
    if (m_sink) m_sink(line);
    if (!seen.image_id) return;
    bool pending = false;
    for (std::size_t i = 0; i < m_names.size(); ++i) pending = pending || m_output->committed(i);
    if (!pending) return;
    const std::lock_guard lock(m_claim_mutex);
    m_helpers.emplace_back([this, id = std::string(line)] { claim(id); });
}

std::string PlatformsRun::capture(BuildahRun& via, std::vector<std::string> args, std::string_view what, bool* ok) {
    std::string out;
    const LogSink sink = [&out](std::string_view line) { out += std::string(line) + "\n"; };
    const auto code = via.run_buildah(std::move(args), sink, via.m_limits, m_cancel, what);
    *ok = code && *code == 0;
    return out;
}

// A bare id line after some platform's COMMIT: exported when it is an image of a platform that committed and
// has no image yet (a RUN step printing an id of another platform's image, or of none, changes nothing).
void PlatformsRun::claim(const std::string& id) {
    // A scope of its own: the end of a child kills what is left in its scope, which for the lead is the build.
    BuildRequest probe_request = m_request.base;
    probe_request.build_id += "-probe";
    BuildahRun probe(m_options, probe_request, nullptr, m_cancel);
    bool ok = false;
    const std::string out =
        capture(probe,
                {"inspect", "--type", "image", "--format",
                 "{{.FromImageDigest}} {{.OCIv1.OS}}/{{.OCIv1.Architecture}}/{{.OCIv1.Variant}}", id},
                "buildah inspect", &ok);
    const auto space = out.find(' ');
    if (!ok || space == std::string::npos) return;
    const std::string platform = inspected_platform(out.substr(space + 1));
    std::size_t i = 0;
    {
        const std::lock_guard lock(m_claim_mutex);
        while (i < m_names.size() && !(m_names[i] == platform && m_digests[i].empty())) ++i;
        if (i == m_names.size()) return;
        m_digests[i] = out.substr(0, space);
    }
    export_platform(i, id);
}

void PlatformsRun::export_platform(std::size_t i, const std::string& id) {
    const BuildRequest& req = m_request.platforms[i];
    const LogSink prefixed = [this, prefix = "[" + req.platform + "] "](std::string_view line) {
        if (m_sink) m_sink(prefix + std::string(line));
    };
    BuildahRun run(m_options, req, prefixed, m_cancel);
    std::error_code ec;
    run.m_work_dir = req.work_dir.empty() ? m_request.base.work_dir + "-" + std::to_string(i) : req.work_dir;
    fs::create_directories(run.m_work_dir, ec);
    fs::create_directories(fs::path(req.layout_dir).parent_path(), ec);
    run.m_layout_ours = true;
    run.m_image = run.m_image_id = "sha256:" + id;
    util::Status status = run.export_layout();
    run.remove_temporaries(!status.ok());
    if (!status) {
        m_state.finish(i, status.error());
        return;
    }
    BuildResult result;
    result.layout_dir = req.layout_dir;
    result.layout_ref = req.layout_ref;
    result.image_id = run.m_image_id;
    result.manifest_digest = run.m_manifest_digest;
    result.duration =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - m_started);
    run.note("built " + result.image_id + " for " + req.platform + " into oci:" + result.layout_dir + ":" +
             result.layout_ref);
    m_state.finish(i, std::move(result));
}

util::Result<int> PlatformsRun::build(BuildahRun& lead) {
    std::map<std::string, std::string> arg_env;
    const auto cmd = command(lead, arg_env);
    std::chrono::steady_clock::time_point next_pids_check;
    const LogSink watched = [&](std::string_view line) {
        on_line(line);
        // As BuildahRun's build: a RUN step at its process limit ends now (looked at every few milliseconds).
        const auto now = std::chrono::steady_clock::now();
        if (!lead.m_cgroup || now < next_pids_check) return;
        next_pids_check = now + std::chrono::milliseconds(20);
        if (lead.m_cgroup->stop_at_pids_limit()) lead.note("RUN step at builder.limits.pids: stopping it");
    };
    auto code = lead.run_buildah(cmd, watched, lead.m_limits, m_cancel, "buildah build", arg_env);
    if (code && *code != 0 && lead.m_cgroup && !lead.m_cgroup->exceeded().empty()) {
        return make_error(ErrorKind::invalid_input, lead.m_cgroup->exceeded());
    }
    return code;
}

// After buildah failed: each platform without an image gets the diagnosis of its own output.
util::Status PlatformsRun::fail_unfinished(const util::Error& error, int exit_code) {
    std::ifstream in(m_request.base.dockerfile);
    std::stringstream text;
    text << in.rdbuf();
    std::optional<util::Error> first;
    for (std::size_t i = 0; i < m_names.size(); ++i) {
        util::Error e = error;
        if (exit_code > 0) {
            e = explain_pull_refusal(
                diagnose_build_failure(m_watches[i], exit_code, m_request.base.docker_hub.dockerfile_path, text.str()),
                m_watches[i].pulling(), m_options.pull_registries);
        }
        if (m_state.finish(i, e) && !first)
            first = make_error(e.kind, m_request.platforms[i].platform + ": " + e.message);
    }
    if (first) return *first;
    std::string all;
    for (const auto& p : m_request.platforms) all += (all.empty() ? "" : ",") + p.platform;
    return make_error(error.kind, all + ": " + error.message);
}

util::Status PlatformsRun::check_list(BuildahRun& lead) {
    bool ok = false;
    const std::string text = capture(lead, {"manifest", "inspect", m_list}, "buildah manifest inspect", &ok);
    const auto list = nlohmann::json::parse(text, nullptr, false);
    if (!ok || list.is_discarded() || !list.contains("manifests")) {
        return make_error(ErrorKind::internal, "buildah manifest inspect " + m_list + " failed: " + text);
    }
    std::map<std::string, std::string> digests;
    for (const auto& m : list["manifests"]) {
        const auto& p = m.value("platform", nlohmann::json::object());
        const std::string variant = p.value("variant", "");
        digests[p.value("os", "") + "/" + p.value("architecture", "") + (variant.empty() ? "" : "/" + variant)] =
            m.value("digest", "");
    }
    for (std::size_t i = 0; i < m_names.size(); ++i) {
        const std::string& platform = m_request.platforms[i].platform;
        const auto it = digests.find(m_names[i]);
        if (it == digests.end()) {
            m_state.finish(
                i, make_error(ErrorKind::internal, "buildah's manifest list " + m_list + " has no " + platform));
            continue;
        }
        std::string claimed;
        {
            const std::lock_guard lock(m_claim_mutex);
            claimed = std::exchange(m_digests[i], it->second);
        }
        if (claimed.empty()) {  // its id line was not seen: the list names the image
            std::string id =
                capture(lead, {"inspect", "--type", "image", "--format", "{{.FromImageID}}", m_list + "@" + it->second},
                        "buildah inspect", &ok);
            id.erase(std::remove(id.begin(), id.end(), '\n'), id.end());
            if (ok && is_bare_image_id(id)) export_platform(i, id);
        } else if (claimed != it->second) {
            // Only a build printing another image's id at the moment its platform committed gets here.
            m_state.finish(i, make_error(ErrorKind::internal, "the image exported for " + platform + " (" + claimed +
                                                                  ") is not the manifest list's (" + it->second + ")"));
        }
    }
    return {};
}

void PlatformsRun::run() {
    BuildahRun lead(m_options, lead_request(), m_sink, m_cancel);
    util::Status status = lead.prepare();
    int exit_code = 0;
    if (status) {
        const auto code = build(lead);
        if (!code) status = code.error();
        if (code && *code != 0) {
            exit_code = *code;
            status =
                make_error(ErrorKind::invalid_input, "buildah build failed with exit code " + std::to_string(*code));
        }
    }
    // Claims and exports started while buildah printed: no more start once it has exited.
    for (auto& helper : m_helpers) helper.join();
    if (status) {
        status = check_list(lead);
        bool removed = false;
        capture(lead, {"manifest", "rm", m_list}, "buildah manifest rm", &removed);
        if (!removed) lead.note("could not remove manifest list " + m_list);
    }
    if (!status) {
        status = fail_unfinished(status.error(), exit_code);
    } else {
        for (std::size_t i = 0; i < m_names.size() && status; ++i) {
            const std::lock_guard lock(m_state.mutex);
            const auto& outcome = m_state.outcomes[i];
            if (!outcome) {
                status = make_error(ErrorKind::internal, m_request.platforms[i].platform + ": no image was exported");
            } else if (!*outcome) {
                status = make_error(outcome->error().kind,
                                    m_request.platforms[i].platform + ": " + outcome->error().message);
            }
        }
        if (!status) static_cast<void>(fail_unfinished(status.error(), 0));  // the platforms left get this error
    }
    lead.remove_temporaries(!status.ok());
    if (!status) lead.note("build failed: " + status.error().message);
    const std::lock_guard lock(m_state.mutex);
    m_state.all = status;
    m_state.changed.notify_all();
}

namespace {

class BuildahPlatformsJob final : public PlatformsJob {
public:
    BuildahPlatformsJob(std::shared_ptr<const BuildahOptions> options, PlatformsRequest request, LogSink sink)
        : m_state(request.platforms.size()) {
        m_thread = std::thread(
            [this, options = std::move(options), request = std::move(request), sink = std::move(sink)]() mutable {
                try {
                    PlatformsRun(*options, std::move(request), std::move(sink), m_cancel, m_state).run();
                } catch (const std::exception& e) {
                    const auto error = make_error(ErrorKind::internal, std::string("build crashed: ") + e.what());
                    for (std::size_t i = 0; i < m_state.outcomes.size(); ++i) m_state.finish(i, error);
                    const std::lock_guard lock(m_state.mutex);
                    m_state.all = error;
                    m_state.changed.notify_all();
                }
                // The run (and its scopes) are gone: a buildah killed mid-step left its working containers.
                if (!*wait_all_locked())
                    log_removed_containers(remove_buildah_leftovers(*options), "after a multi-platform build");
            });
    }

    ~BuildahPlatformsJob() override {
        cancel();
        m_thread.join();
    }

    void cancel() override { m_cancel.raise(); }

    void wait_started(std::size_t i) override {
        std::unique_lock lock(m_state.mutex);
        m_state.changed.wait(lock, [&] { return m_state.started.at(i) || m_state.outcomes.at(i) || m_state.all; });
    }

    util::Result<BuildResult> wait(std::size_t i) override {
        std::unique_lock lock(m_state.mutex);
        m_state.changed.wait(lock, [&] { return m_state.outcomes.at(i) || m_state.all; });
        if (m_state.outcomes[i]) return *m_state.outcomes[i];
        return m_state.all->ok() ? make_error(ErrorKind::internal, "no outcome") : m_state.all->error();
    }

    util::Status wait_all() override { return *wait_all_locked(); }

private:
    std::optional<util::Status> wait_all_locked() {
        std::unique_lock lock(m_state.mutex);
        m_state.changed.wait(lock, [&] { return m_state.all.has_value(); });
        return m_state.all;
    }

    CancelSignal m_cancel;
    PlatformsState m_state;
    std::thread m_thread;  // last: starts after every member it uses exists
};

}  // namespace

std::unique_ptr<PlatformsJob> start_buildah_platforms(std::shared_ptr<const BuildahOptions> options,
                                                      PlatformsRequest request, LogSink sink) {
    return std::make_unique<BuildahPlatformsJob>(std::move(options), std::move(request), std::move(sink));
}

}  // namespace hookyard::pipeline
