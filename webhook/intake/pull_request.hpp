#pragma once
// pull_request deliveries (Docker Hub's Autotest): which builds an opened, synchronized or reopened pull
// request queues, and the builds a closed one cancels.

#include <cstdint>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "storage/store.hpp"
#include "webhook/intake/github_event.hpp"

namespace hookyard::intake {

// What one pull_request delivery asks for. Exactly one of: `rejected` (the payload lacks what it needs),
// `ignored` (why nothing happens), `close` (cancel the pull request's builds of `repo`), or `builds`.
struct PullRequestPlan {
    std::string rejected;
    std::string ignored;
    const config::RepositoryConfig* repo = nullptr;
    bool close = false;
    std::vector<storage::NewBuild> builds;
};

// Plans a pull_request event against the config (autotest, the base branch's rules, push_tag). Its builds
// check out refs/pull/N/head at the head commit, are never superseded as replays (pull requests are
// force-pushed routinely), and for a fork's pull request carry no build args. Pure.
PullRequestPlan plan_pull_request(const config::Config& config, const PushEvent& event);

// Cancels the queued and running builds of pull request `number` of `repository` (store.cancel_build);
// returns their ids. Errors come from the store.
util::Result<std::vector<storage::BuildId>> cancel_pull_request(storage::Store& store, const std::string& repository,
                                                                std::uint64_t number);

}  // namespace hookyard::intake
