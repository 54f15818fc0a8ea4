// Build reuse against every Store (migration 9): identities and base images recorded per build, the last
// succeeded build of an identity found, opt-outs stored, retries never reusing, pruning the rows.

#include <gtest/gtest.h>

#include "storage/build_json.hpp"
#include "tests/unit/storage/store_contract.hpp"

using namespace hookyard::storage;
using hookyard::test::StoreContract;
using hookyard::test::web_build;

namespace {

// Inserts `nb`, records `identity` for it and ends it `state` with `digest`; returns its id.
BuildId with_identity(Store& store, NewBuild nb, const std::string& identity, BuildState state,
                      const std::string& digest) {
    auto b = store.insert_builds({std::move(nb)});
    EXPECT_TRUE(b.ok());
    const auto id = b->at(0).id;
    EXPECT_TRUE(store.claim(id).ok());
    EXPECT_TRUE(store.record_identity(id, identity, {{"debian:12", "sha256:b1"}}, 0).ok());
    EXPECT_TRUE(store.finish_build(id, state, digest, "").ok());
    return id;
}

}  // namespace

TEST_P(StoreContract, IdentityAndBaseImagesAreRecordedWithTheBuild) {
    auto store = open();
    auto b = store->insert_builds({web_build("refs/heads/main", {"latest"})});
    ASSERT_TRUE(b.ok());
    const auto id = b->at(0).id;
    EXPECT_TRUE(b->at(0).reuse);
    EXPECT_EQ(b->at(0).identity, "");
    ASSERT_TRUE(store->record_identity(id, "id-1", {{"debian:12", "sha256:b1"}}, 0).ok());
    ASSERT_TRUE(store->record_identity(id, "id-2", {{"alpine:3", "sha256:a1"}}, 7).ok());
    auto got = store->get_build(id);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->identity, "id-2");
    EXPECT_EQ(got->base_images, (std::map<std::string, std::string>{{"alpine:3", "sha256:a1"}}));
    EXPECT_EQ(got->reused_from, 7);
    const auto json = build_to_json(*got);
    EXPECT_EQ(json["reused_from"], 7);
    EXPECT_EQ(json["base_images"]["alpine:3"], "sha256:a1");
    EXPECT_EQ(store->list_builds({})->at(0).identity, "id-2");
    EXPECT_EQ(store->record_identity(id + 100, "x", {}, 0).error().kind, hookyard::util::ErrorKind::not_found);
}

TEST_P(StoreContract, FindReusableIsTheLastSucceededBuildOfTheIdentity) {
    auto store = open();
    EXPECT_FALSE(store->find_reusable("same")->has_value());
    with_identity(*store, web_build("refs/heads/main", {"latest"}), "same", BuildState::succeeded, "sha256:1");
    const auto second =
        with_identity(*store, web_build("refs/tags/v1", {"1"}), "same", BuildState::succeeded, "sha256:2");
    with_identity(*store, web_build("refs/heads/main", {"latest"}), "same", BuildState::failed, "");
    with_identity(*store, web_build("refs/heads/other", {"other"}), "different", BuildState::succeeded, "sha256:3");
    auto found = store->find_reusable("same");
    ASSERT_TRUE(found.ok()) << found.error().message;
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->id, second);
    EXPECT_EQ((*found)->digest, "sha256:2");
    EXPECT_FALSE(store->find_reusable("")->has_value());
    EXPECT_FALSE(store->find_reusable("unknown")->has_value());
}

TEST_P(StoreContract, OptOutIsStoredAndRetriesNeverReuse) {
    auto store = open();
    NewBuild nb = web_build("refs/heads/main", {"latest"});
    nb.reuse = false;
    auto opted_out = store->insert_builds({nb});
    ASSERT_TRUE(opted_out.ok());
    EXPECT_FALSE(opted_out->at(0).reuse);
    const auto id = with_identity(*store, web_build("refs/heads/main", {"latest"}), "x", BuildState::succeeded, "d");
    auto retry = store->retry_build(id);
    ASSERT_TRUE(retry.ok());
    EXPECT_FALSE(retry->reuse);
    EXPECT_FALSE(store->get_build(retry->id)->reuse);
    EXPECT_TRUE(store->get_build(id)->reuse);
}
