// The in-memory Store. Each call takes the one mutex, checks everything it needs before changing anything
// (so a refused call changes nothing, as a rolled-back transaction would), then queues the events the
// change causes, like the SQLite store does inside its transaction.

#include "tests/support/fake_store.hpp"

#include <algorithm>
#include <future>
#include <set>

#include "storage/new_build.hpp"
#include "tests/support/fake_lookups.hpp"
#include "tests/support/fake_prune.hpp"
#include "tests/support/fake_store_data.hpp"

namespace hookyard::test {

using storage::Build;
using storage::BuildId;
using storage::BuildState;
using storage::Notification;
using storage::TimeMs;
using util::ErrorKind;
using util::make_error;
using util::Result;
using util::Status;

namespace {

// As many claims as the SQLite store supersedes per claim, so both work off a burst the same way.
constexpr int k_supersede_batch = 256;

Status not_found(BuildId id) {
    return make_error(ErrorKind::not_found, "build " + std::to_string(id) + " does not exist");
}

bool same_line(const Build& a, const Build& b) {
    return a.repository == b.repository && a.rule == b.rule && a.ref == b.ref;
}

std::vector<std::string> references(const Build& b) {
    std::vector<std::string> out;
    for (const auto& t : b.tags) out.push_back(b.image + ":" + t);
    return out;
}

class FakeStore final : public storage::Store {
public:
    explicit FakeStore(std::shared_ptr<FakeStoreData> data) : m_d(std::move(data)) {}

    void accept_delivery(storage::Delivery delivery, std::vector<storage::NewBuild> builds,
                         storage::AcceptCallback done) override {
        Result<storage::AcceptOutcome> out = accept(std::move(delivery), builds);
        done(std::move(out));
    }

    Result<std::vector<Build>> insert_builds(std::vector<storage::NewBuild> builds) override {
        std::lock_guard lock(m_d->mutex);
        std::vector<Build> out;
        for (const auto& b : builds) out.push_back(m_d->builds.at(insert(b, "", 0)));
        return out;
    }

    Result<Build> get_build(BuildId id) override {
        std::lock_guard lock(m_d->mutex);
        auto it = m_d->builds.find(id);
        if (it == m_d->builds.end()) return not_found(id).error();
        return it->second;
    }

    Result<std::vector<Build>> list_builds(const storage::BuildFilter& f) override {
        std::lock_guard lock(m_d->mutex);
        return fake_list(m_d->builds, f);
    }

    void set_event_planner(storage::EventPlanner planner) override {
        std::lock_guard lock(m_d->mutex);
        m_d->planner = std::move(planner);
    }

    Result<std::optional<Build>> claim_next_queued() override {
        std::lock_guard lock(m_d->mutex);
        supersede_batch();
        std::set<std::string> busy;
        for (const auto& [id, b] : m_d->builds) {
            if (b.state != BuildState::running) continue;
            for (auto& r : references(b)) busy.insert(std::move(r));
        }
        // Fewest crash interruptions first, then oldest, as the SQLite store orders its claims.
        std::vector<Build*> order;
        for (auto& [id, b] : m_d->builds) order.push_back(&b);
        std::stable_sort(order.begin(), order.end(), [](auto* x, auto* y) { return x->attempts < y->attempts; });
        for (Build* candidate : order) {
            Build& b = *candidate;
            const BuildId id = b.id;
            if (b.state != BuildState::queued || newest_sibling(b) > id) continue;
            const auto refs = references(b);
            if (std::any_of(refs.begin(), refs.end(), [&](const auto& r) { return busy.count(r) > 0; })) continue;
            move_to(b, BuildState::running);
            queue_events(id);
            return std::optional<Build>(b);
        }
        return std::optional<Build>{};
    }

    Result<Build> claim(BuildId id) override {
        std::lock_guard lock(m_d->mutex);
        if (auto st = check_transition(id, BuildState::running); !st) return st.error();
        move_to(m_d->builds.at(id), BuildState::running);
        queue_events(id);
        return m_d->builds.at(id);
    }

    Status set_commit(BuildId id, const std::string& sha) override {
        std::lock_guard lock(m_d->mutex);
        auto it = m_d->builds.find(id);
        if (it == m_d->builds.end()) return not_found(id);
        if (it->second.commit.empty()) it->second.commit = sha;
        return {};
    }

    Status set_tags(BuildId id, const std::vector<std::string>& tags,
                    const std::vector<std::string>& sanitized_tags) override {
        std::lock_guard lock(m_d->mutex);
        auto it = m_d->builds.find(id);
        if (it == m_d->builds.end()) return not_found(id);
        it->second.tags = tags;
        it->second.sanitized_tags = sanitized_tags;
        return {};
    }

