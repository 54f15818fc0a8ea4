#pragma once
// RAII for libgit2: the library init guard and unique_ptr aliases that free each libgit2 object type.
// Internal to pipeline/checkout (not part of its public interface).

#include <git2.h>

#include <memory>

namespace hookyard::pipeline {

// Holds one libgit2 initialisation (git_libgit2_init is refcounted by libgit2, so several guards may
// coexist). Construction never fails; a failed init surfaces as errors from the first libgit2 call.
class LibGit2Guard {
public:
    LibGit2Guard() { git_libgit2_init(); }
    ~LibGit2Guard() { git_libgit2_shutdown(); }
    LibGit2Guard(const LibGit2Guard&) = delete;
    LibGit2Guard& operator=(const LibGit2Guard&) = delete;
};

template <class T, void (*Free)(T*)>
struct GitDeleter {
    void operator()(T* p) const { Free(p); }
};

using RepoPtr = std::unique_ptr<git_repository, GitDeleter<git_repository, git_repository_free>>;
using RemotePtr = std::unique_ptr<git_remote, GitDeleter<git_remote, git_remote_free>>;
using ObjectPtr = std::unique_ptr<git_object, GitDeleter<git_object, git_object_free>>;
using CommitPtr = std::unique_ptr<git_commit, GitDeleter<git_commit, git_commit_free>>;
using ReferencePtr = std::unique_ptr<git_reference, GitDeleter<git_reference, git_reference_free>>;
using SubmodulePtr = std::unique_ptr<git_submodule, GitDeleter<git_submodule, git_submodule_free>>;

}  // namespace hookyard::pipeline
