#include "pipeline/checkout/mirror_maintenance.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "pipeline/checkout/git_handles.hpp"
#include "pipeline/checkout/git_remote.hpp"
#include "util/log.hpp"

namespace fs = std::filesystem;

namespace hookyard::pipeline {
namespace {

constexpr const char* k_maintenance_component = "mirrors";
// Written into a mirror whose refs were pruned: its unreachable objects wait for the next repack.
constexpr const char* k_repack_marker = "hookyard-repack";

using PackBuilderPtr = std::unique_ptr<git_packbuilder, GitDeleter<git_packbuilder, git_packbuilder_free>>;
using RevwalkPtr = std::unique_ptr<git_revwalk, GitDeleter<git_revwalk, git_revwalk_free>>;

bool is_hex2(const std::string& name) {
    return name.size() == 2 && std::isxdigit(static_cast<unsigned char>(name[0])) &&
           std::isxdigit(static_cast<unsigned char>(name[1]));
}

// The loose object directories (objects/xx) and pack files (objects/pack/*.pack) of a mirror.
struct ObjectFiles {
    std::vector<fs::path> loose_dirs;
    std::size_t loose = 0;
    std::vector<fs::path> packs;
};

ObjectFiles object_files(const fs::path& objects) {
    ObjectFiles out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(objects, ec)) {
        const std::string name = entry.path().filename().string();
        if (!is_hex2(name)) continue;
        out.loose_dirs.push_back(entry.path());
        for (auto it = fs::directory_iterator(entry.path(), ec); !ec && it != fs::directory_iterator();
             it.increment(ec))
            ++out.loose;
    }
    for (const auto& entry : fs::directory_iterator(objects / "pack", ec)) {
        if (entry.path().extension() == ".pack") out.packs.push_back(entry.path());
    }
    return out;
}

// Allocated bytes under `dir`.
std::uint64_t disk_usage(const fs::path& dir) {
    std::uint64_t total = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        struct stat st {};
        if (::lstat(it->path().c_str(), &st) == 0) total += static_cast<std::uint64_t>(st.st_blocks) * 512;
    }
    return total;
}

// Adds what `oid` names to the pack: commits through the walk (with their history), annotated tags
// themselves and then what they point at, trees and blobs directly.
int insert_target(git_repository* repo, git_packbuilder* pb, git_revwalk* walk, git_oid oid) {
    for (int depth = 0; depth < 16; ++depth) {
        git_object* raw = nullptr;
        if (int rc = git_object_lookup(&raw, repo, &oid, GIT_OBJECT_ANY); rc < 0) return rc;
        ObjectPtr object(raw);
        switch (git_object_type(object.get())) {
            case GIT_OBJECT_COMMIT:
                return git_revwalk_push(walk, &oid);
            case GIT_OBJECT_TREE:
                return git_packbuilder_insert_tree(pb, &oid);
            case GIT_OBJECT_BLOB:
                return git_packbuilder_insert(pb, &oid, nullptr);
            case GIT_OBJECT_TAG:
                if (int rc = git_packbuilder_insert(pb, &oid, nullptr); rc < 0) return rc;
                git_oid_cpy(&oid, git_tag_target_id(reinterpret_cast<git_tag*>(object.get())));
                break;
            default:
                return 0;
        }
    }
    return 0;  // a chain of 16 tags: what is behind it is not worth keeping
}