    Status start_stage(BuildId id, const std::string& name) override {
        std::lock_guard lock(m_d->mutex);
        auto it = m_d->builds.find(id);
        if (it == m_d->builds.end()) return not_found(id);
        if (it->second.state != BuildState::running) {
            return make_error(ErrorKind::conflict, "build " + std::to_string(id) + " is " +
                                                       std::string(to_string(it->second.state)) + ", not running");
        }
        storage::Stage s;
        s.name = name;
        s.started_at = storage::now_ms();
        it->second.stages.push_back(std::move(s));
        return {};
    }

    Status finish_stage(BuildId id, const std::string& name, BuildState result, const std::string& error) override {
        if (result != BuildState::succeeded && result != BuildState::failed && result != BuildState::canceled) {
            return make_error(ErrorKind::invalid_input, "a stage ends succeeded, failed or canceled");
        }
        std::lock_guard lock(m_d->mutex);
        auto it = m_d->builds.find(id);
        if (it != m_d->builds.end()) {
            for (auto& s : it->second.stages) {
                if (s.name != name || s.state != BuildState::running) continue;
                finish(s, result, error);
                return {};
            }
        }
        return make_error(ErrorKind::not_found, "build " + std::to_string(id) + " has no running stage '" + name + "'");
    }

    Status finish_build(BuildId id, BuildState terminal, const std::string& digest, const std::string& error) override {
        if (!is_terminal(terminal)) return make_error(ErrorKind::invalid_input, "finish_build needs a terminal state");
        std::lock_guard lock(m_d->mutex);
        if (auto st = check_transition(id, terminal); !st) return st;
        Build& b = m_d->builds.at(id);
        move_to(b, terminal);
        b.digest = digest;
        b.error = error;
        queue_events(id);
        return {};
    }

    Result<int> requeue_running(int max_attempts) override {
        std::lock_guard lock(m_d->mutex);
        int requeued = 0;
        for (auto& [id, b] : m_d->builds) {
            if (b.state == BuildState::queued) b.crash_streak = 0;  // not running at this crash
            if (b.state != BuildState::running) continue;
            for (auto& s : b.stages) {
                if (s.state == BuildState::running) finish(s, BuildState::failed, "interrupted by restart");
            }
            if (b.crash_streak + 1 > max_attempts) {
                move_to(b, BuildState::failed);
                b.error = "interrupted by " + std::to_string(max_attempts + 1) +
                          " restarts of hookyard in a row while running; not retried again (retry it by hand)";
                queue_events(id);
                continue;
            }
            b.state = BuildState::queued;
            b.started_at = 0;
            ++b.attempts;
            ++b.crash_streak;
            ++requeued;
        }
        return requeued;
    }

    Status record_pushed(BuildId id, const std::string& image, const std::string& digest) override {
        std::lock_guard lock(m_d->mutex);
        auto it = m_d->builds.find(id);
        if (it == m_d->builds.end()) return not_found(id);
        it->second.pushed[image] = digest;
        m_d->last_push[image] = id;
        return {};
    }

    Status record_identity(BuildId id, const std::string& identity,
                           const std::map<std::string, std::string>& base_images, BuildId reused_from) override {
        std::lock_guard lock(m_d->mutex);
        auto it = m_d->builds.find(id);
        if (it == m_d->builds.end()) return not_found(id);
        it->second.identity = identity;
        it->second.base_images = base_images;
        it->second.reused_from = reused_from;
        return {};
    }
    Result<std::optional<Build>> find_reusable(const std::string& identity) override {
        std::lock_guard lock(m_d->mutex);
        std::optional<Build> found;
        for (const auto& [id, b] : m_d->builds) {
            if (identity.empty() || b.identity != identity || b.state != BuildState::succeeded || b.digest.empty())
                continue;
            if (!found || b.finished_at >= found->finished_at) found = b;
        }
        return found;
    }

    Result<std::optional<Build>> last_succeeded(const std::string& repository, std::size_t rule,
                                                const std::string& ref) override {
        std::lock_guard lock(m_d->mutex);
        return fake_last_succeeded(*m_d, repository, rule, ref);
    }
    Result<std::optional<Build>> last_pusher(const std::string& image) override {
        std::lock_guard lock(m_d->mutex);
        return fake_last_pusher(*m_d, image);
    }

