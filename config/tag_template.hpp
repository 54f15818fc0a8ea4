#pragma once
// Tag templates: a comma-separated list of parts, each text with variables in braces. {sourceref} and
// {\1}..{\9} come from the matched ref (Docker Hub's), the commit variables from the build:
//   {sha} the full commit id, {sha:N} its first N (1..40) characters, {branch} the branch (empty on tag
//   pushes; the base branch for pull requests), {tag} the git tag (empty on branch pushes), {pr} the pull
//   request number (empty outside pull requests), {date:FORMAT} the build's UTC time through strftime
//   ({date} alone is {date:%Y%m%d}). Pure functions.

#include <cstdint>
#include <string>
#include <vector>

namespace hookyard::config {

// What the variables of a template stand for; values not known render empty.
struct TagValues {
    std::string sourceref;              // the branch or tag name the rule matched
    std::vector<std::string> captures;  // the source regex's groups, {\1} first
    std::string sha;                    // the full commit id; "" before checkout resolved a trigger's branch head
    std::string branch;
    std::string tag;
    std::string pr;
    std::int64_t time_s = 0;  // seconds since the epoch, rendered in UTC by {date:…}
};

// Renders `tmpl`: every part trimmed, rendered and sanitised (see sanitize_tag), empty results dropped,
// duplicates removed; a part with {sha} renders nothing while `values.sha` is empty. With `changed`, the tags that
// sanitising altered are appended to it too.
std::vector<std::string> render_tag_template(const std::string& tmpl, const TagValues& values,
                                             std::vector<std::string>* changed = nullptr);

// "" when every variable of `tmpl` is known and well-formed, else the message naming the first bad one: an
// unknown name, {sha:N} outside 1..40, a {date:…} format with a conversion other than strftime's date and
// time ones, {\N} without a regex source (`is_regex`) or beyond its `capture_groups`.
std::string check_tag_variables(const std::string& tmpl, bool is_regex, unsigned capture_groups);

// True when `tmpl` uses {sha} or {sha:N}: a build queued without a commit renders it after checkout.
bool uses_commit(const std::string& tmpl);

// Why `tmpl` renders no tag for `values`: the variables it uses that are empty here ("{tag} is empty on
// branch pushes"), or that sanitising left nothing. For the error of a build that has no tag to push.
std::string empty_render_reason(const std::string& tmpl, const TagValues& values);

}  // namespace hookyard::config
