#pragma once
// Which notifications a build event produces, from the config's subscribers and GitHub settings.
// The store calls the planner inside the transaction that changes the build (see storage/outbox.hpp).

#include "config/model.hpp"
#include "storage/outbox.hpp"

namespace hookyard::notify {

// The outbox target name used for GitHub commit statuses.
inline constexpr const char* k_github_target = "github";

// Builds the planner. `config` must outlive it. For each event:
//  - subscribers whose `repositories` include the build's (all when empty) and whose `events` include the
//    event get one notification; format dockerhub only knows `push` (its default), format hookyard
//    defaults to every event; build.succeeded also produces one `push` notification per pushed tag;
//  - with github.token set and the commit known, a commit status (pending, success, failure, error).
storage::EventPlanner make_event_planner(const config::Config& config);

// Base URL for links back to hookyard: server.public_url, else http://<server.listen>.
std::string public_base_url(const config::Config& config);

}  // namespace hookyard::notify