// Fills the packbuilder with everything reachable from the mirror's refs.
util::Status insert_reachable(git_repository* repo, git_packbuilder* pb) {
    git_revwalk* raw_walk = nullptr;
    if (int rc = git_revwalk_new(&raw_walk, repo); rc < 0) return git_local_failure(rc, "walking the mirror");
    RevwalkPtr walk(raw_walk);
    git_reference_iterator* it = nullptr;
    if (int rc = git_reference_iterator_new(&it, repo); rc < 0) return git_local_failure(rc, "listing refs");
    git_reference* ref = nullptr;
    int rc = 0;
    while ((rc = git_reference_next(&ref, it)) == 0) {
        ReferencePtr owned(ref);
        git_reference* resolved = nullptr;
        if (git_reference_resolve(&resolved, ref) < 0) continue;  // a dangling symbolic ref holds nothing
        ReferencePtr direct(resolved);
        if (int ins = insert_target(repo, pb, walk.get(), *git_reference_target(resolved)); ins < 0) {
            git_reference_iterator_free(it);
            return git_local_failure(ins, std::string("packing ") + git_reference_name(ref));
        }
    }
    git_reference_iterator_free(it);
    if (rc != GIT_ITEROVER) return git_local_failure(rc, "listing refs");
    if (int ins = git_packbuilder_insert_walk(pb, walk.get()); ins < 0)
        return git_local_failure(ins, "packing history");
    return {};
}

// Deletes every pack but `keep_name` (and those with a .keep file) and every loose object.
void delete_old_objects(const fs::path& objects, const ObjectFiles& old, const std::string& keep_name) {
    std::error_code ec;
    for (const auto& pack : old.packs) {
        if (pack.filename() == keep_name || fs::exists(fs::path(pack).replace_extension(".keep"), ec)) continue;
        // The index first: a reader never sees an index whose pack is gone.
        for (const char* ext : {".idx", ".rev", ".bitmap", ".pack"})
            fs::remove(fs::path(pack).replace_extension(ext), ec);
    }
    for (const auto& dir : old.loose_dirs) fs::remove_all(dir, ec);
    fs::remove(objects.parent_path() / k_repack_marker, ec);
}

}  // namespace

util::Result<std::size_t> prune_deleted_refs(git_repository* repo, const std::set<std::string>& advertised) {
    git_strarray names{};
    if (int rc = git_reference_list(&names, repo); rc < 0) return git_local_failure(rc, "listing the mirror's refs");
    std::size_t pruned = 0;
    int failure = 0;
    for (std::size_t i = 0; i < names.count && failure == 0; ++i) {
        const std::string name = names.strings[i];
        const bool upstream = name.rfind("refs/heads/", 0) == 0 || name.rfind("refs/tags/", 0) == 0;
        if (!upstream || advertised.count(name) != 0) continue;
        git_reference* raw = nullptr;
        if (git_reference_lookup(&raw, repo, name.c_str()) < 0) continue;
        ReferencePtr ref(raw);
        failure = git_reference_delete(ref.get());
        if (failure == 0) ++pruned;
    }
    git_strarray_dispose(&names);
    if (failure < 0) return git_local_failure(failure, "deleting a ref the remote no longer has");
    if (pruned > 0) std::ofstream(fs::path(git_repository_path(repo)) / k_repack_marker);
    return pruned;
}

util::Result<RepackStats> repack_mirror(const std::string& path) {
    git_repository* raw = nullptr;
    if (int rc = git_repository_open_bare(&raw, path.c_str()); rc < 0) return git_local_failure(rc, "opening " + path);
    RepoPtr repo(raw);
    const fs::path objects = fs::path(path) / "objects";
    const ObjectFiles old = object_files(objects);
    RepackStats stats;
    stats.packs_before = old.packs.size();
    stats.loose_before = old.loose;
    stats.bytes_before = disk_usage(objects);

    git_packbuilder* raw_pb = nullptr;
    if (int rc = git_packbuilder_new(&raw_pb, repo.get()); rc < 0) return git_local_failure(rc, "repacking " + path);
    PackBuilderPtr pb(raw_pb);
    git_packbuilder_set_threads(pb.get(), 1);  // a background job: leave the other cores to builds
    if (auto st = insert_reachable(repo.get(), pb.get()); !st) return st.error();
    stats.objects = git_packbuilder_object_count(pb.get());
    std::string keep_name;
    if (stats.objects > 0) {
        const std::string pack_dir = (objects / "pack").string();
        if (int rc = git_packbuilder_write(pb.get(), pack_dir.c_str(), 0, nullptr, nullptr); rc < 0) {
            return git_local_failure(rc, "writing the new pack of " + path);
        }
        keep_name = std::string("pack-") + git_packbuilder_name(pb.get()) + ".pack";
    }
    delete_old_objects(objects, old, keep_name);
    stats.bytes_after = disk_usage(objects);
    return stats;
}

