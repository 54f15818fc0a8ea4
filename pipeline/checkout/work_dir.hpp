#pragma once
// A per-build working directory holding one commit's files, materialised from a mirror.

#include <functional>
#include <string>

#include "util/result.hpp"

namespace hookyard::pipeline {

// Owns a directory: on destruction hands it to `recycle` when one was given (WorkTreePool::give_back),
// else removes it recursively; nothing happens when keep() was called (a failed build kept for
// inspection when builder.keep_failed_workdirs is set). Move-only; a moved-from WorkDir owns nothing.
class WorkDir {
public:
    using Recycler = std::function<void(const std::string& path)>;
    WorkDir() = default;
    explicit WorkDir(std::string path, Recycler recycle = {})
        : m_path(std::move(path)), m_recycle(std::move(recycle)) {}
    ~WorkDir();
    WorkDir(WorkDir&& other) noexcept;
    WorkDir& operator=(WorkDir&& other) noexcept;
    WorkDir(const WorkDir&) = delete;
    WorkDir& operator=(const WorkDir&) = delete;

    const std::string& path() const { return m_path; }
    // Leaves the directory on disk when this object goes away. Idempotent.
    void keep() { m_keep = true; }
    bool kept() const { return m_keep; }
    // Hands the directory to `recycle` instead of removing it on destruction (not when kept).
    void set_recycler(Recycler recycle) { m_recycle = std::move(recycle); }

private:
    std::string m_path;
    Recycler m_recycle;
    bool m_keep = false;
};

// Writes `commit`'s tree into `dest` (created; it must not exist or be empty) as a non-bare repository
// whose objects come from the bare mirror at `mirror_path` through alternates (no objects are copied),
// with HEAD detached at the commit and an `origin` remote of `origin_url` without credentials.
// Errors: invalid_input when dest is a non-empty directory, not_found when the commit is not in the
// mirror, internal for libgit2/filesystem failures. Thread-safe for distinct `dest`s, also while the
// mirror is being fetched into (objects are only ever added).
util::Status checkout_commit(const std::string& mirror_path, const std::string& commit, const std::string& dest,
                             const std::string& origin_url);

// Brings `dest`, a work tree an earlier checkout_commit() made from the same mirror, to exactly `commit`:
// writes only the files that differ from its HEAD or were modified, removes untracked and ignored files,
// detaches HEAD at the commit. Errors as checkout_commit(); on error `dest` is in an unknown state.
util::Status update_checkout(const std::string& mirror_path, const std::string& commit, const std::string& dest);

}  // namespace hookyard::pipeline
