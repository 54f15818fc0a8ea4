#include "pipeline/checkout/mirror_fetch.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <set>
#include <string_view>
#include <vector>

#include "pipeline/cancel.hpp"
#include "pipeline/checkout/git_handles.hpp"
#include "pipeline/checkout/git_remote.hpp"
#include "pipeline/checkout/mirror_maintenance.hpp"
#include "pipeline/checkout/stall_watchdog.hpp"
#include "util/log.hpp"

namespace hookyard::pipeline {

namespace {

std::string oid_hex(const git_oid& oid) {
    char buf[GIT_OID_HEXSZ + 1];
    git_oid_tostr(buf, sizeof buf, &oid);
    return buf;
}

bool is_hex_sha(std::string_view s) {
    if (s.size() != GIT_OID_HEXSZ) return false;
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
    }
    return true;
}

// Finds the full name of `ref` among the server's advertised heads; "" when it is not there.
std::string resolve_advertised(const git_remote_head* const* heads, size_t count, const std::string& ref) {
    std::vector<std::string> candidates;
    if (ref.rfind("refs/", 0) == 0 || ref == "HEAD") {
        candidates = {ref};
    } else {
        candidates = {"refs/heads/" + ref, "refs/tags/" + ref};
    }
    for (const auto& want : candidates) {
        for (size_t i = 0; i < count; ++i) {
            if (want == heads[i]->name) return want;
        }
    }
    return "";
}

// libssh2 waits for the server's banner in a loop that shrugs off EINTR, so the stall watchdog cannot
// break a silent ssh server's hold. Before libgit2 connects, check with a bounded wait that the server
// says "SSH-" at all. Returns an empty string when it did, else what went wrong.
std::string probe_ssh_banner(const std::string& host, int port, std::chrono::milliseconds limit) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || found == nullptr) {
        return "";  // let libgit2 report the resolution failure in its own words
    }
    const auto deadline = std::chrono::steady_clock::now() + limit;
    auto remaining_ms = [&] {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        return static_cast<int>(std::max<long long>(0, left.count()));
    };
    std::string problem = "no ssh banner";
    for (addrinfo* ai = found; ai != nullptr && remaining_ms() > 0; ai = ai->ai_next) {
        const int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        std::string got;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
            pollfd pfd{fd, POLLIN, 0};
            while (got.size() < 4 && poll(&pfd, 1, remaining_ms()) > 0) {
                char buf[64];
                const ssize_t n = recv(fd, buf, sizeof buf, 0);
                if (n <= 0) break;
                got.append(buf, static_cast<size_t>(n));
            }
        }
        close(fd);
        if (got.rfind("SSH-", 0) == 0) {
            freeaddrinfo(found);
            return "";
        }
        if (!got.empty()) problem = "the server does not speak ssh";
    }
    freeaddrinfo(found);
    return problem;
}

// probe_ssh_banner for an ssh URL, as the fetch's error (a timeout naming what was seen, or canceled).
util::Status probe_ssh(const std::string& url, const RemoteCallState& state, std::chrono::milliseconds stall_timeout,
                       const CancelToken* cancel) {
    if (state.url.scheme != "ssh" || state.url.host.empty()) return {};
    const std::string problem = probe_ssh_banner(state.url.host, state.url.port, stall_timeout);
    if (problem.empty()) return {};
    if (cancel != nullptr && cancel->canceled()) {
        return util::make_error(util::ErrorKind::canceled, "fetching " + util::redact_url(url) + " canceled");
    }
    const auto ms = stall_timeout.count();
    return util::make_error(util::ErrorKind::timeout, "connecting to " + util::redact_url(url) +
                                                          " timed out: " + problem + " from " + state.url.host +
                                                          " within " + std::to_string(ms) + " ms");
}

