#include "storage/build_state.hpp"

#include "util/enum_name.hpp"

namespace hookyard::storage {

std::string_view to_string(BuildState state) {
    static constexpr util::EnumNames k_names(
        BuildState::superseded,
        std::array<std::string_view, 6>{"queued", "running", "succeeded", "failed", "canceled", "superseded"});
    return k_names(state, "unknown");
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
