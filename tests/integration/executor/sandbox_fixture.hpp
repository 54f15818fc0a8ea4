#pragma once
// The executor tests' fixture with the build sandbox of `hookyard serve`: OCI isolation through runc, a
// containment cgroup per build (so builder.limits hold), and a log reader for what a RUN step printed.

#include <unistd.h>

#include <initializer_list>
#include <string>

#include "pipeline/executor/sandbox.hpp"
#include "pipeline/executor/sandbox_network.hpp"
#include "tests/integration/executor/build_fixture.hpp"

namespace hookyard::pipeline::test_fixture {

class SandboxTest : public ExecutorTest {
protected:
    void SetUp() override {
        ExecutorTest::SetUp();
        if (IsSkipped()) return;
        if (!test::have_program("runc")) GTEST_SKIP() << "needs runc (scripts/setup installs it)";
    }

    // SandboxTest::SetUp for a fixture that needs root and every one of `programs` (`packages` names what
    // installs them): false when the test is skipped, so the caller's SetUp returns.
    bool set_up_as_root_with(std::initializer_list<const char*> programs, const std::string& packages) {
        SandboxTest::SetUp();
        if (!IsSkipped()) require_root_and(programs, packages);
        return !IsSkipped();
    }

    // Skips the test unless it runs as root with every one of `programs`.
    void require_root_and(std::initializer_list<const char*> programs, const std::string& packages) {
        bool ok = ::geteuid() == 0;
        std::string names;
        for (const char* p : programs) {
            ok = ok && test::have_program(p);
            names += std::string(names.empty() ? "" : ", ") + p;
        }
        if (!ok) GTEST_SKIP() << "needs root and " << names << " (scripts/setup installs " << packages << ")";
    }

    // Recreates the executor with `sandbox` and a cgroup containment in this test's temp dir; without a
    // containers.conf, with the one serve writes for network none.
    void use_sandbox(const SandboxOptions& sandbox) {
        m_options.sandbox = sandbox;
        if (sandbox.containers_conf.empty() && sandbox.isolation == config::Isolation::oci) {
            auto conf = write_containers_conf(m_dir / "run/sandbox", "");
            ASSERT_TRUE(conf.ok()) << conf.error().message;
            m_options.sandbox.containers_conf = *conf;
        }
        m_options.containment = ProcessContainment::make({m_dir / "data", ""});
        m_executor = make_buildah_executor(m_options);
    }

    // Recreates the executor with the filtered network (builder.network private) allowing `allow`; false
    // (with a test failure) when the network cannot be set up.
    bool use_filtered_network(const std::vector<std::string>& allow = {}) {
        auto net = prepare_filtered_network(m_dir / "run", allow, {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}});
        EXPECT_TRUE(net.ok()) << net.error().message;
        if (!net) return false;
        SandboxOptions sandbox;
        sandbox.network = net->name;
        sandbox.containers_conf = net->containers_conf;
        use_sandbox(sandbox);
        return true;
    }

    // The lines a RUN step printed between "BEGIN-<tag>" and "END-<tag>".
    static std::vector<std::string> section(const LogLines& log, const std::string& tag) {
        std::vector<std::string> out;
        bool in = false;
        for (const auto& line : log.lines()) {
            if (line == "END-" + tag) in = false;
            if (in) out.push_back(line);
            if (line == "BEGIN-" + tag) in = true;
        }
        return out;
    }

    // A Dockerfile whose one RUN step (with `run_flags`, e.g. --mount=...) runs `script` with busybox's sh,
    // after the instructions `prelude`.
    static std::string run_dockerfile(const std::string& script, const std::string& prelude = "",
                                      const std::string& run_flags = "") {
        std::string escaped;
        for (char c : script) {
            if (c == '"' || c == '\\') escaped += '\\';
            escaped += c;
        }
        return "FROM scratch\nCOPY busybox /bin/busybox\n" + prelude + "RUN " + run_flags +
               "[\"/bin/busybox\",\"sh\",\"-c\",\"" + escaped + "\"]\n";
    }
};

}  // namespace hookyard::pipeline::test_fixture

namespace hookyard::pipeline {
// What every sandbox test uses, by its short name.
using test_fixture::LogLines;
using test_fixture::nonce;
using test_fixture::SandboxTest;
}  // namespace hookyard::pipeline
