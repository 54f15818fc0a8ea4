#include "storage/retention.hpp"

#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "util/log.hpp"

namespace fs = std::filesystem;

namespace hookyard::storage {
namespace {

constexpr const char* k_component = "prune";

// Removes (or counts) <data_dir>/kept/* last written before `cutoff`.
std::int64_t prune_kept_workdirs(const std::string& data_dir, fs::file_time_type cutoff, bool dry_run) {
    std::error_code ec;
    const fs::path kept = fs::path(data_dir) / "kept";
    std::int64_t removed = 0;
    for (const auto& entry : fs::directory_iterator(kept, ec)) {
        std::error_code tec;
        const auto written = fs::last_write_time(entry.path(), tec);
        if (tec || written >= cutoff) continue;
        ++removed;
        if (!dry_run) fs::remove_all(entry.path(), tec);
    }
    return removed;
}

}  // namespace

PrunePolicy prune_policy(const config::RetentionConfig& retention, TimeMs now) {
    PrunePolicy p;
    p.builds_before = now - std::chrono::duration_cast<std::chrono::milliseconds>(retention.builds).count();
    p.deliveries_before = now - std::chrono::duration_cast<std::chrono::milliseconds>(retention.deliveries).count();
    p.keep_per_rule = retention.keep_per_rule;
    return p;
}

util::Result<RetentionResult> run_retention(Store& store, const config::Config& config, bool dry_run) {
    const auto started = std::chrono::steady_clock::now();
    auto policy = prune_policy(config.retention, now_ms());
    policy.dry_run = dry_run;
    auto pruned = store.prune(policy);
    if (!pruned) return pruned.error();
    RetentionResult r;
    r.store = *pruned;
    r.kept_workdirs = prune_kept_workdirs(config.data_dir,
                                          fs::file_time_type::clock::now() - config.retention.kept_workdirs, dry_run);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    util::log_info(k_component, std::string(dry_run ? "would remove " : "removed ") + std::to_string(r.store.builds) +
                                    " builds, " + std::to_string(r.store.deliveries) + " deliveries (" +
                                    std::to_string(r.store.rows) + " rows), " + std::to_string(r.kept_workdirs) +
                                    " kept work dirs in " + std::to_string(ms) + " ms");
    return r;
}

PruneJob::PruneJob(Store& store, const config::Config& config, std::function<void(const RetentionResult&)> on_run,
                   std::string holder)
    : m_store(store),
      m_config(config),
      m_on_run(std::move(on_run)),
      m_holder(std::move(holder)),
      m_loop(
          [this] {
              const auto r = run_once();
              if (m_on_run) m_on_run(r);
          },
          config.retention.interval, false) {
    if (m_holder.empty()) {
        char host[256] = {};
        if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
        m_holder = std::string(host) + ":" + std::to_string(getpid());
    }
}

void PruneJob::start() { m_loop.start(); }

void PruneJob::run_now() { m_loop.wake(); }

RetentionResult PruneJob::run_once() {
    // Held for the whole interval, so the other instances skip this one.
    auto leased = m_store.acquire_lease(k_lease, m_holder, m_config.retention.interval);
    if (!leased || !*leased) {
        util::log_info(k_component, leased ? "another instance holds the prune lease; skipped"
                                           : "cannot take the prune lease: " + leased.error().message);
        return {};
    }
    auto r = run_retention(m_store, m_config, false);
    if (!r) util::log_warn(k_component, "pruning failed: " + r.error().message);
    return r ? *r : RetentionResult{};
}

}  // namespace hookyard::storage
