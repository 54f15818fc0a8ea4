#pragma once
// The build state machine, in one place. The store enforces it: every state change goes through
// can_transition(), so a finished build can never be finished (or restarted) again.

#include <optional>
#include <string_view>

namespace hookyard::storage {

enum class BuildState { queued, running, succeeded, failed, canceled, superseded };

// "queued", "running", … as in the REST API and the database.
std::string_view to_string(BuildState state);
// Parses the to_string() form; nullopt for anything else.
std::optional<BuildState> parse_build_state(std::string_view text);
// True for succeeded, failed, canceled and superseded: nothing changes a terminal build any more.
bool is_terminal(BuildState state);
// The allowed transitions: queued → running|canceled|superseded; running → succeeded|failed|canceled|
// superseded (a replayed push found at checkout) and running → queued (crash recovery re-queues an interrupted build).
// Nothing leaves a terminal state.
bool can_transition(BuildState from, BuildState to);

}  // namespace hookyard::storage
