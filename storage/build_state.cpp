#include "storage/build_state.hpp"

namespace hookyard::storage {

std::string_view to_string(BuildState state) {
    switch (state) {
        case BuildState::queued:
            return "queued";
        case BuildState::running:
            return "running";
        case BuildState::succeeded:
            return "succeeded";
        case BuildState::failed:
            return "failed";
        case BuildState::canceled:
            return "canceled";
        case BuildState::superseded:
            return "superseded";
    }
    return "unknown";
}

std::optional<BuildState> parse_build_state(std::string_view text) {
    for (auto s : {BuildState::queued, BuildState::running, BuildState::succeeded, BuildState::failed,
                   BuildState::canceled, BuildState::superseded}) {
        if (to_string(s) == text) return s;
    }
    return std::nullopt;
}

bool is_terminal(BuildState state) { return state != BuildState::queued && state != BuildState::running; }

bool can_transition(BuildState from, BuildState to) {
    switch (from) {
        case BuildState::queued:
            return to == BuildState::running || to == BuildState::canceled || to == BuildState::superseded;
        case BuildState::running:
            // superseded: at checkout the build turned out to be a replay of an ancestor of a built commit.
            return to == BuildState::succeeded || to == BuildState::failed || to == BuildState::canceled ||
                   to == BuildState::superseded || to == BuildState::queued;
        default:
            return false;
    }
}

}  // namespace hookyard::storage
