// Migration 8 against every Store: a pull request build keeps its number, whether it comes from a fork and
// that it pushes nothing (through a reload and a retry), and set_tags replaces the tags a trigger build
// rendered after checkout.

#include <gtest/gtest.h>

#include "tests/unit/storage/store_contract.hpp"

using namespace hookyard::storage;
using hookyard::test::StoreContract;
using hookyard::test::web_build;

TEST_P(StoreContract, KeepsPullRequestFieldsThroughReloadAndRetry) {
    auto store = open();
    NewBuild nb = web_build("refs/pull/7/head", {"latest"});
    nb.pull_request = 7;
    nb.pull_request_external = true;
    nb.push = false;
    nb.trigger_type = "pull_request";
    const auto id = store->insert_builds({nb})->at(0).id;
    store.reset();
    store = open();
    auto b = store->get_build(id);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->pull_request, 7);
    EXPECT_TRUE(b->pull_request_external);
    EXPECT_FALSE(b->push);
    ASSERT_TRUE(store->claim(id).ok());
    ASSERT_TRUE(store->finish_build(id, BuildState::failed, "", "x").ok());
    auto retry = store->retry_build(id);
    ASSERT_TRUE(retry.ok());
    EXPECT_EQ(retry->pull_request, 7);
    EXPECT_FALSE(retry->push);
    const auto plain = store->insert_builds({web_build("refs/heads/main")})->at(0);
    EXPECT_EQ(plain.pull_request, 0);
    EXPECT_TRUE(plain.push);
}

TEST_P(StoreContract, SetTagsReplacesTheRenderedTags) {
    auto store = open();
    const auto id = store->insert_builds({web_build("refs/heads/main", {"latest"})})->at(0).id;
    ASSERT_TRUE(store->set_tags(id, {"abc1234", "latest"}, {"abc1234"}).ok());
    auto b = store->get_build(id);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->tags, (std::vector<std::string>{"abc1234", "latest"}));
    EXPECT_EQ(b->sanitized_tags, std::vector<std::string>{"abc1234"});
    EXPECT_EQ(store->set_tags(id + 100, {}, {}).error().kind, hookyard::util::ErrorKind::not_found);
}