MirrorMaintenance::MirrorMaintenance(MirrorCache& cache, std::string worktrees_root, std::set<std::string> configured,
                                     MirrorMaintenanceOptions options)
    : m_cache(cache),
      m_worktrees(std::move(worktrees_root)),
      m_configured(std::move(configured)),
      m_options(options),
      m_loop([this] { run_once(); }, m_options.interval) {}

bool MirrorMaintenance::needs_repack(const std::string& path) const {
    std::error_code ec;
    if (fs::exists(fs::path(path) / k_repack_marker, ec)) return true;
    const auto files = object_files(fs::path(path) / "objects");
    return files.loose > 0 || files.packs.size() >= m_options.pack_limit;
}

void MirrorMaintenance::maintain(const std::string& key, MirrorMaintenanceResult& result) {
    const bool submodule = key.rfind("_url/", 0) == 0;
    if (!submodule && m_configured.count(key) == 0) {
        auto removed = m_cache.remove(key);
        if (!removed) {
            ++result.failed;
            util::log_warn(k_maintenance_component,
                           "cannot remove the mirror of " + key + ": " + removed.error().message);
        } else {
            ++result.removed_mirrors;
        }
        std::error_code ec;
        if (fs::remove_all(fs::path(m_worktrees) / key, ec) > 0) ++result.removed_worktrees;
        return;
    }
    auto repacked = m_cache.with_exclusive(key, [&](const std::string& path) -> util::Status {
        if (!needs_repack(path)) return {};
        auto stats = repack_mirror(path);
        if (!stats) return stats.error();
        ++result.repacked;
        result.bytes_before += stats->bytes_before;
        result.bytes_after += stats->bytes_after;
        util::log_debug(k_maintenance_component, "repacked " + key + ": " + std::to_string(stats->packs_before) +
                                                     " packs -> 1, " + std::to_string(stats->objects) + " objects");
        return {};
    });
    if (!repacked) {
        ++result.failed;
        util::log_warn(k_maintenance_component, "cannot repack the mirror of " + key + ": " + repacked.error().message);
    }
}

MirrorMaintenanceResult MirrorMaintenance::run_once() {
    const auto started = std::chrono::steady_clock::now();
    MirrorMaintenanceResult result;
    for (const auto& key : m_cache.keys()) maintain(key, result);
    // Work trees of removed repositories whose mirror is already gone.
    std::error_code ec;
    for (const auto& owner : fs::directory_iterator(m_worktrees, ec)) {
        for (const auto& repo : fs::directory_iterator(owner.path(), ec)) {
            const std::string key = owner.path().filename().string() + "/" + repo.path().filename().string();
            if (m_configured.count(key) == 0 && fs::remove_all(repo.path(), ec) > 0) ++result.removed_worktrees;
        }
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    util::log_info(k_maintenance_component,
                   "repacked " + std::to_string(result.repacked) + " mirror(s) (" +
                       std::to_string(result.bytes_before) + " -> " + std::to_string(result.bytes_after) +
                       " bytes), removed " + std::to_string(result.removed_mirrors) + " mirror(s) and " +
                       std::to_string(result.removed_worktrees) + " work tree dir(s) of unconfigured repositories" +
                       (result.failed > 0 ? ", " + std::to_string(result.failed) + " failed" : "") + " in " +
                       std::to_string(ms) + " ms");
    return result;
}

}  // namespace hookyard::pipeline
