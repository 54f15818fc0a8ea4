#include "pipeline/checkout/mirror_cache.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include "pipeline/checkout/git_remote.hpp"
#include "pipeline/checkout/mirror_fetch.hpp"
#include "util/file_lock.hpp"
#include "util/log.hpp"

namespace hookyard::pipeline {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_component = "checkout";

bool is_key_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
}

// "owner/name" style keys: components of [A-Za-z0-9._-], none empty, "." or "..".
bool valid_key(std::string_view key) {
    if (key.empty()) return false;
    size_t start = 0;
    while (start <= key.size()) {
        const size_t end = std::min(key.find('/', start), key.size());
        const auto part = key.substr(start, end - start);
        if (part.empty() || part == "." || part == "..") return false;
        for (char c : part) {
            if (!is_key_char(c)) return false;
        }
        start = end + 1;
    }
    return true;
}

// Opens the bare mirror at `path`, creating it when missing; a directory that is not a repository
// (an interrupted first clone) is replaced.
util::Result<RepoPtr> open_or_create(const std::string& path, bool& created) {
    git_repository* raw = nullptr;
    std::error_code ec;
    if (fs::exists(path, ec)) {
        if (git_repository_open_bare(&raw, path.c_str()) == 0) return RepoPtr(raw);
        util::log_warn(k_component, "mirror " + path + " is not a usable repository; recreating it");
        fs::remove_all(path, ec);
        if (ec)
            return util::make_error(util::ErrorKind::internal,
                                    "cannot remove broken mirror " + path + ": " + ec.message());
    }
    git_repository_init_options opts = GIT_REPOSITORY_INIT_OPTIONS_INIT;
    opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
    if (int rc = git_repository_init_ext(&raw, path.c_str(), &opts); rc < 0) {
        return git_local_failure(rc, "creating mirror " + path);
    }
    created = true;
    return RepoPtr(raw);
}

}  // namespace

MirrorCache::MirrorCache(std::string root_dir, RetryPolicy retry) : m_root(std::move(root_dir)), m_retry(retry) {
    if (m_retry.attempts < 1) m_retry.attempts = 1;
}

std::string MirrorCache::mirror_path(const std::string& repo_key) const { return m_root + "/" + repo_key + ".git"; }

std::string MirrorCache::key_for_url(std::string_view url) {
    std::string clean = util::strip_url_userinfo(url);
    if (const auto scheme_end = clean.find("://"); scheme_end != std::string::npos)
        clean = clean.substr(scheme_end + 3);
    while (!clean.empty() && (clean.back() == '/')) clean.pop_back();
    if (clean.size() > 4 && clean.compare(clean.size() - 4, 4, ".git") == 0) clean.resize(clean.size() - 4);
    std::string key = "_url/";
    for (char c : clean) key += is_key_char(c) ? c : '_';
    return key;
}

std::shared_ptr<MirrorCache::KeyState> MirrorCache::key_state(const std::string& key) {
    std::lock_guard lock(m_keys_mutex);
    auto& slot = m_keys[key];
    if (!slot) slot = std::make_shared<KeyState>();
    return slot;
}

std::shared_lock<std::shared_mutex> MirrorCache::reading(const std::string& repo_key) {
    return std::shared_lock(key_state(repo_key)->objects);
}

util::Status MirrorCache::with_exclusive(const std::string& repo_key,
                                         const std::function<util::Status(const std::string&)>& fn) {
    if (!valid_key(repo_key)) {
        return util::make_error(util::ErrorKind::invalid_input, "'" + repo_key + "' is not a mirror key");
    }
    auto key = key_state(repo_key);
    // update() first takes the key mutex: the same order here, then the readers out.
    std::lock_guard key_lock(key->mutex);
    std::unique_lock no_readers(key->objects);
    const std::string path = mirror_path(repo_key);
    // Processes sharing a data dir take turns on a mirror.
    auto file_lock = util::FileLock::acquire(path + ".lock", util::FileLock::Mode::exclusive);
    if (!file_lock) return file_lock.error();
    return fn(path);
}

util::Status MirrorCache::remove(const std::string& repo_key) {
    return with_exclusive(repo_key, [](const std::string& path) -> util::Status {
        std::error_code ec;
        fs::remove_all(path, ec);
        if (ec) return util::make_error(util::ErrorKind::internal, "cannot remove " + path + ": " + ec.message());
        fs::remove(path + ".lock", ec);
        // The owner's directory goes with its last mirror.
        fs::remove(fs::path(path).parent_path(), ec);
        return {};
    });
}

