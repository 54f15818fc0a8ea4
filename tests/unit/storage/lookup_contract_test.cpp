// The stage runner's lookups against every Store: the last succeeded build of a rule and ref (replays), the
// last pusher of an image (tag owners), and the fields migration 5 added (forced, sanitized_tags).

#include <gtest/gtest.h>

#include "tests/unit/storage/store_contract.hpp"

using namespace hookyard::storage;
using hookyard::test::StoreContract;

namespace {

NewBuild build_of(const std::string& ref, const std::string& commit) {
    NewBuild b;
    b.repository = "acme/web";
    b.ref = ref;
    b.commit = commit;
    b.rule = 0;
    b.image = "docker.io/acme/web";
    b.tags = {"latest"};
    return b;
}

BuildId finished(Store& store, NewBuild nb, BuildState state) {
    auto b = store.insert_builds({std::move(nb)});
    EXPECT_TRUE(b.ok());
    const auto id = b->at(0).id;
    EXPECT_TRUE(store.claim(id).ok());
    EXPECT_TRUE(store.finish_build(id, state, "", "").ok());
    return id;
}

}  // namespace

TEST_P(StoreContract, StoresForcedAndSanitizedTagsAndRetriesKeepThem) {
    auto store = open();
    NewBuild nb = build_of("refs/heads/lat@est", std::string(40, 'a'));
    nb.forced = true;
    nb.sanitized_tags = {"latest"};
    const auto id = finished(*store, nb, BuildState::failed);
    auto b = store->get_build(id);
    ASSERT_TRUE(b.ok());
    EXPECT_TRUE(b->forced);
    EXPECT_EQ(b->sanitized_tags, std::vector<std::string>{"latest"});
    auto retry = store->retry_build(id);
    ASSERT_TRUE(retry.ok());
    EXPECT_TRUE(retry->forced);
    EXPECT_EQ(retry->sanitized_tags, std::vector<std::string>{"latest"});
    EXPECT_FALSE(store->insert_builds({build_of("refs/heads/main", "")})->at(0).forced);
}

TEST_P(StoreContract, LastSucceededIsTheLastFinishedSuccessOfTheRuleAndRef) {
    auto store = open();
    EXPECT_FALSE(store->last_succeeded("acme/web", 0, "refs/heads/main")->has_value());
    finished(*store, build_of("refs/heads/main", std::string(40, '1')), BuildState::succeeded);
    const auto second = finished(*store, build_of("refs/heads/main", std::string(40, '2')), BuildState::succeeded);
    finished(*store, build_of("refs/heads/main", std::string(40, '3')), BuildState::failed);
    finished(*store, build_of("refs/heads/other", std::string(40, '4')), BuildState::succeeded);
    NewBuild other_rule = build_of("refs/heads/main", std::string(40, '5'));
    other_rule.rule = 1;
    finished(*store, other_rule, BuildState::succeeded);

    auto last = store->last_succeeded("acme/web", 0, "refs/heads/main");
    ASSERT_TRUE(last.ok()) << last.error().message;
    ASSERT_TRUE(last->has_value());
    EXPECT_EQ((*last)->id, second);
    EXPECT_EQ((*last)->commit, std::string(40, '2'));
    EXPECT_FALSE(store->last_succeeded("acme/other", 0, "refs/heads/main")->has_value());
}

TEST_P(StoreContract, LastPusherIsTheBuildThatRecordedTheImageLast) {
    auto store = open();
    const std::string image = "docker.io/acme/web:latest";
    EXPECT_FALSE(store->last_pusher(image)->has_value());
    auto first = store->insert_builds({build_of("refs/heads/main", std::string(40, '1'))});
    auto second = store->insert_builds({build_of("refs/heads/lat@est", std::string(40, '2'))});
    ASSERT_TRUE(first.ok() && second.ok());
    const auto a = first->at(0).id, b = second->at(0).id;
    ASSERT_TRUE(store->claim(a).ok());
    ASSERT_TRUE(store->record_pushed(a, image, "sha256:aa").ok());
    auto owner = store->last_pusher(image);
    ASSERT_TRUE(owner.ok()) << owner.error().message;
    ASSERT_TRUE(owner->has_value());
    EXPECT_EQ((*owner)->ref, "refs/heads/main");

    ASSERT_TRUE(store->claim(b).ok());
    ASSERT_TRUE(store->record_pushed(b, image, "sha256:bb").ok());
    EXPECT_EQ((*store->last_pusher(image))->id, b);
    // Pushing the same image again moves ownership back.
    ASSERT_TRUE(store->record_pushed(a, image, "sha256:cc").ok());
    EXPECT_EQ((*store->last_pusher(image))->id, a);
    EXPECT_FALSE(store->last_pusher("docker.io/acme/web:other")->has_value());
}
