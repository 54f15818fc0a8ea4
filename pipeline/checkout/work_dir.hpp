#pragma once
// A per-build working directory holding one commit's files, materialised from a mirror.

#include <string>

#include "util/result.hpp"

namespace hookyard::pipeline {

// Owns a directory: removes it recursively on destruction unless keep() was called (a failed build kept
// for inspection when builder.keep_failed_workdirs is set). Move-only; a moved-from WorkDir owns nothing.
class WorkDir {
public:
    WorkDir() = default;
    explicit WorkDir(std::string path) : m_path(std::move(path)) {}
    ~WorkDir();
    WorkDir(WorkDir&& other) noexcept;
    WorkDir& operator=(WorkDir&& other) noexcept;
    WorkDir(const WorkDir&) = delete;
    WorkDir& operator=(const WorkDir&) = delete;

    const std::string& path() const { return m_path; }
    // Leaves the directory on disk when this object goes away. Idempotent.
    void keep() { m_keep = true; }
    bool kept() const { return m_keep; }

private:
    std::string m_path;
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

}  // namespace hookyard::pipeline
