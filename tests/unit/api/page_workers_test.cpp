// Pages answered off the server's threads, with a bounded line of waiting requests.

#include "api/page_workers.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

using namespace hookyard;

TEST(PageWorkers, AnswersOnAWorkerThreadAndRefusesBeyondTheLine) {
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::promise<std::thread::id> ran_on;
    std::promise<void> started;
    auto workers = std::make_unique<api::PageWorkers>(1, 1);
    http::RouteTable table;
    table.add_async("GET", "/slow", "ui",
                    api::on_workers(workers.get(), [&](const http::ServerRequest&, const http::PathParams&) {
                        started.set_value();
                        released.wait();
                        return http::json_response(200, "{}");
                    }));
    table.add_async("GET", "/where", "ui",
                    api::on_workers(workers.get(), [&](const http::ServerRequest&, const http::PathParams&) {
                        ran_on.set_value(std::this_thread::get_id());
                        return http::json_response(200, "{}");
                    }));
    std::vector<unsigned> statuses;
    std::mutex mutex;
    auto record = [&](http::ServerResponse r) {
        std::lock_guard lock(mutex);
        statuses.push_back(r.status);
    };
    table.handle(http::ServerRequest{"GET", "/slow", {}, ""}, record);  // blocks the only worker
    started.get_future().wait();
    table.handle(http::ServerRequest{"GET", "/where", {}, ""}, record);  // waits in the line of one
    table.handle(http::ServerRequest{"GET", "/where", {}, ""}, record);
    {
        std::lock_guard lock(mutex);
        ASSERT_EQ(statuses, (std::vector<unsigned>{503u})) << "the third request finds the line full";
    }
    release.set_value();
    EXPECT_NE(ran_on.get_future().get(), std::this_thread::get_id());
    workers.reset();  // answers what it accepted, then joins
    std::lock_guard lock(mutex);
    EXPECT_EQ(statuses.size(), 3u);
}
