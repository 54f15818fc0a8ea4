#pragma once

#include <string>

#include "config/loader.hpp"

namespace hookyard::config::testing {

// Every diagnostic message of a load, one per line: what an EXPECT on "the loader said X" searches.
inline std::string all_messages(const LoadOutcome& out) {
    std::string text;
    for (const auto& d : out.diagnostics) text += d.message + "\n";
    return text;
}

}  // namespace hookyard::config::testing
