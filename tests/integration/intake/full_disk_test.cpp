// The real `hookyard serve` with its data dir on a small tmpfs that fills up: below builder.min_free_space
// /healthz says degraded (200), queued builds say why they wait and intake goes on; with the disk full,
// pushes are refused but never answered 202 and lost, the process stays up and the store stays sound.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "storage/sqlite_db.hpp"
#include "tests/integration/intake/serve_binary.hpp"

using namespace hookyard;
using test::ServeBinary;

namespace {

// A tmpfs of `size` at `dir` for the test's lifetime (lazily unmounted, so a live process cannot block it).
class TmpfsMount {
public:
    TmpfsMount(const std::string& dir, const std::string& size) : m_dir(dir) {
        std::filesystem::create_directories(dir);
        m_mounted = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size + ",mode=0700").c_str()) == 0;
    }
    ~TmpfsMount() {
        if (m_mounted) ::umount2(m_dir.c_str(), MNT_DETACH);
    }
    bool mounted() const { return m_mounted; }

private:
    std::string m_dir;
    bool m_mounted = false;
};

// Writes `bytes` of filler (all that fits when the file system fills first).
void fill(const std::string& path, std::uint64_t bytes) {
    std::ofstream out(path, std::ios::binary);
    const std::string block(64 * 1024, 'f');
    for (std::uint64_t done = 0; done < bytes && out; done += block.size()) out.write(block.data(), block.size());
}

std::uint64_t free_bytes(const std::string& dir) {
    struct statvfs st {};
    return ::statvfs(dir.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize : 0;
}

test::Reply healthz(int port) { return test::http_request(port, "GET", "/healthz", {}); }

}  // namespace

TEST_F(ServeBinary, AFullDataDirDegradesHealthHoldsBuildsAndLosesNoAcceptedDelivery) {
    const std::string data = m_dir / "data";
    TmpfsMount tmpfs(data, "24m");
    if (!tmpfs.mounted()) GTEST_SKIP() << "mounting a tmpfs needs root (CAP_SYS_ADMIN)";
    write_config("", "min_free_space: 8MiB");
    std::vector<std::string> accepted;
    auto push = [&](const std::string& id) {
        auto r = test::post_github(m_port, test::k_secret, "push", id, test::k_sample_push);
        if (r.status == 202) accepted.push_back(id);
        EXPECT_TRUE(r.status == 202 || r.status >= 500) << r.status << " " << r.body;
        return r.status;
    };
    {
        auto serve = start();
        EXPECT_EQ(nlohmann::json::parse(healthz(m_port).body)["status"], "ok");
        fill(data + "/filler-1", free_bytes(data) - 4 * 1024 * 1024);
        ASSERT_TRUE(test::wait_until([&] { return healthz(m_port).body.find("degraded") != std::string::npos; },
                                     std::chrono::seconds(10)));
        auto degraded = nlohmann::json::parse(healthz(m_port).body);
        EXPECT_EQ(healthz(m_port).status, 200);
        EXPECT_NE(degraded["reasons"][0].get<std::string>().find("data dir " + data), std::string::npos);
        for (int i = 0; i < 10; ++i) EXPECT_EQ(push("low-" + std::to_string(i)), 202) << "intake goes on";
        auto queued = builds();
        ASSERT_FALSE(queued.empty());
        EXPECT_EQ(queued[0]["state"], "queued") << "builds wait while space is low";
        EXPECT_TRUE(queued[0].contains("waiting")) << queued[0].dump();

        fill(data + "/filler-2", std::uint64_t{1} << 30);  // now the disk is full
        for (int i = 0; i < 40; ++i) push("full-" + std::to_string(i));
        EXPECT_LT(accepted.size(), 50u) << "a full disk refuses pushes (it did not fill?)";
        EXPECT_EQ(healthz(m_port).status == 200 || healthz(m_port).status == 503, true) << "still answering";
        serve->signal(SIGKILL);
        serve->wait(std::chrono::seconds(10));
    }
    std::filesystem::remove(data + "/filler-1");
    std::filesystem::remove(data + "/filler-2");
    auto db = storage::sqlite::Db::open(data + "/hookyard.db");
    ASSERT_TRUE(db.ok());
    auto check = (*db)->query("PRAGMA integrity_check");
    ASSERT_TRUE(check.ok() && *check->step());
    EXPECT_EQ(check->text_at(0), "ok");
    auto serve = start();
    for (const auto& id : accepted) {
        auto again = test::post_github(m_port, test::k_secret, "push", id, test::k_sample_push);
        EXPECT_EQ(again.status, 200) << id << " got a 202 but was not stored: " << again.body;
    }
}
