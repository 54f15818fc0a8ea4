#pragma once
// The real `hookyard serve` binary on a free loopback port with the intake config (plus whatever YAML a test
// appends), its data dir in a temporary directory.

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/integration/intake/http_client.hpp"
#include "tests/integration/intake/intake_harness.hpp"

namespace hookyard::test {

// A push of Codertocat/Hello-World's master, which the intake config builds.
class ServeBinary : public ::testing::Test {
protected:
    void SetUp() override { write_config(""); }

    // Rewrites the config: the intake config on m_port with `repository_extra` appended to its repository
    // (indented YAML lines such as "    trigger_token: x\n") and `builder_extra` in its builder: mapping
    // (such as "min_free_space: 8MiB").
    void write_config(const std::string& repository_extra, const std::string& builder_extra = "") {
        m_binary = binary_dir() + "/hookyard";
        ASSERT_TRUE(std::filesystem::exists(m_binary)) << m_binary << " is missing: build the hookyard target";
        if (m_port == 0) m_port = free_port();
        std::string yaml = intake_config_yaml();
        yaml.replace(yaml.find("127.0.0.1:0"), 11, "127.0.0.1:" + std::to_string(m_port));
        yaml.insert(yaml.find("    rules:"), repository_extra);
        yaml += "data_dir: " + m_dir.path() + "/data\n";
        // These builds never reach a RUN step (their clone fails), so serve skips the OCI runtime probe,
        // seconds per start (under ThreadSanitizer, more than the wait below).
        yaml += "builder: { isolation: chroot" + (builder_extra.empty() ? "" : ", " + builder_extra) + " }\n";
        write_file(m_dir / "hookyard.yaml", yaml);
    }

    std::unique_ptr<Process> start() {
        auto p = std::make_unique<Process>(std::vector<std::string>{m_binary, "serve", "-c", m_dir / "hookyard.yaml"},
                                           m_dir / "serve.log");
        EXPECT_TRUE(wait_until([&] { return port_open(m_port); }, std::chrono::seconds(60))) << p->log();
        return p;
    }

    nlohmann::json builds() {
        auto r = http_request(m_port, "GET", "/api/v1/builds?limit=500",
                              {{"Authorization", std::string("Bearer ") + k_api_token}});
        EXPECT_EQ(r.status, 200) << r.body;
        return nlohmann::json::parse(r.body)["builds"];
    }

    TempDir m_dir;
    std::string m_binary;
    int m_port = 0;
};

}  // namespace hookyard::test
