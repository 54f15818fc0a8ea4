#include "pipeline/image_budget.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "pipeline/disk_watermark.hpp"
#include "pipeline/executor/child_process.hpp"
#include "util/log.hpp"

namespace fs = std::filesystem;

namespace hookyard::pipeline {
namespace {

constexpr const char* k_budget_component = "cache";
constexpr auto k_buildah_timeout = std::chrono::minutes(5);
// Besides after every build: images made by `hookyard build` or by hand count too.
constexpr auto k_budget_interval = std::chrono::minutes(10);
// Final images wait while builds are in their build stage; retried this often besides at each release().
constexpr auto k_release_retry = std::chrono::seconds(10);

// Runs buildah or skopeo (argv) with the buildah options' environment; its exit code (128 + signal when
// killed), its output appended to `out` when not null.
util::Result<int> run_storage_tool(const BuildahOptions& buildah, std::vector<std::string> argv, std::string* out) {
    ChildSpec spec;
    spec.argv = std::move(argv);
    spec.env = buildah.env;
    if (spec.env.count("PATH") == 0) spec.env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    const CancelSignal never;
    const ChildLimits limits{std::chrono::steady_clock::now() + k_buildah_timeout, buildah.kill_grace};
    auto outcome = run_child(
        spec,
        [out](std::string_view line) {
            if (out != nullptr) out->append(line).append("\n");
        },
        limits, never);
    if (!outcome) return outcome.error();
    return outcome->ok() ? 0 : (outcome->exit_code != 0 ? outcome->exit_code : 128 + outcome->signal);
}

// skopeo's name for image `id` in buildah's storage: containers-storage:[root+runroot]@<hex>.
std::string storage_reference(const BuildahOptions& buildah, const std::string& id) {
    const std::string hex = id.rfind("sha256:", 0) == 0 ? id.substr(7) : id;
    if (buildah.root.empty()) return "containers-storage:@" + hex;
    const std::string store = buildah.root + (buildah.runroot.empty() ? "" : "+" + buildah.runroot);
    return "containers-storage:[" + store + "]@" + hex;
}

}  // namespace

ImageBudget::ImageBudget(BuildahOptions buildah, std::string storage_root, std::uint64_t max_bytes)
    : m_buildah(std::move(buildah)), m_root(std::move(storage_root)), m_max_bytes(max_bytes) {}

std::uint64_t ImageBudget::usage() const {
    std::uint64_t total = 0;
    std::set<std::pair<dev_t, ino_t>> linked;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(m_root, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
        struct stat st {};
        if (::lstat(it->path().c_str(), &st) != 0) continue;
        // Overlay layers share files by hard link: count each once.
        if (st.st_nlink > 1 && !S_ISDIR(st.st_mode) && !linked.insert({st.st_dev, st.st_ino}).second) continue;
        total += static_cast<std::uint64_t>(st.st_blocks) * 512;
    }
    return total;
}

std::uint64_t ImageBudget::measure() {
    const auto used = usage();
    m_last_usage = used;
    return used;
}

util::Result<int> ImageBudget::buildah(std::vector<std::string> args, std::string* out) const {
    std::vector<std::string> argv{m_buildah.buildah};
    if (!m_buildah.root.empty()) argv.insert(argv.end(), {"--root", m_buildah.root});
    if (!m_buildah.runroot.empty()) argv.insert(argv.end(), {"--runroot", m_buildah.runroot});
    argv.insert(argv.end(), args.begin(), args.end());
    return run_storage_tool(m_buildah, std::move(argv), out);
}

util::Result<std::vector<ImageBudget::Image>> ImageBudget::untagged_images() const {
    std::string out;
    auto code = buildah({"images", "--all", "--no-trunc", "--json"}, &out);
    if (!code) return code.error();
    // buildah prints warnings on the same stream; the JSON is the array from the first '['.
    const auto start = out.find('[');
    if (*code != 0 || start == std::string::npos) {
        return util::make_error(util::ErrorKind::internal, "buildah images failed: " + out.substr(0, 300));
    }
    const auto list = nlohmann::json::parse(out.substr(start), nullptr, false);
    if (!list.is_array()) return util::make_error(util::ErrorKind::internal, "buildah images printed no JSON list");
    std::vector<Image> images;
    for (const auto& i : list) {
        const auto names = i.value("names", nlohmann::json());
        if (names.is_array() && !names.empty()) continue;  // tagged: not ours
        images.push_back({i.value("id", std::string()), i.value("created", std::int64_t{0})});
    }
    std::sort(images.begin(), images.end(), [](const Image& a, const Image& b) { return a.created < b.created; });
    return images;
}

util::Result<std::uint64_t> ImageBudget::enforce() {
    auto used = measure();
    const auto before = used;
    int removed = 0;
    // Oldest first; a parent goes in a later pass, once the images built on it are gone.
    for (bool progress = true; used > m_max_bytes && progress;) {
        auto images = untagged_images();
        if (!images) return images.error();
        progress = false;
        for (const auto& image : *images) {
            if (used <= m_max_bytes) break;
            // A parent of another image, or an image a container uses, is refused by buildah: skipped.
            auto code = buildah({"rmi", image.id}, nullptr);
            if (!code || *code != 0) continue;
            ++removed;
            progress = true;
            used = measure();
        }
    }
    if (removed > 0 || used > m_max_bytes) {
        util::log_info(k_budget_component, "layer cache " + std::to_string(before) + " -> " + std::to_string(used) +
                                               " bytes (builder.cache_max_size " + std::to_string(m_max_bytes) +
                                               "): removed " + std::to_string(removed) + " untagged image(s)");
    }
    return used;
}

ImageBudgetJob::ImageBudgetJob(std::unique_ptr<ImageBudget> budget, std::function<int()> running,
                               std::function<void(std::uint64_t)> on_measured, FinalImages* final_images)
    : m_budget(std::move(budget)),
      m_running(std::move(running)),
      m_on_measured(std::move(on_measured)),
      m_final_images(final_images),
      m_loop([this] { step(); }, k_budget_interval) {}

std::vector<std::string> ImageBudgetJob::hold_reasons() const {
    if (!m_evicting) return {};
    return {"the layer cache is over builder.cache_max_size: evicting old images once running builds end"};
}

void ImageBudgetJob::step() {
    if (m_final_images != nullptr) m_final_images->remove_queued();
    const auto used = m_budget->measure();
    if (m_on_measured) m_on_measured(used);
    if (!m_budget->over()) return;
    m_evicting = true;
    // A running build may be about to reuse any cached layer: evict only when none runs.
    while (m_running() > 0 && !m_loop.stopping()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (!m_loop.stopping()) {
        auto after = m_budget->enforce();
        if (!after) util::log_warn(k_budget_component, "cannot evict from the layer cache: " + after.error().message);
        if (m_on_measured) m_on_measured(m_budget->last_usage());
    }
    m_evicting = false;
}

FinalImages::FinalImages(BuildahOptions buildah)
    : m_buildah(std::move(buildah)),
      m_lock_path(buildah_storage_root(m_buildah.root) + "/hookyard-final-images.lock"),
      m_loop([this] { remove_queued(); }, k_release_retry) {}

FinalImages::Building FinalImages::building() {
    std::shared_lock lock(m_building);
    // Without the lock file (storage not created yet, read-only) only this process is coordinated.
    auto file_lock = util::FileLock::acquire(m_lock_path, util::FileLock::Mode::shared);
    return Building(std::move(lock), file_lock ? std::move(*file_lock) : util::FileLock());
}

void FinalImages::stop() {
    m_loop.stop();
    remove_queued();
}

void FinalImages::release(const std::string& id) {
    if (id.empty()) return;
    {
        std::lock_guard lock(m_mutex);
        if (m_queue.size() >= k_max_queued) m_queue.erase(m_queue.begin());
        m_queue.push_back(id);
    }
    m_loop.wake();
}

int FinalImages::remove_queued() {
    std::lock_guard removing(m_removing);
    std::unique_lock no_build(m_building, std::try_to_lock);
    if (!no_build) return 0;
    // Another hookyard on this storage may be building the same image id: wait for its build stage too.
    auto file_lock = util::FileLock::try_acquire(m_lock_path, util::FileLock::Mode::exclusive);
    if (!file_lock && file_lock.error().kind == util::ErrorKind::conflict) return 0;
    std::vector<std::string> queued;
    {
        std::lock_guard lock(m_mutex);
        queued.swap(m_queue);
    }
    int removed = 0;
    for (const auto& id : queued) removed += remove(id) ? 1 : 0;
    return removed;
}

bool FinalImages::remove(const std::string& id) {
    std::string out;
    auto code = run_storage_tool(m_buildah, {"skopeo", "delete", storage_reference(m_buildah, id)}, &out);
    if (code && *code == 0) return true;
    if (code && out.find("image not known") != std::string::npos) return true;
    std::lock_guard lock(m_mutex);
    if (!code && !m_warned) {
        m_warned = true;
        util::log_warn(k_budget_component, "cannot remove built images (" + code.error().message +
                                               "); install the Debian package skopeo. Until then "
                                               "builder.cache_max_size evicts them");
    } else if (code) {
        util::log_warn(k_budget_component, "cannot remove built image " + id + ": " + out.substr(0, 300));
    }
    return false;
}

}  // namespace hookyard::pipeline
