#pragma once
// Rebuilds nobody pushed for (issue 17): when a base image changed (the watcher `serve` runs,
// base_images.watch_interval) or when hookyard pushed an image of a repository others link to
// (rebuild_when_pushed). Each queues the last succeeded commit of the rules concerned, with the same ref,
// image and tags, and says why in `trigger`.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "config/model.hpp"
#include "pipeline/image_pusher.hpp"
#include "storage/store.hpp"
#include "util/worker_loop.hpp"

namespace hookyard::pipeline {

// The build that queues `last` again: same commit, ref, rule, image and tags, triggered as `type` (base_image,
// link) with `reason`. Pure.
storage::NewBuild rebuild_of(const storage::Build& last, const std::string& type, const std::string& reason);

// Queues a rebuild (trigger link) of the last succeeded build of every rule of every repository whose
// rebuild_when_pushed names `pushed`'s repository; returns how many. Call once `pushed` has pushed.
util::Result<int> queue_linked_rebuilds(const config::Config& config, storage::Store& store,
                                        const storage::Build& pushed);

// The base-image watcher: every watch_interval (±10%), when this instance holds the lease
// "base-image-watcher" (one watcher per database), sends one HEAD per distinct base image that the last
// succeeded builds of rules with rebuild_on_base_change recorded, and queues a rebuild (trigger
// base_image, reason "base image X changed sha256:a… → sha256:b…") of each such build whose base changed,
// unless a base_image rebuild of its rule and ref came after it.
class BaseImageWatcher {
public:
    // `on_queued` (may be empty) runs after builds were queued. `holder` names this instance in the lease.
    BaseImageWatcher(const config::Config& config, storage::Store& store, ImagePusher& pusher,
                     std::function<void()> on_queued, std::string holder);
    ~BaseImageWatcher();

    // Starts the thread when some rule opted in (nothing to watch otherwise); the first check comes after
    // one interval. stop() joins it.
    void start();
    void stop();
    // One check now, lease or not; how many rebuilds it queued.
    util::Result<int> check_once();

private:
    void tick();

    const config::Config& m_config;
    storage::Store& m_store;
    ImagePusher& m_pusher;
    std::function<void()> m_on_queued;
    std::string m_holder;
    std::chrono::steady_clock::time_point m_next;
    std::unique_ptr<util::WorkerLoop> m_loop;
};

}  // namespace hookyard::pipeline
