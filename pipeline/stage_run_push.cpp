#include <filesystem>

#include "pipeline/platform_builds.hpp"
#include "pipeline/push_guards.hpp"
#include "pipeline/stage_run.hpp"
#include "util/log.hpp"

namespace fs = std::filesystem;

namespace hookyard::pipeline {

bool StageRunner::Run::push_unless_pull_request() {
    // An instance that stalled longer than its lease may find the build re-queued or running elsewhere:
    // pushing now would race that run (or its result) with an image of its own.
    if (auto held = m_owner.m_store.hold_claim(m_build); !held || !*held) {
        const std::string why = held ? "this instance lost its lease on the build (it stalled longer than "
                                       "cluster.lease; another instance runs it now): nothing pushed"
                                     : "cannot confirm the build's lease before pushing: " + held.error().message;
        log("hookyard: " + why);
        end(storage::BuildState::failed, why);
        return false;
    }
    if (m_build.push) return stage("push", [this] { return push_stage(); });
    log("hookyard: pull request #" + std::to_string(m_build.pull_request) + ": built, nothing is pushed");
    return true;
}

util::Status StageRunner::Run::push_stage() {
    if (m_registry == nullptr) {
        return util::make_error(util::ErrorKind::invalid_input,
                                "registry '" + m_repo->registry + "' is not configured");
    }
    if (m_reuse.source) {
        if (auto st = check_tag_owners(m_owner.m_store, m_build, m_repo->allow_tag_collisions); !st) return st;
        auto digest =
            push_reused(m_owner.m_store, m_owner.m_pusher, m_build, *m_reuse.source, *m_registry, sink(), m_token);
        if (!digest) return digest.error();
        m_outcome.digest = *digest;
        return {};
    }
    const BuildRequest hook_req = build_request();
    if (auto st = m_owner.m_executor.run_hook(Hook::pre_push, hook_req, sink()); !st) return st;
    // Another ref's build may have pushed one of our sanitised tags while this one was building.
    if (auto st = check_tag_owners(m_owner.m_store, m_build, m_repo->allow_tag_collisions); !st) return st;
    PushRequest req;
    req.layout_dir = m_built.layout_dir;
    req.layout_ref = m_built.layout_ref;
    req.registry = *m_registry;
    // One image at a time, each recorded once the registry has it (blobs pushed for the first are only
    // checked for the others).
    for (const auto& tag : m_build.tags) {
        req.images = {m_build.image + ":" + tag};
        auto digest = m_platforms.size() > 1 ? push_platforms(req) : m_owner.m_pusher.push(req, sink(), m_token);
        if (!digest) return digest.error();
        m_outcome.digest = *digest;
        log("hookyard: pushed " + req.images.front() + "@" + *digest);
        if (auto st = m_owner.m_store.record_pushed(m_build.id, req.images.front(), *digest); !st) {
            // Only a crash right now would make the build push this image again.
            log("hookyard: could not record the push: " + st.error().message);
        }
    }
    return m_owner.m_executor.run_hook(Hook::post_push, hook_req, sink());
}

util::Result<std::string> StageRunner::Run::push_platforms(PushRequest& req) {
    if (req.platforms.empty()) {
        for (std::size_t i = 0; i < m_platforms.size(); ++i) {
            req.platforms.push_back({m_platforms[i], m_platforms_built[i].layout_dir, m_platforms_built[i].layout_ref});
        }
    }
    auto pushed = m_owner.m_pusher.push_platforms(req, sink(), m_token);
    if (!pushed) return pushed.error();
    for (const auto& [platform, digest] : pushed->platforms) {
        log("hookyard: " + platform + " manifest " + digest);
        if (auto st = m_owner.m_store.record_pushed(m_build.id, "platform:" + platform, digest); !st) {
            log("hookyard: could not record the " + platform + " digest: " + st.error().message);
        }
    }
    return pushed->digest;
}

void StageRunner::Run::release_built_images() {
    const bool cached = uses_cache();
    std::vector<const BuildResult*> built{&m_built};
    for (const auto& b : m_platforms_built) built.push_back(&b);
    for (const BuildResult* b : built) {
        if (b->layout_dir.empty()) continue;
        std::error_code ec;
        // Rebuilt from the cache in seconds when needed, and as big as the image: never kept for inspection.
        fs::remove_all(b->layout_dir, ec);
        if (ec) log("hookyard: could not remove the OCI layout " + b->layout_dir + ": " + ec.message());
        // Without the cache the executor removed the image already.
        if (m_owner.m_final_images != nullptr && cached) m_owner.m_final_images->release(b->image_id);
    }
}

void StageRunner::Run::keep_failed_work() {
    if (!m_config.builder.keep_failed_workdirs || m_outcome.interrupted) return;
    // Kept under <data_dir>/kept, out of <data_dir>/work, which start-up clears of crash leftovers.
    m_work_dir.keep();
    if (m_checkout) m_checkout->dir.keep();
    std::error_code ec;
    const fs::path kept = fs::path(m_config.data_dir) / "kept" / std::to_string(m_build.id);
    fs::create_directories(kept.parent_path(), ec);
    fs::remove_all(kept, ec);
    fs::rename(m_work, kept, ec);
    log("hookyard: work dir kept for inspection: " + (ec ? m_work : kept).string());
}

}  // namespace hookyard::pipeline
