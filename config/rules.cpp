#include "config/rules.hpp"

#include <re2/re2.h>

#include <algorithm>

#include "config/image_ref.hpp"
#include "config/naming.hpp"

namespace hookyard::config {
namespace {

const char* const k_skip_markers[] = {"[skip build]", "[build skip]", "[skip ci]", "[ci skip]"};

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
}

bool source_matches(const Rule& rule, const SourceRef& ref, std::vector<std::string>& captures) {
    if (rule.source_type != ref.type) return false;
    captures.clear();
    if (!rule.is_regex) return rule.source == ref.name;
    if (!rule.regex) return false;
    // RE2 runs in time linear in the name, whatever the pattern: a pushed branch name cannot make it backtrack.
    std::vector<re2::StringPiece> groups(1 + static_cast<std::size_t>(rule.regex->NumberOfCapturingGroups()));
    if (!rule.regex->Match(ref.name, 0, ref.name.size(), re2::RE2::ANCHOR_BOTH, groups.data(),
                           static_cast<int>(groups.size()))) {
        return false;
    }
    for (std::size_t i = 1; i < groups.size(); ++i) captures.push_back(std::string(groups[i].data() ? groups[i] : ""));
    return true;
}

// True when the listed changes pass the rule's paths / ignore_paths filters.
bool paths_allow(const Rule& rule, const std::vector<std::string>& changed) {
    if (changed.empty()) return true;
    auto matches_any = [](const std::vector<std::string>& globs, const std::string& file) {
        return std::any_of(globs.begin(), globs.end(), [&](const std::string& g) { return glob_match(g, file); });
    };
    return std::any_of(changed.begin(), changed.end(), [&](const std::string& file) {
        const bool included = rule.paths.empty() || matches_any(rule.paths, file);
        const bool ignored = !rule.ignore_paths.empty() && matches_any(rule.ignore_paths, file);
        return included && !ignored;
    });
}

bool glob_match_impl(std::string_view p, std::string_view s) {
    while (!p.empty()) {
        if (p.substr(0, 2) == "**") {
            p.remove_prefix(2);
            const bool slash_follows = !p.empty() && p.front() == '/';
            if (slash_follows) p.remove_prefix(1);
            // "**/" may match zero segments, so try the rest here and after every '/'.
            for (std::size_t i = 0; i <= s.size(); ++i) {
                if ((i == 0 || !slash_follows || s[i - 1] == '/') && glob_match_impl(p, s.substr(i))) return true;
            }
            return false;
        }
        if (p.front() == '*') {
            p.remove_prefix(1);
            for (std::size_t i = 0; i <= s.size(); ++i) {
                if (glob_match_impl(p, s.substr(i))) return true;
                if (i < s.size() && s[i] == '/') break;
            }
            return false;
        }
        if (s.empty()) return false;
        if (p.front() == '?') {
            if (s.front() == '/') return false;
        } else if (p.front() != s.front()) {
            return false;
        }
        p.remove_prefix(1);
        s.remove_prefix(1);
    }
    return s.empty();
}

}  // namespace

bool parse_git_ref(std::string_view ref, SourceRef& out) {
    constexpr std::string_view k_heads = "refs/heads/", k_tags = "refs/tags/";
    if (ref.substr(0, k_heads.size()) == k_heads && ref.size() > k_heads.size()) {
        out = {SourceType::branch, std::string(ref.substr(k_heads.size()))};
        return true;
    }
    if (ref.substr(0, k_tags.size()) == k_tags && ref.size() > k_tags.size()) {
        out = {SourceType::tag, std::string(ref.substr(k_tags.size()))};
        return true;
    }
    return false;
}

bool glob_match(std::string_view pattern, std::string_view path) {
    while (pattern.substr(0, 2) == "./") pattern.remove_prefix(2);
    while (!pattern.empty() && pattern.front() == '/') pattern.remove_prefix(1);
    if (pattern.find_first_of("*?") == std::string_view::npos) {
        while (!pattern.empty() && pattern.back() == '/') pattern.remove_suffix(1);
        return path == pattern || (path.size() > pattern.size() && path.substr(0, pattern.size()) == pattern &&
                                   path[pattern.size()] == '/');
    }
    return glob_match_impl(pattern, path);
}

std::vector<std::string> render_tags(const std::string& tag_template, const std::string& sourceref,
                                     const std::vector<std::string>& captures, std::vector<std::string>* changed) {
    TagValues values;
    values.sourceref = sourceref;
    values.captures = captures;
    return render_tag_template(tag_template, values, changed);
}

std::string image_repository(const RepositoryConfig& repo) {
    return repo.push_repo.empty() ? repo.push_repo_prefix + "/" + repo.image_name : repo.push_repo;
}

