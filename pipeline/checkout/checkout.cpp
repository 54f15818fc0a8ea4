#include "pipeline/checkout/checkout.hpp"

#include <git2.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "pipeline/checkout/git_handles.hpp"
#include "pipeline/checkout/git_remote.hpp"
#include "util/log.hpp"

namespace hookyard::pipeline {

namespace {

constexpr int k_max_submodule_depth = 8;

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

struct SubmoduleEntry {
    std::string name;
    std::string path;
    std::string url;
    std::string commit;
};

int collect_submodule(git_submodule* sm, const char* name, void* payload) {
    auto& out = *static_cast<std::vector<SubmoduleEntry>*>(payload);
    const git_oid* id = git_submodule_index_id(sm);
    if (id == nullptr) return 0;  // listed in .gitmodules but no gitlink in the tree: nothing to check out
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof hex, id);
    const char* url = git_submodule_url(sm);
    out.push_back({name, git_submodule_path(sm), url != nullptr ? url : "", hex});
    return 0;
}

class GitCheckoutService final : public CheckoutService {
public:
    GitCheckoutService(MirrorCache& cache, WorkTreePool* pool) : m_cache(cache), m_pool(pool) {}
    util::Result<Checkout> checkout(const CheckoutRequest& req) override;
    util::Result<bool> is_strict_ancestor(const std::string& repo_key, const std::string& ancestor,
                                          const std::string& descendant) override {
        return m_cache.is_strict_ancestor(repo_key, ancestor, descendant);
    }

private:
    // Checks out the submodules of the repository in `dir`, cloned from `parent_url`; the top request's
    // clone URL decides which hosts and credentials they may use.
    util::Status checkout_submodules(const CheckoutRequest& top, const std::string& dir, const std::string& parent_url,
                                     const std::string& prefix, int depth, std::vector<std::string>& done);

    MirrorCache& m_cache;
    WorkTreePool* m_pool;
};

}  // namespace

std::unique_ptr<CheckoutService> make_checkout_service(MirrorCache& cache, WorkTreePool* pool) {
    return std::make_unique<GitCheckoutService>(cache, pool);
}

GitAuth submodule_auth(const std::string& parent_url, const std::string& submodule_url, const GitAuth& auth) {
    const UrlParts parent = parse_clone_url(parent_url);
    const UrlParts sub = parse_clone_url(submodule_url);
    if (!parent.host.empty() && iequals(parent.host, sub.host) && parent.port == sub.port &&
        parent.scheme == sub.scheme) {
        return auth;
    }
    GitAuth none;
    none.credential_name = "none (" + auth.credential_name + " is only sent to " +
                           (parent.host.empty() ? std::string("local paths") : parent.host) + ")";
    return none;
}

util::Status check_submodule_url(const std::string& top_url, const std::string& url, const SubmodulePolicy& policy,
                                 const std::string& shown) {
    auto refuse = [&](const std::string& why) {
        return util::make_error(util::ErrorKind::invalid_input,
                                "submodule " + shown + " (" + util::redact_url(url) + ") " + why);
    };
    if (std::any_of(url.begin(), url.end(), [](char c) {
            return c == '?' || c == '#' || c == '\\' || static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
        })) {
        return refuse(
            "is refused: a URL with '?', '#', '\\', spaces or control characters is read differently by "
            "different git tools; write a plain URL in .gitmodules");
    }
    const UrlParts sub = parse_clone_url(url);
    if (sub.scheme == "file") {
        if (policy.allow_local) return {};
        return refuse(
            "is a local path or file:// URL, which could read other repositories on the build host; set "
            "git.allow_local_submodules: true in the config to allow it");
    }
    if (sub.scheme != "https" && sub.scheme != "http" && sub.scheme != "ssh" && sub.scheme != "git") {
        return refuse("uses the transport '" + sub.scheme + "'; use https://, ssh:// or git://");
    }
    const UrlParts top = parse_clone_url(top_url);
    const bool listed = std::any_of(policy.extra_hosts.begin(), policy.extra_hosts.end(),
                                    [&](const std::string& h) { return iequals(h, sub.host); });
    if (!sub.host.empty() && (iequals(sub.host, top.host) || listed)) return {};
    return refuse("is on host '" + sub.host + "', not on the superproject's host '" + top.host +
                  "'; list the host under git.submodule_hosts in the config to fetch it (without credentials)");
}

std::string resolve_submodule_url(const std::string& parent_url, const std::string& url) {
    if (url.rfind("./", 0) != 0 && url.rfind("../", 0) != 0) return url;
    std::string base = parent_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    std::string rest = url;
    while (true) {
        if (rest.rfind("./", 0) == 0) {
            rest = rest.substr(2);
        } else if (rest.rfind("../", 0) == 0) {
            rest = rest.substr(3);
            const auto cut = base.find_last_of("/:");
            base = cut == std::string::npos ? "" : base.substr(0, cut + (base[cut] == ':' ? 1 : 0));
        } else {
            break;
        }
    }
    if (!base.empty() && base.back() != ':') base += '/';
    return base + rest;
}

