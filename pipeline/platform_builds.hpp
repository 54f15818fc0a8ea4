#pragma once
// The parts of a multi-platform build that do not depend on the stage runner's state: running the
// platforms' builds a few at a time, and each platform's build request.

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "pipeline/cancel.hpp"
#include "pipeline/executor/executor.hpp"

namespace hookyard::pipeline {

// Runs task(0) … task(count - 1), at most `parallelism` at once (the calling thread is one of the workers),
// starting them in index order; once `stop` is canceled no further task starts. Returns when every started
// task has returned. `task` must not throw.
void run_parallel(std::size_t count, int parallelism, const CancelToken& stop,
                  const std::function<void(std::size_t)>& task);

// `base` for one platform: request.platform set, its own layout and scratch directories under `work`
// (layout-linux-arm64, tmp-linux-arm64) and, as timeout, what is left of base.timeout since `started`
// (the build's timeout covers all of its platforms, however many wait for a free slot).
BuildRequest platform_request(const BuildRequest& base, const std::string& platform, const std::string& work,
                              std::chrono::steady_clock::time_point started);

}  // namespace hookyard::pipeline
