#pragma once
// A build's identity (issue 17): what an image is made of, so that a build whose identity equals a
// succeeded build's can re-tag that image instead of building (pipeline/reuse.hpp). Pure functions apart
// from reading the build context.

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace hookyard::pipeline {

// What the identity needs from a Dockerfile.
struct DockerfileFacts {
    // The images FROM lines name, in order, each once, with build args substituted: stage names and
    // `scratch` left out; a reference pinned by digest ("debian@sha256:…") kept as written.
    std::vector<std::string> bases;
    std::set<std::string> declared_args;  // every name an ARG instruction declares
    std::string unresolved;               // a FROM naming a variable nothing sets ("" = none): not reusable
    std::string final_base;               // the image the last stage starts from ("" = scratch or unresolved)
};

// Reads FROM and ARG instructions (line continuations joined, comments skipped). `build_args` (the build's
// --build-arg values) and the ARG defaults before the first FROM fill $VAR, ${VAR} and ${VAR:-default}.
DockerfileFacts read_dockerfile(std::string_view text, const std::map<std::string, std::string>& build_args);

// "sha256:…" over every entry under `dir` (sorted relative paths, entry type, executable bit, symlink
// targets, file contents; a top-level .git directory skipped): equal for equal trees whatever commit
// they came from, like git's tree id, submodule contents included. invalid_input when a file cannot be read.
util::Result<std::string> context_digest(const std::string& dir);

struct IdentityInputs {
    std::string context_digest;   // context_digest() of the build context
    std::string dockerfile_path;  // relative to the repository root
    std::string dockerfile_text;
    std::map<std::string, std::string> build_args;      // the rule's (the build's) build args
    std::map<std::string, std::string> automatic_args;  // Docker Hub's variables the Dockerfile declares
    std::vector<std::string> platforms;                 // what the rule builds (empty = the host's)
    bool hooks = false;
    std::map<std::string, std::string> base_digests;  // FROM reference → the manifest digest it resolved to
};

// "sha256:…" of the inputs in a canonical form; equal inputs give equal identities.
std::string build_identity(const IdentityInputs& in);

// The entries of `automatic` (Docker Hub's variables by name) that `facts` declares with ARG: only those
// change the image, so only those count.
std::map<std::string, std::string> declared_automatic_args(const DockerfileFacts& facts,
                                                           const std::map<std::string, std::string>& automatic);

}  // namespace hookyard::pipeline
