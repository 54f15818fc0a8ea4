#pragma once
// Shared set-up for the buildah executor tests: a FROM scratch + static busybox context in a temp dir,
// a log collector, and readers for what ended up in the OCI layout.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "pipeline/executor/buildah_executor.hpp"
#include "tests/support/log_lines.hpp"
#include "tests/support/support.hpp"

namespace hookyard::pipeline::test_fixture {

// Line collector for a build's LogSink, with readers for the executor's messages.
class LogLines : public test::LogLines {
public:
    std::string text() const {
        std::string out;
        for (const auto& l : lines()) out += l + "\n";
        return out;
    }
    // The line right after the first one equal to `line`, or "".
    std::string after(const std::string& line) const {
        const auto all = lines();
        const auto it = std::find(all.begin(), all.end(), line);
        return it == all.end() || it + 1 == all.end() ? "" : *(it + 1);
    }
};

// A random token that makes each test's Dockerfile (and so its cache keys) unique.
inline std::string nonce() {
    std::random_device rd;
    return std::to_string(rd()) + std::to_string(rd());
}

class ExecutorTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!test::have_program("buildah") || !std::filesystem::exists("/bin/busybox")) {
            GTEST_SKIP() << "needs buildah and busybox-static (scripts/setup installs them)";
        }
        // A private buildah storage per test: nothing is left in the machine's storage afterwards and no
        // other test's images or cache take part (hooks use HOOKYARD_BUILDAH_ROOT/RUNROOT to reach it).
        m_options.root = m_dir / "storage";
        m_options.runroot = m_dir / "run";
        m_executor = make_buildah_executor(m_options);
    }

    void TearDown() override {
        if (m_executor)
            test::sh(buildah_cli() + " rm --all >/dev/null 2>&1; " + buildah_cli() +
                     " rmi --all --force >/dev/null 2>&1");
    }

    // "buildah --root ... --runroot ..." for this test's storage, for shell commands.
    std::string buildah_cli() const {
        return "buildah --root '" + m_options.root + "' --runroot '" + m_options.runroot + "'";
    }

    // True when this test's storage holds image `ref` (an id or a name).
    bool has_image(const std::string& ref) {
        return test::sh(buildah_cli() + " inspect --type image '" + ref + "' >/dev/null 2>&1") == 0;
    }

    // Writes a context dir `name` under the temp dir holding /bin/busybox and `dockerfile`.
    std::string make_context(const std::string& name, const std::string& dockerfile) {
        const std::string ctx = m_dir / name;
        std::filesystem::create_directories(ctx);
        std::filesystem::copy_file("/bin/busybox", ctx + "/busybox", std::filesystem::copy_options::overwrite_existing);
        test::write_file(ctx + "/Dockerfile", dockerfile);
        return ctx;
    }

    BuildRequest request_for(const std::string& ctx, const std::string& name) {
        BuildRequest r;
        r.build_id = name;
        r.context_dir = ctx;
        r.dockerfile = ctx + "/Dockerfile";
        r.layout_dir = m_dir / (name + "-layout");
        r.work_dir = m_dir / (name + "-work");
        r.timeout = std::chrono::seconds(300);
        return r;
    }

    util::Result<BuildResult> build(const BuildRequest& request, LogLines& log) {
        return m_executor->start(request, log.sink())->wait();
    }

    // Builds `dockerfile` in a fresh context; the build must fail: returns its error.
    util::Error build_error(const std::string& name, const std::string& dockerfile) {
        LogLines log;
        auto result = build(request_for(make_context("ctx", dockerfile), name), log);
        EXPECT_FALSE(result.ok()) << name << " was built";
        return result.ok() ? util::Error{} : result.error();
    }

    // The content of `path` (relative, e.g. "out/args") from the first layer in the layout that has it.
    std::string file_in_layout(const std::string& layout, const std::string& path) {
        std::string out;
        const int rc = test::sh("for b in '" + layout + "'/blobs/sha256/*; do tar -xzOf \"$b\" '" + path +
                                    "' 2>/dev/null && exit 0; done; exit 1",
                                &out);
        return rc == 0 ? out : "<" + path + " not in any layer>";
    }

    std::string skopeo(const std::string& args) {
        std::string out;
        const int rc = test::sh("skopeo inspect " + args + " 2>&1", &out);
        return rc == 0 ? out : "skopeo failed: " + out;
    }

    test::TempDir m_dir;
    BuildahOptions m_options;
    std::unique_ptr<Executor> m_executor;
};

}  // namespace hookyard::pipeline::test_fixture
