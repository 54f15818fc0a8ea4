#include "pipeline/image_budget.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "pipeline/disk_watermark.hpp"
#include "pipeline/executor/buildah_run.hpp"
#include "util/json.hpp"
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

// `buildah <storage flags> args…`, bounded by k_buildah_timeout.
util::Result<StorageCommandOutcome> budget_buildah(const BuildahOptions& buildah, std::vector<std::string> args) {
    return run_storage_command(buildah, buildah_command(buildah, std::move(args)), k_buildah_timeout);
}

// The time in an RFC 3339 text ("2026-12-03T15:37:01.296Z", as containers-storage writes it, in UTC); 0 when
// it is not one.
std::int64_t storage_record_seconds(const std::string& text) {
    std::tm tm{};
    if (::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return 0;
    return static_cast<std::int64_t>(::timegm(&tm));
}

// The "<driver>" of the first "<driver>-images" directory in the storage root (overlay, vfs); "" when none.
std::string storage_driver(const std::string& root) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.size() > 7 && name.compare(name.size() - 7, 7, "-images") == 0) return name.substr(0, name.size() - 7);
    }
    return "";
}

std::string read_storage_record(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
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

util::Result<std::vector<StoredImage>> parse_buildah_images(const std::string& output) {
    auto list = buildah_json_list(output, "buildah images");
    if (!list) return list.error();
    std::vector<StoredImage> images;
    for (const auto& i : *list) {
        if (!i.is_object()) continue;
        const auto names = i.value("names", nlohmann::json());
        const auto created = i.find("created");
        images.push_back({util::json_string(i, "id"),
                          created != i.end() && created->is_number() ? created->get<std::int64_t>() : 0,
                          names.is_array() && !names.empty(), ""});
    }
    return images;
}

util::Result<std::vector<StoredImage>> parse_storage_images(const std::string& images_json,
                                                            const std::string& layers_json) {
    const auto images = nlohmann::json::parse(images_json, nullptr, false);
    if (!images.is_array()) return util::make_error(util::ErrorKind::internal, "images.json holds no JSON list");
    std::set<std::string> layers;
    const auto layer_list = nlohmann::json::parse(layers_json, nullptr, false);
    if (layer_list.is_array()) {
        for (const auto& l : layer_list) {
            if (l.is_object()) layers.insert(util::json_string(l, "id"));
        }
    }
    std::vector<StoredImage> out;
    for (const auto& i : images) {
        if (!i.is_object() || util::json_string(i, "id").empty()) continue;
        StoredImage image{"sha256:" + util::json_string(i, "id"),
                          storage_record_seconds(util::json_string(i, "created")), false, ""};
        const auto names = i.value("names", nlohmann::json());
        image.tagged = names.is_array() && !names.empty();
        const auto big_data = i.value("big-data-names", nlohmann::json::array());
        const std::string layer = util::json_string(i, "layer");
        if (!layer.empty() && layers.count(layer) == 0) image.damaged = "its top layer " + layer + " is gone";
        if (std::find(big_data.begin(), big_data.end(), "manifest") == big_data.end()) {
            image.damaged = "its manifest was never written";
        }
        out.push_back(std::move(image));
    }
    return out;
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
            auto rmi = budget_buildah(m_buildah, {"rmi", image.id});
            if (!rmi || rmi->exit_code != 0) continue;
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

util::Result<std::vector<StoredImage>> ImageBudget::untagged_images() const {
    auto listed = budget_buildah(m_buildah, {"images", "--all", "--no-trunc", "--json"});
    if (!listed) return listed.error();
    auto images = listed->exit_code == 0 ? parse_buildah_images(listed->output)
                                         : images_from_storage_records(listed->output.substr(0, 300));
    if (!images) return images.error();
    std::vector<StoredImage> untagged;
    for (auto& image : *images) {
        if (!image.tagged) untagged.push_back(std::move(image));
    }
    std::sort(untagged.begin(), untagged.end(), [](const StoredImage& a, const StoredImage& b) {
        return a.damaged.empty() != b.damaged.empty() ? !a.damaged.empty() : a.created < b.created;
    });
    return untagged;
}

util::Result<std::vector<StoredImage>> ImageBudget::images_from_storage_records(const std::string& why) const {
    const std::string driver = storage_driver(m_root);
    const std::string dir = m_root + "/" + driver;
    util::log_warn(k_budget_component, "buildah images failed (" + why + "); reading " + dir + "-images/images.json");
    auto images = parse_storage_images(read_storage_record(dir + "-images/images.json"),
                                       read_storage_record(dir + "-layers/layers.json"));
    if (!images) return util::make_error(util::ErrorKind::internal, "buildah images failed: " + why);
    for (const auto& image : *images) {
        if (image.damaged.empty()) continue;
        std::string remove;
        for (const auto& arg : buildah_command(m_buildah, {"rmi", "--force", image.id})) remove += " " + arg;
        util::log_warn(k_budget_component, "image " + image.id + " in buildah's storage is damaged (" + image.damaged +
                                               "): it breaks `buildah images`; " +
                                               (image.tagged ? "remove it by hand:" : "evicted first, or by hand:") +
                                               remove);
    }
    return images;
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
    auto code =
        run_storage_command(m_buildah, {"skopeo", "delete", storage_reference(m_buildah, id)}, k_buildah_timeout);
    const std::string out = code ? code->output : "";
    if (code && code->exit_code == 0) return true;
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
