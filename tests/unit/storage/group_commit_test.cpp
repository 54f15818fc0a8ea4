#include "storage/group_commit.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "tests/support/support.hpp"

using namespace hookyard::storage;

namespace {

PendingAccept item(const std::string& id, std::atomic<int>& completed) {
    return PendingAccept{
        Delivery{id, "push", "acme/web", 0}, {}, [&completed](hookyard::util::Result<AcceptOutcome> r) {
            if (r.ok()) ++completed;
        }};
}

}  // namespace

TEST(GroupCommit, EverythingQueuedDuringACommitGoesIntoTheNextSingleBatch) {
    std::promise<void> release;
    auto released = release.get_future().share();
    std::atomic<bool> first_started{false};
    std::mutex mutex;
    std::vector<std::size_t> batch_sizes;
    std::atomic<int> completed{0};
    {
        GroupCommitQueue queue([&](const std::vector<PendingAccept>& batch) {
            {
                std::lock_guard lock(mutex);
                batch_sizes.push_back(batch.size());
            }
            if (!first_started.exchange(true)) released.wait();  // the first commit "fsyncs" until released
            return std::vector<hookyard::util::Result<AcceptOutcome>>(batch.size(), AcceptOutcome{});
        });
        queue.submit(item("first", completed));
        ASSERT_TRUE(hookyard::test::wait_until([&] { return first_started.load(); }, std::chrono::seconds(10)));
        for (int i = 0; i < 10; ++i) queue.submit(item("d-" + std::to_string(i), completed));
        EXPECT_EQ(completed.load(), 0) << "a callback ran before its commit";
        release.set_value();
        queue.flush();
        EXPECT_EQ(completed.load(), 11);
    }
    EXPECT_EQ(batch_sizes, (std::vector<std::size_t>{1, 10}));
}

TEST(GroupCommit, DestructionFirstCommitsEverythingAlreadySubmitted) {
    std::atomic<int> completed{0};
    auto queue = std::make_unique<GroupCommitQueue>([](const std::vector<PendingAccept>& batch) {
        return std::vector<hookyard::util::Result<AcceptOutcome>>(batch.size(), AcceptOutcome{});
    });
    for (int i = 0; i < 50; ++i) queue->submit(item(std::to_string(i), completed));
    queue.reset();
    EXPECT_EQ(completed.load(), 50);
}

TEST(GroupCommit, ASubmitPastTheQueueCapIsRefusedAtOnceInsteadOfQueued) {
    std::promise<void> release;
    auto released = release.get_future().share();
    std::atomic<bool> first_started{false};
    std::atomic<int> completed{0};
    std::atomic<int> refused{0};
    std::string refusal;
    GroupCommitQueue queue([&](const std::vector<PendingAccept>& batch) {
        if (!first_started.exchange(true)) released.wait();  // a disk that stalls
        return std::vector<hookyard::util::Result<AcceptOutcome>>(batch.size(), AcceptOutcome{});
    });
    queue.submit(item("first", completed));
    ASSERT_TRUE(hookyard::test::wait_until([&] { return first_started.load(); }, std::chrono::seconds(10)));
    for (std::size_t i = 0; i < GroupCommitQueue::k_max_queued; ++i) queue.submit(item(std::to_string(i), completed));
    queue.submit(PendingAccept{
        Delivery{"one-too-many", "push", "acme/web", 0}, {}, [&](hookyard::util::Result<AcceptOutcome> r) {
            if (!r.ok()) refusal = r.error().message;
            ++refused;
        }});
    EXPECT_EQ(refused.load(), 1) << "the callback of a refused accept runs at once";
    EXPECT_NE(refusal.find("redeliver later"), std::string::npos) << refusal;
    release.set_value();
    queue.flush();
    EXPECT_EQ(completed.load(), static_cast<int>(GroupCommitQueue::k_max_queued) + 1);
}
