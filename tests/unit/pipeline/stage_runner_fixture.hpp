#pragma once
// The stage runner's unit-test fixture, every seam faked (in-memory store, fake checkout, executor and
// pusher): a config with one repository and rule, a claimed build, its recorded stages.

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/stage_runner.hpp"
#include "tests/support/fake_builder.hpp"
#include "tests/support/fake_checkout.hpp"
#include "tests/support/fake_store.hpp"
#include "tests/support/support.hpp"

namespace hookyard::pipeline::test_fixture {

using storage::BuildState;

class StageRunnerTest : public ::testing::Test {
protected:
    StageRunnerTest() : m_checkout(test::FakeCheckout::Files{{"Dockerfile", "FROM scratch\n"}}) {
        m_config.data_dir = m_dir.path();
        config::RepositoryConfig repo;
        repo.github = "acme/web";
        repo.clone_url = "https://example.invalid/acme/web.git";
        repo.registry = "hub";
        repo.rules.emplace_back();
        m_config.repositories.push_back(repo);
        m_config.registries["hub"] = config::RegistryConfig{};
    }

    // Queues and claims one build, as the scheduler would, and returns it running; `edit` changes it first.
    storage::Build claimed(const std::function<void(storage::NewBuild&)>& edit = {}) {
        storage::NewBuild b;
        b.repository = "acme/web";
        b.ref = "refs/heads/main";
        b.image = "docker.io/acme/web";
        b.tags = {"latest", "main"};
        b.context = "/";
        b.dockerfile = "Dockerfile";
        if (edit) edit(b);
        auto inserted = m_store->insert_builds({b});
        EXPECT_TRUE(inserted.ok());
        auto build = m_store->claim(inserted->at(0).id);
        EXPECT_TRUE(build.ok());
        return *build;
    }

    std::vector<std::pair<std::string, BuildState>> stages_of(storage::BuildId id) {
        std::vector<std::pair<std::string, BuildState>> out;
        auto build = m_store->get_build(id);
        EXPECT_TRUE(build.ok());
        if (!build) return out;
        for (const auto& s : build->stages) out.emplace_back(s.name, s.state);
        return out;
    }

    // kill -9 and restart: recovery re-queues the running build, the scheduler claims it again.
    storage::Build crash_and_reclaim(storage::BuildId id) {
        EXPECT_EQ(*m_store->requeue_running(), 1);
        auto build = m_store->claim(id);
        EXPECT_TRUE(build.ok());
        return *build;
    }

    // Platforms are checked against m_dir/binfmt (empty unless a test registers handlers there).
    RunOutcome run(const storage::Build& build, CancelToken& token) {
        StageRunner runner(m_config, *m_store, m_checkout, m_executor, m_pusher, nullptr,
                           PlatformSupport(m_dir / "binfmt"));
        return runner.run(build, token);
    }

    // Runs `build` to its end with a token nobody cancels.
    RunOutcome run(const storage::Build& build) {
        CancelToken token;
        return run(build, token);
    }

    test::TempDir m_dir;
    config::Config m_config;
    std::unique_ptr<storage::Store> m_store = test::make_fake_store();
    test::FakeCheckout m_checkout;
    test::FakeExecutor m_executor;
    test::FakePusher m_pusher;
};

}  // namespace hookyard::pipeline::test_fixture
