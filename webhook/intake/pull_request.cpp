#include "webhook/intake/pull_request.hpp"

#include <algorithm>
#include <cctype>

#include "config/pull_requests.hpp"
#include "storage/new_build.hpp"
#include "webhook/intake/clone_url.hpp"

namespace hookyard::intake {
namespace {

bool same_repository(std::string a, std::string b) {
    const auto lower = [](std::string& s) {
        std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    };
    lower(a);
    lower(b);
    return a == b;
}

storage::NewBuild pull_request_build(const config::Config& config, const config::RepositoryConfig& repo,
                                     const PushEvent& ev, const config::PlannedBuild& planned, bool external) {
    const auto& pr = ev.pr;
    storage::NewBuild b = storage::make_new_build(repo, planned, config::pull_request_ref(pr.number));
    b.commit = pr.head_sha;
    b.clone_url = clone_url_for(config, repo);  // the base repository: it serves refs/pull/N/head
    b.head_commit_message = pr.title;
    b.pusher = pr.sender;
    b.forced = true;
    b.trigger_type = "pull_request";
    b.trigger_reason = "pull request #" + std::to_string(pr.number) + " " + pr.action + " (" +
                       pr.head_sha.substr(0, 7) + (external ? ", from a fork" : "") + ")" +
                       (pr.sender.empty() ? "" : " by " + pr.sender);
    b.pull_request = static_cast<std::int64_t>(pr.number);
    b.pull_request_external = external;
    return b;
}

}  // namespace

PullRequestPlan plan_pull_request(const config::Config& config, const PushEvent& ev) {
    PullRequestPlan out;
    if (auto st = check_pull_request(ev); !st) {
        out.rejected = st.error().message;
        return out;
    }
    const auto& action = ev.pr.action;
    if (action != "opened" && action != "synchronize" && action != "reopened" && action != "closed") {
        out.ignored = "pull request action '" + action + "' does not build; opened, synchronize and reopened do";
        return out;
    }
    auto found = find_payload_repository(config, ev.repository, ev.clone_url);
    if (found.repo == nullptr) {
        out.ignored = std::move(found.ignored);
        out.rejected = std::move(found.rejected);
        return out;
    }
    const auto* repo = found.repo;
    out.repo = repo;
    if (action == "closed") {
        out.close = true;
        return out;
    }
    config::PullRequestInfo info;
    info.number = ev.pr.number;
    info.base_branch = ev.pr.base_ref;
    info.head_sha = ev.pr.head_sha;
    // A deleted fork leaves head.repo null: its commits are a stranger's as much as a live fork's.
    info.external = ev.pr.head_repo.empty() || !same_repository(ev.pr.head_repo, ev.repository);
    info.time_s = storage::now_ms() / 1000;
    const auto planned = config::plan_pull_request(*repo, info);
    if (planned.builds.empty()) {
        out.repo = nullptr;
        out.ignored = planned.skipped_reason;
        return out;
    }
    for (const auto& p : planned.builds) out.builds.push_back(pull_request_build(config, *repo, ev, p, info.external));
    return out;
}

util::Result<std::vector<storage::BuildId>> cancel_pull_request(storage::Store& store, const std::string& repository,
                                                                std::uint64_t number) {
    const std::string ref = config::pull_request_ref(number);
    std::vector<storage::BuildId> canceled;
    for (const auto state : {storage::BuildState::queued, storage::BuildState::running}) {
        storage::BuildFilter filter;
        filter.repository = repository;
        filter.state = state;
        filter.limit = 500;
        auto builds = store.list_builds(filter);
        if (!builds) return builds.error();
        for (const auto& b : *builds) {
            if (b.ref != ref) continue;
            auto done = store.cancel_build(b.id);
            // A build that finished meanwhile is not an error: there is nothing left to cancel.
            if (!done && done.error().kind != util::ErrorKind::conflict) return done.error();
            if (done) canceled.push_back(b.id);
        }
    }
    return canceled;
}

}  // namespace hookyard::intake
