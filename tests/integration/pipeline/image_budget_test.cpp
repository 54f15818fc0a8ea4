// builder.cache_max_size against real buildah on a private storage: untagged images go oldest first until
// the storage fits the budget; the newest build's image and tagged images stay.

#include "pipeline/image_budget.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "tests/support/support.hpp"

using hookyard::pipeline::ImageBudget;

namespace {

class ImageBudgetTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!hookyard::test::have_program("buildah")) GTEST_SKIP() << "needs buildah (scripts/setup installs it)";
        m_options.root = m_dir / "storage";
        m_options.runroot = m_dir / "run";
    }
    void TearDown() override { hookyard::test::sh(cli() + " rmi --all --force >/dev/null 2>&1"); }

    std::string cli() const { return "buildah --root '" + m_options.root + "' --runroot '" + m_options.runroot + "'"; }

    // Builds FROM scratch + one layer of 1 MiB of random bytes; the image id.
    std::string build_one(int n) {
        const std::string ctx = m_dir / ("ctx" + std::to_string(n));
        std::filesystem::create_directories(ctx);
        std::string blob(1 << 20, '\0');
        std::mt19937 rng(static_cast<unsigned>(n) * 7919u + 1u);
        for (auto& c : blob) c = static_cast<char>(rng());
        hookyard::test::write_file(ctx + "/blob", blob);
        hookyard::test::write_file(ctx + "/Dockerfile", "FROM scratch\nCOPY blob /blob\n");
        std::string out;
        EXPECT_EQ(hookyard::test::sh(cli() + " build --isolation chroot --layers --iidfile '" + ctx + "/iid' '" + ctx +
                                     "' >/dev/null 2>&1"),
                  0);
        return hookyard::test::read_file(ctx + "/iid");
    }

    bool has_image(const std::string& ref) {
        return hookyard::test::sh(cli() + " inspect --type image '" + ref + "' >/dev/null 2>&1") == 0;
    }

    hookyard::test::TempDir m_dir;
    hookyard::pipeline::BuildahOptions m_options;
};

}  // namespace

TEST_F(ImageBudgetTest, EvictsUntaggedImagesOldestFirstUntilTheStorageFits) {
    const auto base = build_one(0);
    ASSERT_EQ(hookyard::test::sh(cli() + " tag '" + base + "' localhost/base:1 >/dev/null 2>&1"), 0);
    std::vector<std::string> ids;
    for (int i = 1; i <= 4; ++i) ids.push_back(build_one(i));
    ImageBudget budget(m_options, m_options.root, 0);
    const auto full = budget.measure();
    ASSERT_GT(full, 5u << 20) << "five images of 1 MiB each";

    ImageBudget tight(m_options, m_options.root, full - (5u << 19));  // 2.5 MiB less
    auto after = tight.enforce();
    ASSERT_TRUE(after.ok()) << after.error().message;
    EXPECT_LE(*after, full - (5u << 19));
    EXPECT_FALSE(has_image(ids[0])) << "the oldest untagged image goes first";
    EXPECT_TRUE(has_image(ids[3])) << "the newest stays while the budget allows";
    EXPECT_TRUE(has_image("localhost/base:1")) << "tagged images (base images) are never evicted";
    EXPECT_EQ(tight.last_usage(), *after);
}

// A pushed build's final image: removed with its own layer only, and not while a build stage runs (that
// build may be reusing it as its cache).
TEST_F(ImageBudgetTest, FinalImagesGoWithoutTheirCachedParentsAndWaitForRunningBuildStages) {
    const std::string ctx = m_dir / "two-steps";
    std::filesystem::create_directories(ctx);
    hookyard::test::write_file(ctx + "/a", "first layer\n");
    hookyard::test::write_file(ctx + "/b", "second layer\n");
    hookyard::test::write_file(ctx + "/Dockerfile", "FROM scratch\nCOPY a /a\nCOPY b /b\n");
    ASSERT_EQ(hookyard::test::sh(cli() + " build --isolation chroot --layers --iidfile '" + ctx + "/iid' '" + ctx +
                                 "' >/dev/null 2>&1"),
              0);
    const auto final_image = hookyard::test::read_file(ctx + "/iid");
    std::string all;
    hookyard::test::sh(cli() + " images --all --quiet --no-trunc", &all);
    ASSERT_NE(all.find(final_image), std::string::npos);

    hookyard::pipeline::FinalImages images(m_options);
    images.release(final_image);
    {
        const auto building = images.building();
        EXPECT_EQ(images.remove_queued(), 0) << "a build stage is running";
        EXPECT_TRUE(has_image(final_image));
    }
    {
        // Another hookyard on the same storage (its own lock file descriptor) building the same image id.
        hookyard::pipeline::FinalImages other(m_options);
        const auto building = other.building();
        EXPECT_EQ(images.remove_queued(), 0) << "another process's build stage is running";
        EXPECT_TRUE(has_image(final_image));
    }
    EXPECT_EQ(images.remove_queued(), 1);
    EXPECT_FALSE(has_image(final_image));
    std::string left;
    hookyard::test::sh(cli() + " images --all --quiet --no-trunc", &left);
    EXPECT_EQ(left.find(final_image), std::string::npos);
    EXPECT_NE(left.find("sha256:"), std::string::npos) << "the first step's image (the layer cache) stays";

    images.release(final_image);  // already gone: counts as removed, logs nothing
    EXPECT_EQ(images.remove_queued(), 1);
}

// A commit killed half-way leaves an image buildah cannot read, and `buildah images` then fails as a whole:
// the budget still lists (from the storage's own records), evicts the damaged image first, and the rest.
TEST_F(ImageBudgetTest, ADamagedImageIsEvictedFirstInsteadOfStoppingTheBudget) {
    const auto old_image = build_one(1);
    const auto damaged = build_one(2);
    const std::string records = m_options.root + "/overlay-images/images.json";
    ASSERT_EQ(hookyard::test::sh("python3 -c 'import json,sys; p=sys.argv[1]; i=json.load(open(p)); "
                                 "[r.update(layer=\"0\"*64) for r in i if \"sha256:\"+r[\"id\"]==sys.argv[2]]; "
                                 "json.dump(i,open(p,\"w\"))' '" +
                                 records + "' '" + damaged + "'"),
              0);
    ASSERT_NE(hookyard::test::sh(cli() + " images --all --json >/dev/null 2>&1"), 0) << "the image is not damaged";

    ImageBudget budget(m_options, m_options.root, 0);
    auto after = budget.enforce();
    ASSERT_TRUE(after.ok()) << after.error().message;
    EXPECT_FALSE(has_image(damaged));
    EXPECT_FALSE(has_image(old_image));
    EXPECT_EQ(hookyard::test::sh(cli() + " images --all --json >/dev/null 2>&1"), 0);
}
