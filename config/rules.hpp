#pragma once
// Autobuild rules, as on Docker Hub: which pushes build what, and under which image references.
// Everything here is a pure function of its arguments.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.hpp"
#include "config/tag_template.hpp"

namespace hookyard::config {

// A pushed git ref in short form.
struct SourceRef {
    SourceType type = SourceType::branch;
    std::string name;  // "main", "feature/x", "v1.2.3"
};

// refs/heads/X → branch X, refs/tags/X → tag X; false for anything else (refs/pull/…, notes).
bool parse_git_ref(std::string_view ref, SourceRef& out);

struct PushInfo {
    std::string ref;                         // full ref, e.g. refs/heads/main
    std::vector<std::string> changed_files;  // union of commits[].added/modified/removed
    std::string head_commit_message;
    bool manual = false;      // API trigger or CLI: rules with autobuild:false apply too
    std::string commit;       // the commit built, for {sha}; "" = not known yet (rendered after checkout)
    std::string pr;           // the pull request number, for {pr}
    std::int64_t time_s = 0;  // the build's time, for {date:…}
};

struct PlannedBuild {
    std::size_t rule_index = 0;
    SourceRef source;
    std::vector<std::string> tags;            // sanitised, deduplicated, in template order
    std::vector<std::string> sanitized_tags;  // those of `tags` that sanitising changed (may collide)
    std::vector<std::string> images;          // full references <repo>:<tag>, one per tag
    std::string image_repository;             // the full image name without tag, e.g. docker.io/acme/web
    std::string dockerfile;
    std::string context;
    std::map<std::string, std::string> build_args;
    // Why `tags` is empty when the rule's template rendered nothing (the build fails with it); "" otherwise,
    // and also while {sha} waits for the commit.
    std::string tag_error;
    bool push = true;  // false: built, never pushed (a pull request's without pull_requests.push_tag)
};

struct Plan {
    std::vector<PlannedBuild> builds;
    std::string skipped_reason;  // why nothing was planned, when builds is empty
};

// Applies the repository's rules in order to one push. Every matching rule plans one build, also when its tag
// template renders no tag here (then with tag_error, for the build to fail with).
// Nothing is planned (with a reason) for: a ref that is neither a branch nor a tag, a head commit message
// containing [skip build], [build skip] or [skip ci], rules with autobuild:false (unless manual), and a
// push whose listed changed files match no `paths` glob or only `ignore_paths` globs. Filters apply only
// when the push lists changed files (a tag push from GitHub lists none, and is not filtered).
Plan plan_builds(const RepositoryConfig& repo, const PushInfo& push);

// The image name (without tag) a repository pushes to: push_repo, or push_repo_prefix/image_name.
std::string image_repository(const RepositoryConfig& repo);

// Renders a tag template with only {sourceref} and {\1}..{\9} known (see render_tag_template).
std::vector<std::string> render_tags(const std::string& tag_template, const std::string& sourceref,
                                     const std::vector<std::string>& captures,
                                     std::vector<std::string>* changed = nullptr);

// Matches a path against a glob: `*` and `?` stay within one path segment, `**` spans segments,
// a pattern without glob characters also matches everything below it as a directory.
bool glob_match(std::string_view pattern, std::string_view path);

// Config-time checks used by the loader; each returns "" when fine, else the message.
std::string compile_source(Rule& rule);
std::string check_tag_template(const Rule& rule);

}  // namespace hookyard::config
