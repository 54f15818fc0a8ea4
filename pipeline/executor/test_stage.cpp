#include "pipeline/executor/test_stage.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "pipeline/executor/buildah_run.hpp"
#include "pipeline/executor/hooks.hpp"
#include "pipeline/executor/test_stage_run.hpp"

namespace hookyard::pipeline {
namespace {

namespace fs = std::filesystem;
using util::ErrorKind;
using util::make_error;

// Listing and removing a killed hookyard's test containers at start-up.
constexpr std::chrono::seconds k_stale_scan_timeout{60};

// How many of sut's last output lines a failure's message carries (the whole output is in the log).
constexpr std::size_t k_failure_lines = 10;

std::string dockerfile_dir(const BuildRequest& request) { return fs::path(request.dockerfile).parent_path().string(); }

}  // namespace

bool has_tests(const BuildRequest& request) {
    return !find_test_files(dockerfile_dir(request)).empty() ||
           (request.hooks && !hook_path(request, Hook::test).empty());
}

int remove_stale_test_containers(const BuildahOptions& buildah) {
    const auto env = executor_base_env(buildah);
    const CancelSignal never;
    const ChildLimits limits{std::chrono::steady_clock::now() + k_stale_scan_timeout, buildah.kill_grace};
    std::vector<std::string> names;
    const LogSink collect = [&names](std::string_view line) { names.emplace_back(line); };
    const auto listed = run_child(
        {buildah_command(buildah, {"containers", "--noheading", "--format", "{{.ContainerName}}"}), env, "", {}},
        collect, limits, never);
    if (!listed || !listed->ok()) return 0;
    int removed = 0;
    for (const auto& name : names) {
        // hookyard-test-<build>-<pid>-<n>: the pid is the second number from the end.
        const auto last = name.rfind('-');
        const auto before = last == std::string::npos || last == 0 ? std::string::npos : name.rfind('-', last - 1);
        if (name.rfind(k_test_container_prefix, 0) != 0 || before == std::string::npos) continue;
        const pid_t pid = static_cast<pid_t>(std::atol(name.substr(before + 1, last - before - 1).c_str()));
        if (pid <= 0 || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
        const auto rm = run_child({buildah_command(buildah, {"rm", name}), env, "", {}}, {}, limits, never);
        if (rm && rm->ok()) ++removed;
    }
    return removed;
}

TestRun::TestRun(const BuildahOptions& options, TestRequest request, LogSink sink, const CancelSignal& cancel)
    : m_options(options),
      m_request(std::move(request)),
      m_limits{std::chrono::steady_clock::now() + m_request.build.timeout, options.kill_grace},
      m_sink(std::move(sink)),
      m_cancel(cancel),
      m_env(executor_base_env(options)),
      m_scope(options.containment ? options.containment->open(m_request.build.build_id + "-test") : nullptr) {
    // Containers' limits as a build's RUN steps have them (build_cgroup.hpp).
    if (m_options.sandbox.isolation == config::Isolation::oci && m_scope && !m_scope->cgroup().empty()) {
        m_cgroup = std::make_unique<BuildCgroup>(cgroup_relative(m_scope->cgroup()), m_options.sandbox.limits);
    }
}

TestRun::~TestRun() {
    remove_containers();
    stop_network();
    std::error_code ec;
    if (!m_work_dir.empty()) fs::remove_all(m_work_dir, ec);
}

ChildPlacement TestRun::placement() const { return m_scope ? m_scope->placement() : ChildPlacement{}; }

void TestRun::note(const std::string& line) const {
    const std::lock_guard lock(m_log_mutex);
    if (m_sink) m_sink("hookyard: " + line);
}

util::Status TestRun::run() {
    util::Status status = prepare();
    const BuildRequest& build = m_request.build;
    if (status) status = run_hook_file(Hook::pre_test, build, m_env, m_sink, m_limits, m_cancel, nullptr, placement());
    if (status && build.hooks && !hook_path(build, Hook::test).empty()) {
        note("hooks/test replaces the *.test.yml files");
        status = run_hook_file(Hook::test, build, m_env, m_sink, m_limits, m_cancel, nullptr, placement());
    } else if (status) {
        status = run_files();
    }
    if (status) status = run_hook_file(Hook::post_test, build, m_env, m_sink, m_limits, m_cancel, nullptr, placement());
    remove_containers();
    if (m_pulled_layout) {
        // This run's copy of the image (the build removed its own: cache off).
        const CancelSignal never;
        (void)buildah({"rmi", "--force", m_request.image_id}, {}, never, "buildah rmi");
    }
    if (!status) note("tests failed: " + status.error().message);
    return status;
}

util::Status TestRun::prepare() {
    if (find_program(m_options.buildah, m_env).empty()) {
        return make_error(ErrorKind::not_found, "buildah is not installed (no '" + m_options.buildah +
                                                    "' on PATH); install the Debian package buildah");
    }
    std::error_code ec;
    const fs::path base =
        m_request.build.work_dir.empty() ? fs::temp_directory_path(ec) : fs::path(m_request.build.work_dir);
    fs::create_directories(base, ec);
    std::string tmpl = (base / "test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
        return make_error(ErrorKind::internal, "cannot create a work dir for the tests under " + base.string());
    }
    m_work_dir = tmpl;
    if (!m_options.sandbox.containers_conf.empty()) m_env["CONTAINERS_CONF"] = m_options.sandbox.containers_conf;
    static std::once_flag scanned;
    std::call_once(scanned, [this] {
        if (const int n = remove_stale_test_containers(m_options); n > 0) {
            note("removed " + std::to_string(n) + " test container(s) a killed hookyard left");
        }
    });
    return {};
}

util::Status TestRun::run_files() {
    const auto files = find_test_files(dockerfile_dir(m_request.build));
    for (const auto& path : files) {
        if (auto st = run_file(path); !st) return st;
    }
    return {};
}

util::Status TestRun::run_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    const fs::path relative = fs::path(path).lexically_relative(m_request.build.context_dir);
    const std::string name =
        relative.empty() || *relative.begin() == ".." ? fs::path(path).filename().string() : relative.generic_string();
    auto file = parse_test_file(name, text.str(), m_request.build.docker_hub.to_map());
    if (!file) return file.error();
    note("test " + name + ": running sut" +
         (file->services.size() > 1 ? " after " + std::to_string(file->services.size() - 1) + " service(s)" : ""));
    auto status = run_services(*file);
    remove_containers();
    stop_network();
    if (status) note("test " + name + " passed");
    return status;
}

util::Status TestRun::run_services(const TestFile& file) {
    if (file.services.size() > 1) {
        if (auto st = start_network(file); !st) return st;
    }
    for (const auto& service : file.services) {
        if (auto st = create(file, service); !st) return st;
    }
    // Dependencies run until sut is done; each has a stop signal of its own.
    std::vector<std::unique_ptr<CancelSignal>> stops;
    std::vector<std::thread> running;
    for (std::size_t i = 0; i + 1 < m_containers.size(); ++i) {
        stops.push_back(std::make_unique<CancelSignal>());
        running.emplace_back([this, i, stop = stops.back().get()] {
            const auto scope = side_scope(m_containers[i].service->name);
            (void)run_container(m_containers[i], *stop, scope ? scope->placement() : ChildPlacement{});
        });
    }
    auto outcome = run_container(m_containers.back(), m_cancel, placement());
    for (auto& stop : stops) stop->raise();
    for (auto& t : running) t.join();
    if (!outcome) return outcome.error();
    return test_failed(file, *outcome);
}

std::unique_ptr<ContainmentScope> TestRun::side_scope(const std::string& name) const {
    return m_options.containment ? m_options.containment->open(m_request.build.build_id + "-test-" + name) : nullptr;
}

util::Result<ChildOutcome> TestRun::run_container(const Container& c, const CancelSignal& cancel,
                                                  const ChildPlacement& placement) {
    const bool sut = c.service->name == "sut";
    auto output = std::make_shared<std::deque<std::string>>();
    const LogSink sink = [this, sut, output, prefix = c.service->name + " | "](std::string_view line) {
        const std::lock_guard lock(m_log_mutex);
        if (m_sink) m_sink(prefix + std::string(line));
        if (!sut) return;
        output->emplace_back(line);
        if (output->size() > k_failure_lines) output->pop_front();
    };
    const ChildSpec spec{buildah_command(m_options, run_args(c)), m_env, m_work_dir, placement};
    auto outcome = run_child(spec, sink, m_limits, cancel);
    if (outcome && sut) {
        std::string tail;
        for (const auto& line : *output) tail += (tail.empty() ? "" : " | ") + line;
        m_sut_output = tail;
    }
    return outcome;
}

util::Status TestRun::test_failed(const TestFile& file, const ChildOutcome& outcome) const {
    if (outcome.canceled) return make_error(ErrorKind::canceled, "tests canceled during " + file.name);
    if (outcome.timed_out) {
        return make_error(ErrorKind::timeout, "tests ran past the build timeout of " +
                                                  std::to_string(m_request.build.timeout.count()) + " s in " +
                                                  file.name + "; raise builder.timeout or make the test faster");
    }
    if (outcome.signal != 0) {
        return make_error(ErrorKind::internal,
                          file.name + ": sut was killed by signal " + std::to_string(outcome.signal));
    }
    if (outcome.exit_code == 0) return {};
    if (m_cgroup && !m_cgroup->exceeded().empty()) {
        return make_error(ErrorKind::invalid_input, file.name + ": sut failed with exit code " +
                                                        std::to_string(outcome.exit_code) + ": " +
                                                        m_cgroup->exceeded());
    }
    return make_error(ErrorKind::invalid_input, file.name + ": sut failed with exit code " +
                                                    std::to_string(outcome.exit_code) +
                                                    "; its last output: " + m_sut_output);
}

}  // namespace hookyard::pipeline