std::vector<std::string> MirrorCache::keys() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& owner : fs::directory_iterator(m_root, ec)) {
        if (!owner.is_directory(ec)) continue;
        for (const auto& repo : fs::directory_iterator(owner.path(), ec)) {
            const std::string name = repo.path().filename().string();
            if (repo.is_directory(ec) && name.size() > 4 && name.compare(name.size() - 4, 4, ".git") == 0) {
                out.push_back(owner.path().filename().string() + "/" + name.substr(0, name.size() - 4));
            }
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

util::Result<bool> MirrorCache::is_strict_ancestor(const std::string& repo_key, const std::string& ancestor,
                                                   const std::string& descendant) {
    git_oid a, d;
    if (!valid_key(repo_key) || ancestor.size() != GIT_OID_HEXSZ || descendant.size() != GIT_OID_HEXSZ ||
        git_oid_fromstr(&a, ancestor.c_str()) < 0 || git_oid_fromstr(&d, descendant.c_str()) < 0) {
        return util::make_error(util::ErrorKind::invalid_input,
                                "cannot compare " + ancestor + " with " + descendant + " in " + repo_key);
    }
    if (git_oid_equal(&a, &d)) return false;
    auto key = key_state(repo_key);
    std::lock_guard key_lock(key->mutex);
    const std::string path = mirror_path(repo_key);
    git_repository* raw = nullptr;
    std::error_code ec;
    if (!fs::exists(path, ec) || git_repository_open_bare(&raw, path.c_str()) < 0) return false;
    RepoPtr repo(raw);
    git_odb* odb = nullptr;
    if (int rc = git_repository_odb(&odb, repo.get()); rc < 0) return git_local_failure(rc, "reading " + path);
    const bool both = git_odb_exists(odb, &a) == 1 && git_odb_exists(odb, &d) == 1;
    git_odb_free(odb);
    if (!both) return false;
    const int rc = git_graph_descendant_of(repo.get(), &d, &a);
    if (rc < 0) return git_local_failure(rc, "comparing " + ancestor + " with " + descendant + " in " + path);
    return rc == 1;
}

util::Result<std::string> MirrorCache::fetch_with_retries(git_repository* repo, const std::string& clone_url,
                                                          const std::string& ref, const GitAuth& auth,
                                                          FetchStats& stats, CancelToken* cancel) {
    auto backoff = m_retry.initial_backoff;
    util::Result<std::string> fetched = util::make_error(util::ErrorKind::internal, "not fetched");
    for (int attempt = 1; attempt <= m_retry.attempts; ++attempt) {
        stats.attempts = attempt;
        fetched = fetch_into_mirror(repo, clone_url, ref, auth, m_retry.stall_timeout, stats, cancel);
        if (fetched || !util::is_retryable(fetched.error().kind)) break;
        if (attempt == m_retry.attempts) {
            return util::make_error(fetched.error().kind, fetched.error().message + " (gave up after " +
                                                              std::to_string(attempt) + " attempts)");
        }
        util::log_warn(k_component,
                       fetched.error().message + "; retrying in " + std::to_string(backoff.count()) + " ms");
        if (cancel != nullptr ? cancel->wait_for(backoff) : (std::this_thread::sleep_for(backoff), false)) {
            return util::make_error(util::ErrorKind::canceled, "fetching " + util::redact_url(clone_url) + " canceled");
        }
        backoff *= 2;
    }
    return fetched;
}

util::Result<Mirror> MirrorCache::update(const std::string& repo_key, const std::string& clone_url,
                                         const std::string& ref, const std::string& commit, const GitAuth& auth,
                                         CancelToken* cancel) {
    if (!valid_key(repo_key)) {
        return util::make_error(util::ErrorKind::invalid_input,
                                "repository key '" + repo_key + "' is not of the form owner/name");
    }
    if (clone_url.empty()) {
        return util::make_error(util::ErrorKind::invalid_input,
                                "no clone URL for " + repo_key + ": set the repository's clone_url");
    }
    Mirror mirror;
    mirror.path = mirror_path(repo_key);
    mirror.url = clone_url;

    auto key = key_state(repo_key);
    const unsigned long generation_seen = key->generation.load();
    std::lock_guard key_lock(key->mutex);
    std::error_code ec;
    fs::create_directories(fs::path(mirror.path).parent_path(), ec);
    if (ec) {
        return util::make_error(util::ErrorKind::internal,
                                "cannot create mirror directory for " + repo_key + ": " + ec.message());
    }
    auto file_lock = util::FileLock::acquire(mirror.path + ".lock", util::FileLock::Mode::exclusive);
    if (!file_lock) return file_lock.error();

    auto repo = open_or_create(mirror.path, mirror.stats.created);
    if (!repo) return repo.error();

    // Someone fetched this ref while we waited for the lock: when it brought our commit, use it as is.
    if (key->generation.load() != generation_seen && !commit.empty() && !key->last_ref.empty()) {
        auto reused = verify_commit(repo->get(), key->last_ref, commit, clone_url);
        if (reused && (ref == key->last_ref || "refs/heads/" + ref == key->last_ref)) {
            mirror.ref = key->last_ref;
            mirror.commit = reused.value();
            return mirror;
        }
    }

    auto fetched = fetch_with_retries(repo->get(), clone_url, ref, auth, mirror.stats, cancel);
    if (!fetched) return fetched.error();
    mirror.stats.fetched = true;
    mirror.ref = fetched.value();
    key->last_ref = mirror.ref;
    key->generation.fetch_add(1);

    auto verified = verify_commit(repo->get(), mirror.ref, commit, clone_url);
    if (!verified) return verified.error();
    mirror.commit = verified.value();
    util::log_debug(k_component, "mirror " + repo_key + " at " + mirror.commit + ": received " +
                                     std::to_string(mirror.stats.received_objects) + " objects");
    return mirror;
}

}  // namespace hookyard::pipeline
