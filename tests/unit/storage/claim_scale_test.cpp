// Claims with a deep queue: builds held back by a running build's image:tag are passed over by later ones
// and run once it is free, whoever frees it, and a claim costs the same with 20,000 builds held back as
// with none.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>

#include "storage/sqlite_db.hpp"
#include "storage/store.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/unit/storage/store_contract.hpp"

using namespace hookyard::storage;
using hookyard::test::StoreOutbox;
using hookyard::test::web_build;

namespace {

BuildId claim_id(Store& store) {
    auto claimed = store.claim_next_queued();
    EXPECT_TRUE(claimed.ok()) << (claimed.ok() ? "" : claimed.error().message);
    return claimed.ok() && claimed->has_value() ? (*claimed)->id : 0;
}

std::vector<NewBuild> held_back_behind_latest(int n) {
    std::vector<NewBuild> out;
    for (int i = 0; i < n; ++i) out.push_back(web_build("refs/heads/b" + std::to_string(i), {"latest"}));
    return out;
}

TEST_P(StoreOutbox, BuildsHeldBackByARunningImageArePassedOverThenRunInOrder) {
    auto store = open();
    auto first = store->insert_builds({web_build("refs/heads/main", {"latest"})});
    ASSERT_TRUE(first.ok());
    ASSERT_EQ(claim_id(*store), first->at(0).id);
    auto held = store->insert_builds(held_back_behind_latest(5));
    ASSERT_TRUE(held.ok());
    EXPECT_EQ(claim_id(*store), 0) << "all five push :latest, which build 1 pushes";
    auto other = store->insert_builds({web_build("refs/heads/dev", {"dev"})});
    ASSERT_TRUE(other.ok());
    EXPECT_EQ(claim_id(*store), other->at(0).id) << "a later build of another tag passes the held ones";
    EXPECT_EQ(claim_id(*store), 0);
    ASSERT_TRUE(store->finish_build(first->at(0).id, BuildState::failed, "", "boom").ok());
    EXPECT_EQ(claim_id(*store), held->at(0).id) << "the oldest held build once :latest is free";
    ASSERT_TRUE(store->cancel_build(held->at(0).id).ok());
    EXPECT_EQ(store->get_build(held->at(0).id)->state, BuildState::running) << "cancel only requests";
    ASSERT_TRUE(store->finish_build(held->at(0).id, BuildState::canceled, "", "canceled").ok());
    EXPECT_EQ(claim_id(*store), held->at(1).id);
}

TEST_P(StoreOutbox, CancelingTheNewerBuildOfARefLetsTheOlderOneRun) {
    auto store = open();
    auto blocker = store->insert_builds({web_build("refs/heads/x", {"shared"})});
    ASSERT_TRUE(blocker.ok());
    ASSERT_EQ(claim_id(*store), blocker->at(0).id);
    auto pair = store->insert_builds({web_build("refs/heads/main", {"shared"}), web_build("refs/heads/main", {"m"})});
    ASSERT_TRUE(pair.ok());
    EXPECT_EQ(claim_id(*store), pair->at(1).id) << "the newer build of main runs; the older is superseded";
    EXPECT_EQ(store->get_build(pair->at(0).id)->state, BuildState::superseded);

    auto older = store->insert_builds({web_build("refs/heads/dev", {"shared"})});
    auto newer = store->insert_builds({web_build("refs/heads/dev", {"shared"})});
    ASSERT_TRUE(older.ok() && newer.ok());
    ASSERT_TRUE(store->cancel_build(newer->at(0).id).ok());
    EXPECT_EQ(claim_id(*store), 0) << ":shared is still pushed by the first build";
    ASSERT_TRUE(store->finish_build(blocker->at(0).id, BuildState::succeeded, "sha256:x", "").ok());
    EXPECT_EQ(claim_id(*store), older->at(0).id) << "its newer sibling is canceled, so it is not replaced";
}

class ClaimScale : public ::testing::Test {
protected:
    std::unique_ptr<Store> open_sqlite() {
        auto s = make_sqlite_store(m_dir / "hookyard.db");
        EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
        return s.ok() ? std::move(*s) : nullptr;
    }
    hookyard::test::TempDir m_dir;
};

TEST_F(ClaimScale, ABuildFinishedByAnotherWriterOfTheFileFreesTheHeldOnes) {
    auto store = open_sqlite();
    auto first = store->insert_builds({web_build("refs/heads/main", {"latest"})});
    ASSERT_EQ(claim_id(*store), first->at(0).id);
    auto held = store->insert_builds(held_back_behind_latest(3));
    ASSERT_TRUE(held.ok());
    EXPECT_EQ(claim_id(*store), 0);
    {
        auto other = open_sqlite();  // another process on the same database (the CLI, a second instance)
        ASSERT_TRUE(other->finish_build(first->at(0).id, BuildState::failed, "", "boom").ok());
    }
    EXPECT_EQ(claim_id(*store), held->at(0).id);
}

TEST_F(ClaimScale, Migration10PicksUpTheRunningAndQueuedBuildsOfAnOlderFile) {
    BuildId running = 0, held = 0;
    std::vector<Build> pair;
    {
        auto store = open_sqlite();
        running = store->insert_builds({web_build("refs/heads/main", {"latest"})})->at(0).id;
        ASSERT_EQ(claim_id(*store), running);
        held = store->insert_builds({web_build("refs/heads/dev", {"latest"})})->at(0).id;
        pair = *store->insert_builds({web_build("refs/heads/x", {"x"}), web_build("refs/heads/x", {"x"})});
    }
    {
        // Back to what a hookyard before migration 10 left.
        auto db = hookyard::storage::sqlite::Db::open(m_dir / "hookyard.db");
        ASSERT_TRUE(db.ok());
        ASSERT_TRUE((*db)
                        ->exec("DROP TRIGGER claim_build_insert; DROP TRIGGER claim_build_state; DROP TRIGGER "
                               "claim_build_delete; DROP TABLE claim_supersede; DROP TABLE running_refs; DROP TABLE "
                               "claim_scan; DROP INDEX builds_claim_order; DROP INDEX builds_by_sibling; DROP INDEX "
                               "builds_by_repository_state; DELETE FROM "
                               "schema_migrations WHERE version = 10")
                        .ok());
    }
    auto store = open_sqlite();
    EXPECT_EQ(claim_id(*store), pair[1].id) << "dev waits for :latest; the older build of x is replaced";
    EXPECT_EQ(store->get_build(pair[0].id)->state, BuildState::superseded);
    EXPECT_EQ(claim_id(*store), 0);
    ASSERT_TRUE(store->finish_build(running, BuildState::failed, "", "boom").ok());
    EXPECT_EQ(claim_id(*store), held);
}

// The median time of `n` claims that find nothing (everything queued is held back by a running build).
std::chrono::nanoseconds median_empty_claim(Store& store, int n) {
    std::vector<std::chrono::nanoseconds> took;
    for (int i = 0; i < n; ++i) {
        const auto start = std::chrono::steady_clock::now();
        EXPECT_EQ(claim_id(store), 0);
        took.push_back(std::chrono::steady_clock::now() - start);
    }
    std::sort(took.begin(), took.end());
    return took[took.size() / 2];
}

TEST_F(ClaimScale, AClaimCostsTheSameWithTwentyThousandBuildsHeldBack) {
    auto store = open_sqlite();
    auto first = store->insert_builds({web_build("refs/heads/main", {"latest"})});
    ASSERT_EQ(claim_id(*store), first->at(0).id);
    ASSERT_TRUE(store->insert_builds(held_back_behind_latest(10)).ok());
    const auto shallow = median_empty_claim(*store, 41);
    ASSERT_TRUE(store->insert_builds(held_back_behind_latest(20000)).ok());
    EXPECT_EQ(claim_id(*store), 0);  // the one claim that reads the new builds
    const auto deep = median_empty_claim(*store, 41);
    // A claim that reads every held build takes milliseconds at 20,000 (hundreds of times the shallow one);
    // 5x leaves room for a loaded machine.
    EXPECT_LT(deep.count(), 5 * shallow.count() + 200'000)
        << "shallow " << shallow.count() << " ns, deep " << deep.count() << " ns";
}

// The quickest of `n` claims from a queue kept about `depth` deep: `fill` queues depth - 1 builds (one SQL
// statement: as many inserts through the store would take minutes on a loaded machine), each claimed build
// is finished and one new build queued, untimed. The quickest, not the median: what a claim costs itself,
// without the waits another process on a loaded machine adds. Prints "depth N: M us" for bench/scale-out.
std::chrono::nanoseconds quickest_claim_at_depth(Store& store, const std::function<void(int)>& fill, int depth, int n) {
    fill(depth - 1);
    std::vector<std::chrono::nanoseconds> took;
    for (int i = 0; i < n; ++i) {
        const std::string tag = "n" + std::to_string(depth) + "-" + std::to_string(i);
        EXPECT_TRUE(store.insert_builds({web_build("refs/heads/" + tag, {tag})}).ok());
        const auto start = std::chrono::steady_clock::now();
        const BuildId id = claim_id(store);
        took.push_back(std::chrono::steady_clock::now() - start);
        EXPECT_NE(id, 0);
        EXPECT_TRUE(store.finish_build(id, BuildState::succeeded, "sha256:x", "").ok());
    }
    const auto quickest = *std::min_element(took.begin(), took.end());
    std::cout << "claim latency at depth " << depth << ": " << quickest.count() / 1000 << " us (quickest of " << n
              << ")\n";
    return quickest;
}

TEST_F(ClaimScale, OnPostgresqlAClaimCostsTheSameAtDepthTenAndTenThousand) {
    std::string error;
    auto* server = hookyard::test::PostgresServer::shared(&error);
    ASSERT_NE(server, nullptr) << error;
    const std::string db = server->new_database("claim_depth", &error);
    ASSERT_FALSE(db.empty()) << error;
    auto store = open_store(server->url(db));
    ASSERT_TRUE(store.ok()) << store.error().message;
    int filled = 0;
    const auto fill = [&](int n) {
        // Queued builds as insert_builds() writes them, each of its own ref and tag; the triggers run.
        const std::string sql =
            "INSERT INTO builds (state, repository, ref, rule_index, image, tags, created_ms) SELECT 'queued', "
            "'acme/web', 'refs/heads/f' || g, 0, 'docker.io/acme/web', '[\"f' || g || '\"]', 0 FROM "
            "generate_series(" +
            std::to_string(filled + 1) + ", " + std::to_string(filled + n) + ") g";
        std::string out;
        EXPECT_EQ(server->psql(db, sql, &out), 0) << out;
        filled += n;
    };
    const auto shallow = quickest_claim_at_depth(**store, fill, 10, 31);
    const auto deep = quickest_claim_at_depth(**store, fill, 10000, 31);
    // Before migration 11 a claim read and sorted the whole queue: 25 times slower at 10,000 (54 ms against
    // 2 ms). The target is 2x; 2 ms more leaves room for a loaded machine.
    EXPECT_LT(deep.count(), 2 * shallow.count() + 2'000'000)
        << "depth 10: " << shallow.count() << " ns, depth 10,000: " << deep.count() << " ns";
}

}  // namespace
