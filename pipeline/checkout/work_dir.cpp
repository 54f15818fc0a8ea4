#include "pipeline/checkout/work_dir.hpp"

#include <git2.h>

#include <filesystem>
#include <fstream>

#include "pipeline/checkout/git_handles.hpp"
#include "pipeline/checkout/git_remote.hpp"
#include "util/log.hpp"

namespace hookyard::pipeline {

namespace fs = std::filesystem;

namespace {

// Borrow the mirror's objects instead of copying them: a checkout costs only the files it writes.
util::Status write_alternates(const std::string& mirror_path, const std::string& dest) {
    std::ofstream alternates(dest + "/.git/objects/info/alternates", std::ios::trunc);
    alternates << fs::absolute(mirror_path).string() << "/objects\n";
    if (!alternates) return util::make_error(util::ErrorKind::internal, "cannot write alternates in " + dest);
    return {};
}

util::Status checkout_into(git_repository* repo, const std::string& commit, const std::string& mirror_path,
                           const std::string& dest, unsigned int strategy) {
    git_oid oid{};
    if (int rc = git_oid_fromstr(&oid, commit.c_str()); rc < 0) return git_local_failure(rc, "parsing " + commit);
    git_object* raw_commit = nullptr;
    if (int rc = git_object_lookup(&raw_commit, repo, &oid, GIT_OBJECT_COMMIT); rc < 0) {
        return util::make_error(util::ErrorKind::not_found,
                                "commit " + commit + " is not in the mirror " + mirror_path);
    }
    ObjectPtr target(raw_commit);
    git_checkout_options opts = GIT_CHECKOUT_OPTIONS_INIT;
    opts.checkout_strategy = strategy;
    if (int rc = git_checkout_tree(repo, target.get(), &opts); rc < 0) {
        return git_local_failure(rc, "checking out " + commit + " into " + dest);
    }
    if (int rc = git_repository_set_head_detached(repo, &oid); rc < 0) {
        return git_local_failure(rc, "setting HEAD to " + commit);
    }
    return {};
}

}  // namespace

WorkDir::~WorkDir() {
    if (m_path.empty() || m_keep) return;
    if (m_recycle) {
        m_recycle(m_path);
        return;
    }
    std::error_code ec;
    fs::remove_all(m_path, ec);
    if (ec) util::log_warn("checkout", "cannot remove work dir " + m_path + ": " + ec.message());
}

WorkDir::WorkDir(WorkDir&& other) noexcept
    : m_path(std::move(other.m_path)), m_recycle(std::move(other.m_recycle)), m_keep(other.m_keep) {
    other.m_path.clear();
}

WorkDir& WorkDir::operator=(WorkDir&& other) noexcept {
    if (this != &other) {
        WorkDir old(std::move(*this));  // removes what we held, as our destructor would
        m_path = std::move(other.m_path);
        m_recycle = std::move(other.m_recycle);
        m_keep = other.m_keep;
        other.m_path.clear();
    }
    return *this;
}

util::Status checkout_commit(const std::string& mirror_path, const std::string& commit, const std::string& dest,
                             const std::string& origin_url) {
    std::error_code ec;
    if (fs::exists(dest, ec) && !fs::is_empty(dest, ec)) {
        return util::make_error(util::ErrorKind::invalid_input,
                                "work dir " + dest + " already exists and is not empty");
    }
    fs::create_directories(dest, ec);
    if (ec) return util::make_error(util::ErrorKind::internal, "cannot create work dir " + dest + ": " + ec.message());

    git_repository* raw = nullptr;
    git_repository_init_options init = GIT_REPOSITORY_INIT_OPTIONS_INIT;
    init.flags = GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
    if (int rc = git_repository_init_ext(&raw, dest.c_str(), &init); rc < 0) {
        return git_local_failure(rc, "creating the work repository in " + dest);
    }
    git_repository_free(raw);
    if (auto st = write_alternates(mirror_path, dest); !st) return st;
    git_repository* raw_repo = nullptr;
    if (int rc = git_repository_open(&raw_repo, dest.c_str()); rc < 0) return git_local_failure(rc, "opening " + dest);
    RepoPtr repo(raw_repo);
    if (auto st = checkout_into(repo.get(), commit, mirror_path, dest, GIT_CHECKOUT_FORCE); !st) return st;
    if (!origin_url.empty()) {
        git_remote* remote = nullptr;
        git_remote_create_options create = GIT_REMOTE_CREATE_OPTIONS_INIT;
        create.repository = repo.get();
        create.name = "origin";
        // As in fetch_into_mirror: libgit2 1.5's insteadOf lookup leaks memory at every call.
        create.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF;
        if (int rc = git_remote_create_with_opts(&remote, util::strip_url_userinfo(origin_url).c_str(), &create);
            rc < 0) {
            return git_local_failure(rc, "recording the origin remote");
        }
        git_remote_free(remote);
    }
    return {};
}

util::Status update_checkout(const std::string& mirror_path, const std::string& commit, const std::string& dest) {
    // Rewritten every time: the tree may come from a mirror that has moved since.
    if (auto st = write_alternates(mirror_path, dest); !st) return st;
    git_repository* raw_repo = nullptr;
    if (int rc = git_repository_open(&raw_repo, dest.c_str()); rc < 0) return git_local_failure(rc, "opening " + dest);
    RepoPtr repo(raw_repo);
    return checkout_into(repo.get(), commit, mirror_path, dest,
                         GIT_CHECKOUT_FORCE | GIT_CHECKOUT_REMOVE_UNTRACKED | GIT_CHECKOUT_REMOVE_IGNORED);
}

}  // namespace hookyard::pipeline