    Result<Build> cancel_build(BuildId id) override {
        std::lock_guard lock(m_d->mutex);
        auto it = m_d->builds.find(id);
        if (it == m_d->builds.end()) return not_found(id).error();
        Build& b = it->second;
        if (b.state == BuildState::queued) {
            move_to(b, BuildState::canceled);
            queue_events(id);
        } else if (b.state == BuildState::running) {
            b.cancel_requested = true;
        } else {
            return make_error(ErrorKind::conflict, "build " + std::to_string(id) + " is already " +
                                                       std::string(to_string(b.state)) + "; nothing to cancel");
        }
        return b;
    }

    Result<Build> retry_build(BuildId id) override {
        std::lock_guard lock(m_d->mutex);
        auto it = m_d->builds.find(id);
        if (it == m_d->builds.end()) return not_found(id).error();
        if (!is_terminal(it->second.state)) {
            return make_error(ErrorKind::conflict, "build " + std::to_string(id) + " is still " +
                                                       std::string(to_string(it->second.state)) +
                                                       "; retry it once it has finished (or cancel it first)");
        }
        return m_d->builds.at(insert(storage::retry_of(it->second), "", id));
    }

    Status append_log(BuildId id, std::string_view text) override {
        if (text.empty()) return {};
        std::lock_guard lock(m_d->mutex);
        auto it = m_d->builds.find(id);
        if (it == m_d->builds.end()) return not_found(id);
        m_d->logs[id].append(text);
        it->second.log_size += static_cast<std::int64_t>(text.size());
        return {};
    }

    Result<storage::LogChunk> read_log(BuildId id, std::int64_t offset, std::size_t max_bytes) override {
        std::lock_guard lock(m_d->mutex);
        auto it = m_d->builds.find(id);
        if (it == m_d->builds.end()) return not_found(id).error();
        const std::string& log = m_d->logs[id];
        storage::LogChunk chunk;
        const auto start = static_cast<std::size_t>(std::clamp<std::int64_t>(offset, 0, std::ssize(log)));
        chunk.data = log.substr(start, max_bytes);
        chunk.next_offset = static_cast<std::int64_t>(start + chunk.data.size());
        chunk.complete = is_terminal(it->second.state) && chunk.next_offset >= std::ssize(log);
        return chunk;
    }

    Result<std::vector<Notification>> claim_due_notifications(int max_targets, int per_target,
                                                              const std::vector<std::string>& busy_targets,
                                                              std::chrono::milliseconds lease) override {
        std::lock_guard lock(m_d->mutex);
        return fake_claim_due_notifications(*m_d, max_targets, per_target, busy_targets, lease);
    }

    Status record_notification_attempt(storage::NotificationId id, const storage::NotificationAttempt& attempt,
                                       bool delivered, TimeMs next_attempt_at) override {
        std::lock_guard lock(m_d->mutex);
        return fake_record_notification_attempt(*m_d, id, attempt, delivered, next_attempt_at);
    }

    Result<int> release_notification_leases() override {
        std::lock_guard lock(m_d->mutex);
        const TimeMs now = storage::now_ms();
        int n = 0;
        for (auto& [id, note] : m_d->notifications) {
            if (note.state != storage::NotificationState::pending || note.next_attempt_at <= now) continue;
            note.next_attempt_at = now;
            ++n;
        }
        return n;
    }

    Result<std::vector<Notification>> list_notifications(BuildId id) override {
        std::lock_guard lock(m_d->mutex);
        std::vector<Notification> out;
        for (const auto& [nid, n] : m_d->notifications) {
            if (n.build_id == id) out.push_back(n);
        }
        return out;
    }

    Status add_callback(BuildId id, const storage::BuildCallback& callback) override {
        std::lock_guard lock(m_d->mutex);
        if (m_d->builds.count(id) == 0) return not_found(id);
        m_d->callbacks[id].push_back(callback);
        return {};
    }

    Result<std::vector<storage::BuildCallback>> list_callbacks(BuildId id) override {
        std::lock_guard lock(m_d->mutex);
        return m_d->callbacks[id];
    }

    Result<storage::StoreStats> stats() override {
        std::lock_guard lock(m_d->mutex);
        return fake_stats(*m_d);
    }

    Result<storage::PruneResult> prune(const storage::PrunePolicy& policy) override {
        std::lock_guard lock(m_d->mutex);
        return fake_prune(*m_d, policy);
    }

