#include "storage/build_state.hpp"

#include <gtest/gtest.h>

using namespace hookyard::storage;

TEST(BuildState, RoundTripsThroughItsName) {
    for (auto s : {BuildState::queued, BuildState::running, BuildState::succeeded, BuildState::failed,
                   BuildState::canceled, BuildState::superseded}) {
        EXPECT_EQ(parse_build_state(to_string(s)), s);
    }
    EXPECT_FALSE(parse_build_state("done").has_value());
}

TEST(BuildState, OnlyQueuedAndRunningAreNotTerminal) {
    EXPECT_FALSE(is_terminal(BuildState::queued));
    EXPECT_FALSE(is_terminal(BuildState::running));
    EXPECT_TRUE(is_terminal(BuildState::succeeded));
    EXPECT_TRUE(is_terminal(BuildState::superseded));
}

TEST(BuildState, NothingLeavesATerminalState) {
    for (auto from : {BuildState::succeeded, BuildState::failed, BuildState::canceled, BuildState::superseded}) {
        for (auto to : {BuildState::queued, BuildState::running, BuildState::succeeded, BuildState::failed}) {
            EXPECT_FALSE(can_transition(from, to)) << to_string(from) << "->" << to_string(to);
        }
    }
    EXPECT_TRUE(can_transition(BuildState::queued, BuildState::running));
    EXPECT_TRUE(can_transition(BuildState::running, BuildState::queued));
    EXPECT_TRUE(can_transition(BuildState::running, BuildState::superseded));  // a replay found at checkout
    EXPECT_FALSE(can_transition(BuildState::queued, BuildState::succeeded));
}