// What one fetch asks for: `ref` resolved against the advertised refs (empty: every branch) and the tags.
struct FetchPlan {
    std::string full_ref;              // "" when fetching every branch
    std::string local_ref;             // where full_ref lands in the mirror
    std::vector<std::string> specs;    // refspecs
    std::set<std::string> advertised;  // every ref the server advertised (for pruning deleted ones)
};

util::Result<FetchPlan> plan_fetch(git_remote* remote, const std::string& url, const std::string& ref,
                                   const RemoteCallState& state) {
    const git_remote_head** heads = nullptr;
    size_t count = 0;
    if (int rc = git_remote_ls(&heads, &count, remote); rc < 0) {
        return git_failure(rc, "listing the refs of", url, state);
    }
    FetchPlan plan;
    for (size_t i = 0; i < count; ++i) plan.advertised.insert(heads[i]->name);
    if (!ref.empty()) {
        plan.full_ref = resolve_advertised(heads, count, ref);
        if (plan.full_ref.empty()) {
            return util::make_error(util::ErrorKind::not_found,
                                    util::redact("ref '" + ref + "' does not exist on " + util::redact_url(url) +
                                                 " (deleted or never pushed?)"));
        }
        // HEAD cannot be a destination in a bare repository's namespace; keep it under its own name.
        plan.local_ref = plan.full_ref == "HEAD" ? "refs/hookyard/HEAD" : plan.full_ref;
        plan.specs.push_back("+" + plan.full_ref + ":" + plan.local_ref);
    } else {
        plan.specs.push_back("+refs/heads/*:refs/heads/*");
    }
    plan.specs.push_back("+refs/tags/*:refs/tags/*");
    return plan;
}

// Downloads what `plan` names and moves the mirror's refs to it; adds the transfer to `stats`.
util::Status download_and_update(git_remote* remote, FetchPlan& plan, const git_remote_callbacks& callbacks,
                                 const std::string& url, const RemoteCallState& state, FetchStats& stats) {
    std::vector<char*> spec_ptrs;
    for (auto& s : plan.specs) spec_ptrs.push_back(s.data());
    git_strarray refspecs{spec_ptrs.data(), spec_ptrs.size()};

    git_fetch_options opts = GIT_FETCH_OPTIONS_INIT;
    opts.callbacks = callbacks;
    opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;  // tags come through the explicit refspec above
    opts.update_fetchhead = 0;
    if (int rc = git_remote_download(remote, &refspecs, &opts); rc < 0) {
        const std::string what = plan.full_ref.empty() ? std::string("all branches") : plan.full_ref;
        return git_failure(rc, "fetching " + what + " from", url, state);
    }
    const git_indexer_progress* progress = git_remote_stats(remote);
    stats.received_objects += progress->received_objects;
    stats.received_bytes += progress->received_bytes;
    stats.total_objects += progress->total_objects;
    if (int rc = git_remote_update_tips(remote, &callbacks, 0, GIT_REMOTE_DOWNLOAD_TAGS_NONE, "hookyard: fetch");
        rc < 0) {
        return git_failure(rc, "updating the mirror's refs from", url, state);
    }
    return {};
}

}  // namespace