    Result<bool> acquire_lease(const std::string& name, const std::string& holder,
                               std::chrono::milliseconds ttl) override {
        std::lock_guard lock(m_d->mutex);
        return fake_lease(m_d->leases, name, holder, ttl);
    }
    Status release_lease(const std::string& name, const std::string& holder) override {
        std::lock_guard lock(m_d->mutex);
        fake_lease(m_d->leases, name, holder, std::nullopt);
        return {};
    }
    Status ping() override { return {}; }
    void flush() override {}

private:
    Result<storage::AcceptOutcome> accept(storage::Delivery delivery, const std::vector<storage::NewBuild>& builds);
    BuildId insert(const storage::NewBuild& nb, const std::string& delivery, BuildId retry_of);
    void supersede_batch();
    BuildId newest_sibling(const Build& b) const;
    Status check_transition(BuildId id, BuildState to) const;
    static void move_to(Build& b, BuildState to);
    static void finish(storage::Stage& s, BuildState result, const std::string& error);
    void queue_events(BuildId id) { fake_queue_events(*m_d, id); }

    std::shared_ptr<FakeStoreData> m_d;
};

Result<storage::AcceptOutcome> FakeStore::accept(storage::Delivery delivery,
                                                 const std::vector<storage::NewBuild>& builds) {
    std::lock_guard lock(m_d->mutex);
    if (auto it = m_d->deliveries.find(delivery.id); it != m_d->deliveries.end()) {
        return storage::AcceptOutcome{true, it->second.second};
    }
    storage::AcceptOutcome out;
    for (const auto& b : builds) out.build_ids.push_back(insert(b, delivery.id, 0));
    if (delivery.received_at == 0) delivery.received_at = storage::now_ms();
    const std::string id = delivery.id;
    m_d->deliveries.emplace(id, std::make_pair(std::move(delivery), out.build_ids));
    return out;
}

BuildId FakeStore::insert(const storage::NewBuild& nb, const std::string& delivery, BuildId retry_of) {
    Build b;
    static_cast<storage::NewBuild&>(b) = nb;
    b.id = m_d->next_build++;
    b.delivery = delivery;
    b.retry_of = retry_of;
    b.created_at = storage::now_ms();
    m_d->builds.emplace(b.id, b);
    queue_events(b.id);
    return b.id;
}

BuildId FakeStore::newest_sibling(const Build& b) const {
    BuildId newest = 0;
    for (const auto& [id, other] : m_d->builds) {
        if (other.state != BuildState::canceled && same_line(other, b)) newest = std::max(newest, id);
    }
    return newest;
}

void FakeStore::supersede_batch() {
    int written = 0;
    for (auto& [id, b] : m_d->builds) {
        if (written == k_supersede_batch) return;
        if (b.state != BuildState::queued) continue;
        const BuildId newest = newest_sibling(b);
        if (newest <= id) continue;
        move_to(b, BuildState::superseded);
        b.superseded_by = newest;
        b.error = "superseded by build " + std::to_string(newest) + " of a newer push";
        ++written;
    }
}

Status FakeStore::check_transition(BuildId id, BuildState to) const {
    auto it = m_d->builds.find(id);
    if (it == m_d->builds.end()) return not_found(id);
    const BuildState from = it->second.state;
    if (!can_transition(from, to)) {
        return make_error(ErrorKind::conflict, "build " + std::to_string(id) + " is " + std::string(to_string(from)) +
                                                   "; it cannot become " + std::string(to_string(to)));
    }
    return {};
}

void FakeStore::move_to(Build& b, BuildState to) {
    b.state = to;
    // The same clock rules as the SQLite store: running starts it, terminal states stop it.
    if (to == BuildState::running) b.started_at = storage::now_ms();
    if (is_terminal(to)) b.finished_at = storage::now_ms();
}

void FakeStore::finish(storage::Stage& s, BuildState result, const std::string& error) {
    s.state = result;
    s.finished_at = storage::now_ms();
    s.duration_ms = s.finished_at - s.started_at;
    s.error = error;
}

}  // namespace

std::unique_ptr<storage::Store> make_fake_store(std::shared_ptr<FakeStoreData> data) {
    if (!data) data = std::make_shared<FakeStoreData>();
    return std::make_unique<FakeStore>(std::move(data));
}

std::unique_ptr<storage::Store> FakeStoreFactory::open(const std::filesystem::path& key) {
    std::lock_guard lock(m_mutex);
    auto& data = m_data[key];
    if (!data) data = std::make_shared<FakeStoreData>();
    return make_fake_store(data);
}

Result<storage::AcceptOutcome> accept_sync(storage::Store& store, storage::Delivery delivery,
                                           std::vector<storage::NewBuild> builds) {
    std::promise<Result<storage::AcceptOutcome>> promise;
    auto future = promise.get_future();
    store.accept_delivery(std::move(delivery), std::move(builds),
                          [&promise](Result<storage::AcceptOutcome> r) { promise.set_value(std::move(r)); });
    return future.get();
}

}  // namespace hookyard::test
