#pragma once
// Pull request builds (Docker Hub's Autotest): the repository keys `autotest` and `pull_requests`, and the
// planning of a pull request event with the rules of its base branch (the keys are read by
// pull_request_keys.hpp). Pure.

#include <cstdint>
#include <string>

#include "config/model.hpp"
#include "config/rules.hpp"

namespace hookyard::config {

struct PullRequestInfo {
    std::uint64_t number = 0;
    std::string base_branch;  // base.ref
    std::string head_sha;     // the commit built
    bool external = false;    // the head repository is not the base repository (a fork, or a deleted one)
    std::int64_t time_s = 0;  // for {date:…}
};

// The full ref a pull request's head is fetched from: refs/pull/N/head.
std::string pull_request_ref(std::uint64_t number);

// The builds of a pull request: one per rule matching its base branch, as a push there would plan them, with
// tags rendered for the head commit ({pr} = the number). A fork's build gets none of the rules' build_args.
// `push` is set only for the repository's own pull requests when pull_requests.push_tag is set, and then the
// tags are that template's. Nothing (with a reason) when autotest is off, or a fork's and autotest internal.
Plan plan_pull_request(const RepositoryConfig& repo, const PullRequestInfo& pr);

}  // namespace hookyard::config
