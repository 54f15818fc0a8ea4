#include "pipeline/checkout/mirror_fetch.hpp"

#include <string_view>
#include <vector>

#include "pipeline/checkout/git_handles.hpp"
#include "pipeline/checkout/git_remote.hpp"
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

}  // namespace

util::Result<std::string> fetch_into_mirror(git_repository* repo, const std::string& url, const std::string& ref,
                                            const GitAuth& auth, FetchStats& stats) {
    RemoteCallState state;
    state.auth = &auth;
    state.url = parse_clone_url(url);

    git_remote* raw_remote = nullptr;
    if (int rc = git_remote_create_anonymous(&raw_remote, repo, url.c_str()); rc < 0) {
        return git_failure(rc, "setting up the remote for", url, state);
    }
    RemotePtr remote(raw_remote);

    git_remote_callbacks callbacks = GIT_REMOTE_CALLBACKS_INIT;
    set_remote_callbacks(callbacks, state);
    if (int rc = git_remote_connect(remote.get(), GIT_DIRECTION_FETCH, &callbacks, nullptr, nullptr); rc < 0) {
        return git_failure(rc, "connecting to", url, state);
    }

    const git_remote_head** heads = nullptr;
    size_t count = 0;
    if (int rc = git_remote_ls(&heads, &count, remote.get()); rc < 0) {
        return git_failure(rc, "listing the refs of", url, state);
    }
    std::string full_ref;
    std::vector<std::string> specs;
    if (!ref.empty()) {
        full_ref = resolve_advertised(heads, count, ref);
        if (full_ref.empty()) {
            return util::make_error(util::ErrorKind::not_found,
                                    util::redact("ref '" + ref + "' does not exist on " + util::redact_url(url) +
                                                 " (deleted or never pushed?)"));
        }
        // HEAD cannot be a destination in a bare repository's namespace; keep it under its own name.
        const std::string dest = full_ref == "HEAD" ? "refs/hookyard/HEAD" : full_ref;
        specs.push_back("+" + full_ref + ":" + dest);
    } else {
        specs.push_back("+refs/heads/*:refs/heads/*");
    }
    specs.push_back("+refs/tags/*:refs/tags/*");

    std::vector<char*> spec_ptrs;
    for (auto& s : specs) spec_ptrs.push_back(s.data());
    git_strarray refspecs{spec_ptrs.data(), spec_ptrs.size()};

    git_fetch_options opts = GIT_FETCH_OPTIONS_INIT;
    opts.callbacks = callbacks;
    opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;  // tags come through the explicit refspec above
    opts.update_fetchhead = 0;
    if (int rc = git_remote_download(remote.get(), &refspecs, &opts); rc < 0) {
        return git_failure(rc, "fetching " + (full_ref.empty() ? std::string("all branches") : full_ref) + " from",
                           url, state);
    }
    const git_indexer_progress* progress = git_remote_stats(remote.get());
    stats.received_objects += progress->received_objects;
    stats.received_bytes += progress->received_bytes;
    stats.total_objects += progress->total_objects;
    if (int rc = git_remote_update_tips(remote.get(), &callbacks, 0, GIT_REMOTE_DOWNLOAD_TAGS_NONE, "hookyard: fetch");
        rc < 0) {
        return git_failure(rc, "updating the mirror's refs from", url, state);
    }
    git_remote_disconnect(remote.get());
    return full_ref == "HEAD" ? std::string("refs/hookyard/HEAD") : full_ref;
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
                                "commit " + commit + " is no longer on " + ref + " of " + where + " (it now points at " +
                                    oid_hex(tip) + "); it was probably force-pushed away. Build the current head");
    }
    return oid_hex(want);
}

}  // namespace hookyard::pipeline
