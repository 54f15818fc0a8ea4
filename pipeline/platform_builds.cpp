#include "pipeline/platform_builds.hpp"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace hookyard::pipeline {

void run_parallel(std::size_t count, int parallelism, const CancelToken& stop,
                  const std::function<void(std::size_t)>& task) {
    std::atomic<std::size_t> next{0};
    const auto worker = [&] {
        for (std::size_t i = next.fetch_add(1); i < count && !stop.canceled(); i = next.fetch_add(1)) task(i);
    };
    const std::size_t threads =
        std::clamp<std::size_t>(static_cast<std::size_t>(std::max(parallelism, 1)), 1, std::max<std::size_t>(count, 1));
    std::vector<std::thread> helpers;
    for (std::size_t t = 1; t < threads; ++t) helpers.emplace_back(worker);
    worker();
    for (auto& t : helpers) t.join();
}

BuildRequest platform_request(const BuildRequest& base, const std::string& platform, const std::string& work,
                              std::chrono::steady_clock::time_point started) {
    std::string name = platform;
    std::replace(name.begin(), name.end(), '/', '-');
    BuildRequest req = base;
    req.platform = platform;
    req.build_id = base.build_id + "-" + name;
    req.layout_dir = work + "/layout-" + name;
    req.work_dir = work + "/tmp-" + name;
    const auto spent = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
    req.timeout = std::max(base.timeout - spent, std::chrono::seconds(1));
    return req;
}

}  // namespace hookyard::pipeline
