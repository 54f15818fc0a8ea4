#include "config/pull_requests.hpp"

#include "config/image_ref.hpp"
#include "config/naming.hpp"
#include "config/pull_request_keys.hpp"

namespace hookyard::config {

void read_pull_request_keys(YamlReader& reader, const YAML::Node& n, RepositoryConfig& repo) {
    // YAML 1.1 reads a bare `off` as false: both spellings mean off.
    read_choice<Autotest>(reader, n, "autotest", "autotest",
                          {{"off", Autotest::off},
                           {"false", Autotest::off},
                           {"internal", Autotest::internal},
                           {"external", Autotest::external}},
                          repo.autotest);
    const YAML::Node prs = n["pull_requests"];
    if (!prs || !reader.expect_map(prs, "pull_requests")) return;
    reader.check_keys(prs, {"push_tag"}, "pull_requests");
    reader.read(prs, "push_tag", repo.pr_push_tag);
    if (!prs["push_tag"]) return;
    repo.pr_push_tag_line = YamlReader::line_of(prs["push_tag"]);
    Rule as_rule;
    as_rule.tag = repo.pr_push_tag;
    if (auto err = check_tag_template(as_rule); !err.empty()) {
        reader.diags().add(repo.pr_push_tag_line, "pull_requests.push_tag: " + err);
    }
}

std::string pull_request_ref(std::uint64_t number) { return "refs/pull/" + std::to_string(number) + "/head"; }

Plan plan_pull_request(const RepositoryConfig& repo, const PullRequestInfo& pr) {
    Plan plan;
    if (repo.autotest == Autotest::off) {
        plan.skipped_reason = "autotest is off for " + repo.github + ": pull requests do not build";
        return plan;
    }
    if (pr.external && repo.autotest == Autotest::internal) {
        plan.skipped_reason = "pull request #" + std::to_string(pr.number) +
                              " comes from a fork and autotest is internal: set autotest: external to build forks";
        return plan;
    }
    PushInfo push;
    push.ref = "refs/heads/" + pr.base_branch;
    push.commit = pr.head_sha;
    push.pr = std::to_string(pr.number);
    push.time_s = pr.time_s;
    plan = plan_builds(repo, push);
    const bool push_tag = !repo.pr_push_tag.empty() && !pr.external;
    for (auto& b : plan.builds) {
        if (pr.external) b.build_args.clear();  // secrets live there; a fork's Dockerfile would read them
        b.push = push_tag;
        if (!push_tag) continue;
        TagValues values{pr.base_branch, {}, pr.head_sha, pr.base_branch, "", push.pr, pr.time_s};
        b.sanitized_tags.clear();
        b.tags = render_tag_template(repo.pr_push_tag, values, &b.sanitized_tags);
        b.tag_error = b.tags.empty() ? "pull_requests.push_tag: " + empty_render_reason(repo.pr_push_tag, values) : "";
        for (auto* list : {&b.tags, &b.sanitized_tags}) {
            for (auto& t : *list) t = final_tag(repo, t);
        }
        b.images.clear();
        for (const auto& t : b.tags) b.images.push_back(b.image_repository + ":" + t);
    }
    if (plan.builds.empty()) plan.skipped_reason = "base branch: " + plan.skipped_reason;
    return plan;
}

}  // namespace hookyard::config
