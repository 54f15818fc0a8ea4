#pragma once
// Turns a failed buildah run into an error a user can act on: the FROM image that could not be pulled,
// the Dockerfile line of the failing step, or buildah's own last error line.

#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace hookyard::pipeline {

// Collects what the diagnosis needs from buildah's output while it streams. Not thread-safe.
class BuildahOutputWatch {
public:
    // Looks at one output line.
    void observe(std::string_view line);

    const std::string& last_error() const { return m_last_error; }  // last "Error: ..." line, without prefix
    const std::string& last_step() const { return m_last_step; }    // instruction of the last "STEP n/m:"
    int last_step_number() const { return m_step; }                 // n of that line; 0 when none
    int last_stage_number() const { return m_stage; }               // k of "[k/s] STEP", 1 when absent
    const std::string& pulling() const { return m_pulling; }        // image of the last "Trying to pull X..."

private:
    std::string m_last_error;
    std::string m_last_step;
    std::string m_pulling;
    int m_step = 0;
    int m_stage = 1;
};

// True when the build failed only because buildah's storage changed under it: buildah 1.28 walks every
// image when it looks for a cached layer, and an image removed meanwhile by a concurrent build (cache off,
// or a hook's image) fails that walk with "layer not known". Running the build again is safe.
bool is_storage_race(const BuildahOutputWatch& watch);

// The 1-based line of instruction `step` (1-based, FROM is step 1) of build stage `stage` (1-based) in
// `dockerfile_text`, honouring comments, blank lines and backslash continuations; 0 when out of range.
int dockerfile_line(std::string_view dockerfile_text, int stage, int step);

// The error for a `buildah build` that exited with `exit_code` (> 0). `dockerfile_label` names the file
// in messages (e.g. the Dockerfile path relative to the context); `dockerfile_text` is its content.
util::Error diagnose_build_failure(const BuildahOutputWatch& watch, int exit_code, std::string_view dockerfile_label,
                                   std::string_view dockerfile_text);

}  // namespace hookyard::pipeline