util::Result<std::string> fetch_into_mirror(git_repository* repo, const std::string& url, const std::string& ref,
                                            const GitAuth& auth, std::chrono::milliseconds stall_timeout,
                                            FetchStats& stats, CancelToken* cancel) {
    StallWatchdog watchdog(stall_timeout);
    // A cancel interrupts the blocking socket call at once, as a stall would; the progress callbacks then
    // make libgit2 give up (a server that keeps sending never blocks, so it is they that stop it).
    CancelCallback interrupt(cancel, [&watchdog] { watchdog.interrupt(); });
    RemoteCallState state;
    state.auth = &auth;
    state.watchdog = &watchdog;
    state.cancel = cancel;
    state.url = parse_clone_url(url);
    if (auto probed = probe_ssh(url, state, stall_timeout, cancel); !probed) return probed.error();

    git_remote* raw_remote = nullptr;
    git_remote_create_options create = GIT_REMOTE_CREATE_OPTIONS_INIT;
    create.repository = repo;  // no name: an in-memory (anonymous) remote
    // The URL is fetched as configured, without url.<base>.insteadOf rewriting: libgit2 1.5's lookup of those
    // leaks PCRE2 match data (about 20 KB) per config entry it does not match, at every fetch.
    create.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF;
    if (int rc = git_remote_create_with_opts(&raw_remote, url.c_str(), &create); rc < 0) {
        return git_failure(rc, "setting up the remote for", url, state);
    }
    RemotePtr remote(raw_remote);

    git_remote_callbacks callbacks = GIT_REMOTE_CALLBACKS_INIT;
    set_remote_callbacks(callbacks, state);
    if (int rc = git_remote_connect(remote.get(), GIT_DIRECTION_FETCH, &callbacks, nullptr, nullptr); rc < 0) {
        return git_failure(rc, "connecting to", url, state);
    }
    auto plan = plan_fetch(remote.get(), url, ref, state);
    if (!plan) return plan.error();
    if (auto fetched = download_and_update(remote.get(), *plan, callbacks, url, state, stats); !fetched) {
        return fetched.error();
    }
    git_remote_disconnect(remote.get());
    auto pruned = prune_deleted_refs(repo, plan->advertised);
    if (!pruned) return pruned.error();
    stats.pruned_refs += *pruned;
    return plan->local_ref;
}

util::Result<std::string> verify_commit(git_repository* repo, const std::string& ref, const std::string& commit,
                                        const std::string& url) {
    const std::string where = util::redact_url(url);
    git_oid tip{};
    if (!ref.empty()) {
        git_reference* raw_ref = nullptr;
        if (int rc = git_reference_lookup(&raw_ref, repo, ref.c_str()); rc < 0) {
            return util::make_error(util::ErrorKind::not_found, "ref " + ref + " is not in the mirror of " + where);
        }
        ReferencePtr reference(raw_ref);
        git_object* peeled = nullptr;
        if (int rc = git_reference_peel(&peeled, reference.get(), GIT_OBJECT_COMMIT); rc < 0) {
            return git_local_failure(rc, ref + " of " + where + " does not point at a commit:");
        }
        git_oid_cpy(&tip, git_object_id(peeled));
        git_object_free(peeled);
        if (commit.empty()) return oid_hex(tip);
    } else if (commit.empty()) {
        return util::make_error(util::ErrorKind::invalid_input, "neither a commit nor a ref to build was given");
    }

    if (!is_hex_sha(commit)) {
        return util::make_error(util::ErrorKind::invalid_input,
                                "'" + commit + "' is not a full 40-character commit sha");
    }
    git_oid want{};
    if (int rc = git_oid_fromstr(&want, commit.c_str()); rc < 0) return git_local_failure(rc, "parsing " + commit);
    git_commit* raw_commit = nullptr;
    if (git_commit_lookup(&raw_commit, repo, &want) < 0) {
        return util::make_error(util::ErrorKind::not_found,
                                "commit " + commit + " is not in " + where +
                                    (ref.empty() ? std::string() : " after fetching " + ref) +
                                    "; it may have been force-pushed away or never pushed. Push it again or build "
                                    "the branch's current head");
    }
    git_commit_free(raw_commit);
    if (ref.empty() || git_oid_equal(&tip, &want)) return oid_hex(want);
    const int descendant = git_graph_descendant_of(repo, &tip, &want);
    if (descendant < 0) return git_local_failure(descendant, "checking the history of " + ref);
    if (descendant == 0) {
        return util::make_error(util::ErrorKind::not_found,
                                "commit " + commit + " is no longer on " + ref + " of " + where +
                                    " (it now points at " + oid_hex(tip) +
                                    "); it was probably force-pushed away. Build the current head");
    }
    return oid_hex(want);
}

}  // namespace hookyard::pipeline
