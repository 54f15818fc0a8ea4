#include "pipeline/rebuilds.hpp"

#include <unistd.h>

#include <algorithm>
#include <random>
#include <set>

#include "config/image_ref.hpp"
#include "pipeline/cancel.hpp"
#include "pipeline/reuse.hpp"
#include "util/log.hpp"

namespace hookyard::pipeline {
namespace {

constexpr const char* k_watcher_lease = "base-image-watcher";

// The newest builds of `repository`, newest first (enough to find each rule's last succeeded one).
std::vector<storage::Build> recent_builds(storage::Store& store, const std::string& repository,
                                          std::optional<storage::BuildState> state) {
    storage::BuildFilter filter;
    filter.repository = repository;
    filter.state = state;
    filter.limit = 500;
    auto builds = store.list_builds(filter);
    if (!builds) {
        util::log_warn("rebuilds", "cannot list the builds of " + repository + ": " + builds.error().message);
        return {};
    }
    return std::move(*builds);
}

// The last succeeded build (with a commit) of each rule of `repository`, by rule index.
std::map<std::size_t, storage::Build> last_succeeded_per_rule(storage::Store& store, const std::string& repository) {
    std::map<std::size_t, storage::Build> out;
    for (auto& b : recent_builds(store, repository, storage::BuildState::succeeded)) {
        if (!b.commit.empty() && out.count(b.rule) == 0) out.emplace(b.rule, std::move(b));
    }
    return out;
}

// True when a base_image rebuild of `last`'s rule and ref was queued after it (still queued, running or
// ended otherwise): one rebuild per change, not one per check.
bool rebuild_pending(const std::vector<storage::Build>& newest_first, const storage::Build& last) {
    for (const auto& b : newest_first) {
        if (b.id <= last.id) return false;
        if (b.rule == last.rule && b.ref == last.ref && b.trigger_type == "base_image") return true;
    }
    return false;
}

std::string short_digest(const std::string& digest) {
    return digest.substr(0, std::min<std::size_t>(digest.size(), 19)) + "…";
}

}  // namespace

storage::NewBuild rebuild_of(const storage::Build& last, const std::string& type, const std::string& reason) {
    storage::NewBuild b = last;
    b.trigger_type = type;
    b.trigger_reason = reason;
    b.pusher = "hookyard";
    b.forced = false;
    b.reuse = true;  // the identity changed with the base: it builds, unless an identical image exists
    return b;
}

util::Result<int> queue_linked_rebuilds(const config::Config& config, storage::Store& store,
                                        const storage::Build& pushed) {
    std::vector<storage::NewBuild> builds;
    for (const auto& repo : config.repositories) {
        const auto& links = repo.rebuild_when_pushed;
        if (std::find(links.begin(), links.end(), pushed.repository) == links.end()) continue;
        for (const auto& [rule, last] : last_succeeded_per_rule(store, repo.github)) {
            builds.push_back(rebuild_of(last, "link",
                                        pushed.repository + " pushed " + pushed.image + "@" +
                                            short_digest(pushed.digest) + " (#" + std::to_string(pushed.id) + ")"));
        }
    }
    if (builds.empty()) return 0;
    const int n = static_cast<int>(builds.size());
    if (auto st = store.insert_builds(std::move(builds)); !st) return st.error();
    return n;
}

BaseImageWatcher::BaseImageWatcher(const config::Config& config, storage::Store& store, ImagePusher& pusher,
                                   std::function<void()> on_queued, std::string holder)
    : m_config(config),
      m_store(store),
      m_pusher(pusher),
      m_on_queued(std::move(on_queued)),
      m_holder(std::move(holder)) {
    if (m_holder.empty()) {
        char host[256] = {};
        gethostname(host, sizeof host - 1);
        m_holder = std::string(host) + ":" + std::to_string(getpid()) + ":base-images";
    }
}

BaseImageWatcher::~BaseImageWatcher() { stop(); }

void BaseImageWatcher::start() {
    bool opted_in = false;
    for (const auto& repo : m_config.repositories) {
        for (const auto& rule : repo.rules) opted_in = opted_in || rule.rebuild_on_base_change;
    }
    if (!opted_in || m_loop) return;
    m_next = std::chrono::steady_clock::now() + m_config.base_images.watch_interval;
    // Woken every second to see whether the (jittered) time has come; a check runs on this thread.
    m_loop = std::make_unique<util::WorkerLoop>([this] { tick(); }, std::chrono::seconds(1));
    m_loop->start();
}

void BaseImageWatcher::stop() {
    if (m_loop) m_loop->stop();
}

void BaseImageWatcher::tick() {
    const auto now = std::chrono::steady_clock::now();
    if (now < m_next) return;
    // Jittered, so that instances started together do not ask the registries at the same moment.
    thread_local std::mt19937 rng{std::random_device{}()};
    const auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(m_config.base_images.watch_interval);
    const double jitter = std::uniform_real_distribution<double>(0.9, 1.1)(rng);
    m_next = now + std::chrono::duration_cast<std::chrono::milliseconds>(interval * jitter);
    auto leased = m_store.acquire_lease(k_watcher_lease, m_holder, interval * 2);
    if (!leased || !*leased) return;  // another instance watches
    if (auto n = check_once(); !n) util::log_warn("base-images", "check failed: " + n.error().message);
}

util::Result<int> BaseImageWatcher::check_once() {
    std::vector<std::pair<storage::Build, std::vector<storage::Build>>> watched;  // last build, its repo's newest
    std::set<std::string> references;
    for (const auto& repo : m_config.repositories) {
        const auto opted_in = [](const config::Rule& r) { return r.rebuild_on_base_change; };
        if (std::none_of(repo.rules.begin(), repo.rules.end(), opted_in)) continue;  // no store reads for it
        const auto newest = recent_builds(m_store, repo.github, std::nullopt);
        for (auto& [rule, last] : last_succeeded_per_rule(m_store, repo.github)) {
            if (rule >= repo.rules.size() || !repo.rules[rule].rebuild_on_base_change) continue;
            if (rebuild_pending(newest, last)) continue;
            for (const auto& [image, digest] : last.base_images) references.insert(image);
            watched.emplace_back(std::move(last), newest);
        }
    }
    std::map<std::string, std::string> current;  // one HEAD per distinct reference per check
    for (const auto& image : references) {
        CancelToken token;
        const auto ref = config::parse_image_ref(image.substr(0, image.find('@')));
        auto digest = ref ? m_pusher.resolve(pull_registry_for(m_config, ref->host), image, token)
                          : util::Result<std::string>(ref.error());
        if (!digest) {
            util::log_warn("base-images", "cannot check " + image + ": " + digest.error().message);
            continue;
        }
        current[image] = *digest;
    }
    std::vector<storage::NewBuild> builds;
    for (const auto& [last, newest] : watched) {
        for (const auto& [image, digest] : last.base_images) {
            const auto now = current.find(image);
            if (now == current.end() || now->second == digest) continue;
            builds.push_back(rebuild_of(
                last, "base_image",
                "base image " + image + " changed " + short_digest(digest) + " → " + short_digest(now->second)));
            break;
        }
    }
    if (builds.empty()) return 0;
    const int n = static_cast<int>(builds.size());
    if (auto st = m_store.insert_builds(std::move(builds)); !st) return st.error();
    util::log_info("base-images", "queued " + std::to_string(n) + " rebuild(s) for changed base images");
    if (m_on_queued) m_on_queued();
    return n;
}

}  // namespace hookyard::pipeline