Plan plan_builds(const RepositoryConfig& repo, const PushInfo& push) {
    Plan plan;
    SourceRef ref;
    if (!parse_git_ref(push.ref, ref)) {
        plan.skipped_reason = "ref " + push.ref + " is neither a branch nor a tag";
        return plan;
    }
    for (const char* marker : k_skip_markers) {
        if (push.head_commit_message.find(marker) != std::string::npos) {
            plan.skipped_reason = std::string("head commit message contains ") + marker;
            return plan;
        }
    }
    bool matched_any = false, filtered_any = false;
    std::vector<std::string> captures;
    for (std::size_t i = 0; i < repo.rules.size(); ++i) {
        const Rule& rule = repo.rules[i];
        if (!source_matches(rule, ref, captures)) continue;
        matched_any = true;
        if (!rule.autobuild && !push.manual) continue;
        if (!push.manual && !paths_allow(rule, push.changed_files)) {
            filtered_any = true;
            continue;
        }
        PlannedBuild b;
        b.rule_index = i;
        b.source = ref;
        const TagValues values{ref.name,
                               captures,
                               push.commit,
                               ref.type == SourceType::branch ? ref.name : "",
                               ref.type == SourceType::tag ? ref.name : "",
                               push.pr,
                               push.time_s};
        b.tags = render_tag_template(rule.tag, values, &b.sanitized_tags);
        // {sha} of a trigger build renders after checkout; whatever else renders nothing fails the build.
        if (b.tags.empty() && !(push.commit.empty() && uses_commit(rule.tag))) {
            b.tag_error = empty_render_reason(rule.tag, values);
        }
        for (auto* list : {&b.tags, &b.sanitized_tags}) {
            for (auto& t : *list) t = final_tag(repo, t);
        }
        b.image_repository = image_repository(repo);
        for (const auto& t : b.tags) b.images.push_back(b.image_repository + ":" + t);
        b.dockerfile = rule.dockerfile;
        b.context = rule.context;
        b.build_args = rule.build_args;
        plan.builds.push_back(std::move(b));
    }
    if (plan.builds.empty()) {
        const std::string what = std::string(to_string(ref.type)) + " '" + ref.name + "'";
        if (!matched_any)
            plan.skipped_reason = "no rule matches " + what;
        else if (filtered_any)
            plan.skipped_reason = "no changed file of the push matches the rules' paths filters";
        else
            plan.skipped_reason = "the rules matching " + what + " have autobuild: false";
    }
    return plan;
}

namespace {

// Names the construct RE2 refused, so the user knows what to rewrite.
std::string describe_re2_error(const re2::RE2& re) {
    const std::string& arg = re.error_arg();
    const std::string hint = "; rule regexes use RE2 syntax (no lookaround, no backreferences), e.g. '/^v([0-9.]+)$/'";
    if (re.error_code() == re2::RE2::ErrorBadPerlOp && (arg.rfind("(?=", 0) == 0 || arg.rfind("(?!", 0) == 0 ||
                                                        arg.rfind("(?<=", 0) == 0 || arg.rfind("(?<!", 0) == 0)) {
        return "uses lookaround " + arg + ", which RE2 does not support" + hint;
    }
    if (re.error_code() == re2::RE2::ErrorBadEscape && arg.size() == 2 && arg[0] == '\\' && arg[1] >= '1' &&
        arg[1] <= '9') {
        return "uses the backreference " + arg + ", which RE2 does not support" + hint;
    }
    return "does not compile (" + re.error() + ")" + hint;
}

}  // namespace

std::string compile_source(Rule& rule) {
    const auto& s = rule.source;
    if (s.size() < 2 || s.front() != '/' || s.back() != '/') {
        rule.is_regex = false;
        return "";
    }
    const std::string pattern = s.substr(1, s.size() - 2);
    re2::RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_shared<const re2::RE2>(pattern, options);
    if (!re->ok()) return "source regex /" + pattern + "/ " + describe_re2_error(*re);
    rule.capture_groups = static_cast<unsigned>(re->NumberOfCapturingGroups());
    rule.regex = std::move(re);
    rule.is_regex = true;
    rule.source = pattern;
    return "";
}

std::string check_tag_template(const Rule& rule) {
    const std::string& t = rule.tag;
    if (trim(t).empty()) return "tag is empty; write e.g. latest or '{sourceref}'";
    if (auto problem = check_tag_variables(t, rule.is_regex, rule.capture_groups); !problem.empty()) return problem;
    // Parts without placeholders are final: they must already be valid tags, as the registry sees them.
    std::size_t start = 0;
    while (start <= t.size()) {
        auto comma = t.find(',', start);
        if (comma == std::string::npos) comma = t.size();
        const std::string part = trim(std::string_view(t).substr(start, comma - start));
        if (part.find('{') == std::string::npos && !is_valid_tag(part)) {
            return "tag '" + part +
                   "' is not a valid OCI tag: use up to 128 of A-Z a-z 0-9 _ . -, not starting "
                   "with . or -";
        }
        start = comma + 1;
    }
    return "";
}

}  // namespace hookyard::config
