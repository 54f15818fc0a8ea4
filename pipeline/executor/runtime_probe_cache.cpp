#include "pipeline/executor/runtime_probe_cache.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "pipeline/executor/child_process.hpp"

namespace hookyard::pipeline {
namespace {

namespace fs = std::filesystem;

std::string file_identity(const std::string& path) {
    struct stat st {};
    if (path.empty() || ::stat(path.c_str(), &st) != 0) return "-";
    return path + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
           std::to_string(st.st_mtim.tv_nsec);
}

fs::path cache_path(const std::string& run_dir) { return fs::path(run_dir) / "sandbox" / "runtime-probe"; }

}  // namespace

std::string runtime_probe_key(const std::vector<std::string>& buildah_argv,
                              const std::map<std::string, std::string>& env) {
    std::ifstream boot("/proc/sys/kernel/random/boot_id");
    std::string key;
    std::getline(boot, key);
    for (const auto& arg : buildah_argv) key += " " + arg;
    for (const char* program : {"runc", "crun"}) key += " " + file_identity(find_program(program, env));
    return key + " " + file_identity(buildah_argv.empty() ? "" : find_program(buildah_argv.front(), env));
}

util::Result<RuntimeChoice> probe_oci_runtime_cached(const std::string& run_dir,
                                                     const std::vector<std::string>& buildah_argv,
                                                     const std::map<std::string, std::string>& env, bool* cached) {
    const std::string key = runtime_probe_key(buildah_argv, env);
    if (cached) *cached = false;
    {
        std::ifstream in(cache_path(run_dir));
        std::string stored_key;
        RuntimeChoice choice;
        if (std::getline(in, stored_key) && std::getline(in, choice.runtime) &&
            std::getline(in, choice.cgroup_manager) && stored_key == key && !choice.runtime.empty()) {
            if (cached) *cached = true;
            return choice;
        }
    }
    auto probed = probe_oci_runtime(buildah_argv, env);
    if (!probed) return probed;
    std::error_code ec;
    fs::create_directories(cache_path(run_dir).parent_path(), ec);
    const fs::path temp = cache_path(run_dir).string() + ".tmp";
    std::ofstream out(temp, std::ios::trunc);
    out << key << "\n" << probed->runtime << "\n" << probed->cgroup_manager << "\n";
    out.close();
    // Renamed into place: a concurrent reader sees the old file or the whole new one.
    if (out) fs::rename(temp, cache_path(run_dir), ec);
    return probed;
}

}  // namespace hookyard::pipeline
