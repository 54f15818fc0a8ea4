#include "pipeline/commit_tags.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "config/rules.hpp"

namespace hookyard::pipeline {
namespace {

constexpr auto k_pusher_poll = std::chrono::milliseconds(500);

// True for builds queued without a commit (a trigger's, `hookyard build`'s): they may wait here themselves.
bool renders_at_checkout(const storage::Build& b) { return b.trigger_type == "trigger_url" || b.trigger_type == "api"; }

// A running build that pushes one of `build`'s image references and that `build` must wait for, if any: every
// one whose tags were fixed when it was queued (it claimed before these tags were stored), and older ones of
// those that render at checkout too (two such builds never wait for each other).
util::Result<std::optional<storage::Build>> other_pusher(storage::Store& store, const storage::Build& build) {
    storage::BuildFilter filter;
    filter.state = storage::BuildState::running;
    filter.limit = 500;
    auto running = store.list_builds(filter);
    if (!running) return running.error();
    for (const auto& other : *running) {
        if (other.id == build.id || other.image != build.image) continue;
        if (other.id > build.id && renders_at_checkout(other)) continue;
        for (const auto& tag : build.tags) {
            if (std::find(other.tags.begin(), other.tags.end(), tag) != other.tags.end()) return {other};
        }
    }
    return std::optional<storage::Build>();
}

}  // namespace

util::Result<CommitTags> tags_for_commit(const config::RepositoryConfig& repo, const storage::Build& build,
                                         const std::string& commit) {
    CommitTags out{build.tags, build.sanitized_tags};
    const bool queued_without_commit = build.commit.empty();
    if (!queued_without_commit && !build.tags.empty()) return out;
    config::PushInfo info;
    info.ref = build.ref;
    info.manual = true;
    info.commit = commit;
    info.time_s =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    for (const auto& planned : config::plan_builds(repo, info).builds) {
        if (planned.rule_index != build.rule) continue;
        if (!planned.tag_error.empty()) return util::make_error(util::ErrorKind::invalid_input, planned.tag_error);
        if (queued_without_commit) out = {planned.tags, planned.sanitized_tags};
    }
    if (out.tags.empty()) {
        return util::make_error(util::ErrorKind::invalid_input,
                                "the rule's tag template renders no tag for " + build.ref + " at " + commit +
                                    "; give the rule a tag that renders here, e.g. add ',latest'");
    }
    return out;
}

util::Status wait_for_tag_pushers(storage::Store& store, const storage::Build& build, const CancelToken& token,
                                  const std::function<void(std::string_view)>& log) {
    bool told = false;
    while (!token.canceled()) {
        auto other = other_pusher(store, build);
        if (!other) return other.error();
        if (!other->has_value()) return {};
        if (!told) {
            log("hookyard: waiting for build " + std::to_string((*other)->id) + ", which pushes a tag of " +
                build.image + " this build now renders");
            told = true;
        }
        std::this_thread::sleep_for(k_pusher_poll);
    }
    return util::make_error(util::ErrorKind::canceled, "canceled");
}

util::Status render_commit_tags(storage::Store& store, const config::RepositoryConfig& repo, storage::Build& build,
                                const std::string& commit, const CancelToken& token,
                                const std::function<void(std::string_view)>& log) {
    auto rendered = tags_for_commit(repo, build, commit);
    if (!rendered) return rendered.error();
    if (rendered->tags == build.tags) return {};
    build.tags = rendered->tags;
    build.sanitized_tags = rendered->sanitized_tags;
    if (auto st = store.set_tags(build.id, build.tags, build.sanitized_tags); !st) return st;
    std::string shown;
    for (const auto& tag : build.tags) shown += (shown.empty() ? "" : ", ") + tag;
    log("hookyard: tags rendered for " + commit + ": " + shown);
    return wait_for_tag_pushers(store, build, token, log);
}

}  // namespace hookyard::pipeline
