#include "pipeline/push_guards.hpp"

namespace hookyard::pipeline {

util::Result<std::string> replay_reason(storage::Store& store, CheckoutService& checkout, const std::string& repo_key,
                                        const storage::Build& build) {
    if (build.forced || build.commit.empty()) return std::string();
    auto last = store.last_succeeded(build.repository, build.rule, build.ref);
    if (!last) return last.error();
    if (!last->has_value()) return std::string();
    const storage::Build& newer = **last;
    auto older = checkout.is_strict_ancestor(repo_key, build.commit, newer.commit);
    if (!older) return older.error();
    if (!*older) return std::string();
    return "commit " + build.commit + " is an ancestor of " + newer.commit + ", which build " +
           std::to_string(newer.id) + " already built and pushed for " + build.ref +
           ": a replayed or re-sent old push would put older code over the newer image. To roll back on purpose, "
           "force-push the branch (a push with forced: true is never superseded)";
}

util::Status check_tag_owners(storage::Store& store, const storage::Build& build, bool allow_collisions) {
    if (allow_collisions) return {};
    for (const auto& tag : build.sanitized_tags) {
        auto owner = store.last_pusher(build.image + ":" + tag);
        if (!owner) return owner.error();
        if (!owner->has_value()) continue;
        const storage::Build& o = **owner;
        if (o.repository == build.repository && o.ref == build.ref) continue;
        const std::string other = o.ref + (o.repository == build.repository ? "" : " of " + o.repository);
        return util::make_error(util::ErrorKind::invalid_input,
                                "tag " + tag + " of " + build.image + " belongs to " + other + " (build " +
                                    std::to_string(o.id) + " pushed it), and " + build.ref +
                                    " renders it only after sanitising dropped or replaced characters; "
                                    "not overwriting it. Rename " +
                                    build.ref +
                                    ", change the rule's tag template, or set "
                                    "allow_tag_collisions: true on " +
                                    build.repository + " to let it overwrite");
    }
    return {};
}

}  // namespace hookyard::pipeline