util::Result<Checkout> GitCheckoutService::checkout(const CheckoutRequest& req) {
    std::error_code ec;
    if (req.dest_dir.empty() ||
        (std::filesystem::exists(req.dest_dir, ec) && !std::filesystem::is_empty(req.dest_dir, ec))) {
        // Checked before WorkDir takes ownership, so a wrong path never gets someone else's files removed.
        return util::make_error(util::ErrorKind::invalid_input,
                                "work dir '" + req.dest_dir + "' is empty or already exists with files in it");
    }
    auto mirror = m_cache.update(req.repo_key, req.clone_url, req.ref, req.commit, req.auth, req.cancel);
    if (!mirror) return mirror.error();
    Checkout out;
    out.commit = mirror->commit;
    out.ref = mirror->ref;
    out.stats = mirror->stats;
    // Only trees without submodules are pooled: updating nested repositories in place is not attempted.
    const bool pooled = m_pool != nullptr && !req.submodules;
    {
        // Until the files are written: a repack (mirror_maintenance.hpp) would delete packs under us.
        auto reading = m_cache.reading(req.repo_key);
        if (pooled && m_pool->take(req.repo_key, req.dest_dir)) {
            if (auto st = update_checkout(mirror->path, mirror->commit, req.dest_dir); st) {
                out.reused_tree = true;
            } else {
                util::log_warn("checkout",
                               "reusing a work tree failed (" + st.error().message + "); checking out afresh");
                std::filesystem::remove_all(req.dest_dir, ec);
            }
        }
        out.dir = WorkDir(req.dest_dir);  // owns the directory from here: any error below removes it
        if (!out.reused_tree) {
            if (auto st = checkout_commit(mirror->path, mirror->commit, req.dest_dir, req.clone_url); !st)
                return st.error();
        }
    }
    if (pooled) {
        // Only a tree known to hold exactly a commit goes back to the pool.
        out.dir.set_recycler(
            [pool = m_pool, key = req.repo_key](const std::string& path) { pool->give_back(key, path); });
    }
    if (req.submodules) {
        if (auto st = checkout_submodules(req, req.dest_dir, req.clone_url, "", 1, out.submodules); !st) {
            return st.error();
        }
    }
    return out;
}

util::Status GitCheckoutService::checkout_submodules(const CheckoutRequest& top, const std::string& dir,
                                                     const std::string& parent_url, const std::string& prefix,
                                                     int depth, std::vector<std::string>& done) {
    git_repository* raw = nullptr;
    if (int rc = git_repository_open(&raw, dir.c_str()); rc < 0) return git_local_failure(rc, "opening " + dir);
    RepoPtr repo(raw);
    std::vector<SubmoduleEntry> entries;
    if (int rc = git_submodule_foreach(repo.get(), collect_submodule, &entries); rc < 0) {
        return git_local_failure(rc, "reading .gitmodules in " + (prefix.empty() ? std::string("/") : prefix));
    }
    if (!entries.empty() && depth > k_max_submodule_depth) {
        return util::make_error(
            util::ErrorKind::invalid_input,
            "submodules nest deeper than " + std::to_string(k_max_submodule_depth) + " levels at " + prefix);
    }
    for (const auto& sm : entries) {
        const std::string shown = prefix + sm.path;
        if (sm.url.empty()) {
            return util::make_error(util::ErrorKind::invalid_input,
                                    "submodule " + shown + " has no url in .gitmodules");
        }
        const std::string url = resolve_submodule_url(parent_url, sm.url);
        if (auto st = check_submodule_url(top.clone_url, url, top.submodule_policy, shown); !st) return st;
        // Credentials belong to the superproject's server: compared with its URL at every depth, so a nested
        // submodule of a listed host never receives them.
        auto mirror = m_cache.update(MirrorCache::key_for_url(url), url, "", sm.commit,
                                     submodule_auth(top.clone_url, url, top.auth), top.cancel);
        if (!mirror) {
            return util::make_error(mirror.error().kind, "submodule " + shown + ": " + mirror.error().message);
        }
        const std::string sub_dir = dir + "/" + sm.path;
        // Only around the checkout: the recursion below may update this very mirror (update() would wait
        // for a repack waiting for this reader).
        if (auto st =
                [&] {
                    auto reading = m_cache.reading(MirrorCache::key_for_url(url));
                    return checkout_commit(mirror->path, sm.commit, sub_dir, url);
                }();
            !st) {
            return util::make_error(st.error().kind, "submodule " + shown + ": " + st.error().message);
        }
        done.push_back(shown);
        if (auto st = checkout_submodules(top, sub_dir, url, shown + "/", depth + 1, done); !st) return st;
    }
    return {};
}

}  // namespace hookyard::pipeline
