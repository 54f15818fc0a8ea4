#pragma once
// What the stage runner checks before a build may change what a registry tag points at: a replayed push must
// not put older code over a newer image, and a tag that only sanitising made equal to another ref's tag must
// not take it over. Both read the store; neither writes.

#include <string>

#include "pipeline/checkout/checkout.hpp"
#include "storage/store.hpp"
#include "util/result.hpp"

namespace hookyard::pipeline {

// Why `build` must end superseded instead of pushing: its pinned commit is a strict ancestor of the commit the
// last succeeded build of the same repository + rule + ref pushed (a replayed or re-sent old push). "" when the
// build goes on: a forced push (a deliberate rollback), a build without a pinned commit (a trigger builds the
// branch head), no earlier success, or histories that do not contain each other. `repo_key` names the mirror
// the checkout just fetched. Errors come from the store or the mirror.
util::Result<std::string> replay_reason(storage::Store& store, CheckoutService& checkout, const std::string& repo_key,
                                        const storage::Build& build);

// invalid_input naming both refs and the fixes when one of the build's tags that sanitising changed
// (Build::sanitized_tags) was last pushed by another repository or ref: `lat@est` must not overwrite the
// `latest` that main owns. Tags that needed no sanitising move as the rules say. Always ok when
// `allow_collisions` (the repository's allow_tag_collisions).
util::Status check_tag_owners(storage::Store& store, const storage::Build& build, bool allow_collisions);

}  // namespace hookyard::pipeline
