#include "pipeline/scheduler.hpp"

#include "util/log.hpp"

namespace hookyard::pipeline {
namespace {

constexpr const char* k_component = "scheduler";
// The least time between two claims that wakes (not finished builds) ask for.
constexpr std::chrono::milliseconds k_claim_gap{10};

class PlainBuildEvents : public BuildEvents {
public:
    explicit PlainBuildEvents(storage::Store& store) : m_store(store) {}
    void started(const storage::Build&) override {}
    util::Status finish(const storage::Build& build, const RunOutcome& outcome) override {
        return m_store.finish_build(build.id, outcome.state, outcome.digest, outcome.error);
    }

private:
    storage::Store& m_store;
};

}  // namespace

std::unique_ptr<BuildEvents> make_plain_build_events(storage::Store& store) {
    return std::make_unique<PlainBuildEvents>(store);
}

Scheduler::Scheduler(storage::Store& store, BuildRunner& runner, BuildEvents& events, SchedulerOptions options)
    : m_store(store),
      m_runner(runner),
      m_events(events),
      m_options(options),
      // Wakes for a wake(), a finished build, the next cancel poll or the store poll, whichever is first.
      m_loop([this] { step(); }, std::min(options.poll_interval, options.cancel_poll)) {
    if (m_options.concurrency < 1) m_options.concurrency = 1;
}

Scheduler::~Scheduler() { stop(); }

void Scheduler::start() { m_loop.start(); }

void Scheduler::wake() { m_loop.wake(); }

void Scheduler::stop() {
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping) return;
        m_stopping = true;
        for (auto& slot : m_slots) slot->token.cancel(CancelToken::Reason::shutdown);
    }
    m_loop.stop();
    // Join outside the lock: a finishing build wakes the (stopped) loop and takes m_mutex.
    std::vector<std::unique_ptr<Slot>> slots;
    {
        std::lock_guard lock(m_mutex);
        slots.swap(m_slots);
    }
    for (auto& slot : slots) {
        if (slot->thread.joinable()) slot->thread.join();
    }
}

int Scheduler::running() const {
    std::lock_guard lock(m_mutex);
    return static_cast<int>(m_slots.size());
}

void Scheduler::step() {
    // Every accepted push wakes the loop. A claim is a write transaction that the intake's group commit
    // waits behind, so wakes within k_claim_gap of the last claim are folded into one; a freed slot
    // (a build finished) is filled at once.
    if (reap() == 0) std::this_thread::sleep_until(m_next_claim);
    if (std::chrono::steady_clock::now() >= m_next_cancel_poll) {
        poll_cancels();
        m_next_cancel_poll = std::chrono::steady_clock::now() + m_options.cancel_poll;
    }
    if (m_options.heartbeat.count() > 0 && std::chrono::steady_clock::now() >= m_next_heartbeat) {
        heartbeat();
        m_next_heartbeat = std::chrono::steady_clock::now() + m_options.heartbeat;
    }
    claim_more();
    m_next_claim = std::chrono::steady_clock::now() + k_claim_gap;
}

void Scheduler::heartbeat() {
    if (auto st = m_store.renew_build_leases(); !st) {
        util::log_warn(k_component, "cannot renew the leases of running builds: " + st.error().message);
    }
    auto requeued = m_store.requeue_expired(m_options.max_recoveries);
    if (!requeued) {
        util::log_warn(k_component, "cannot re-queue builds of stopped instances: " + requeued.error().message);
    } else if (*requeued > 0) {
        util::log_info(k_component, "re-queued " + std::to_string(*requeued) +
                                        " build(s) whose instance stopped renewing its lease");
    }
}

bool Scheduler::held() {
    auto reasons = m_options.hold ? m_options.hold() : std::vector<std::string>{};
    if (reasons != m_hold_reasons) {
        std::string joined;
        for (const auto& r : reasons) joined += (joined.empty() ? "" : "; ") + r;
        if (reasons.empty()) {
            util::log_info(k_component, "claiming builds again");
        } else {
            util::log_warn(k_component, "queued builds wait: " + joined);
        }
        m_hold_reasons = std::move(reasons);
    }
    return !m_hold_reasons.empty();
}

void Scheduler::claim_more() {
    while (true) {
        {
            std::lock_guard lock(m_mutex);
            if (m_stopping || static_cast<int>(m_slots.size()) >= m_options.concurrency) return;
        }
        if (held()) return;
        auto claimed = m_store.claim_next_queued();
        if (!claimed) {
            util::log_error(k_component, "cannot claim a queued build: " + claimed.error().message);
            return;
        }
        if (!claimed->has_value()) return;
        auto slot = std::make_unique<Slot>();
        slot->build = std::move(**claimed);
        util::log_info(k_component, "build " + std::to_string(slot->build.id) + " of " + slot->build.repository + " " +
                                        slot->build.ref + " started");
        try {
            m_events.started(slot->build);
        } catch (const std::exception& e) {
            util::log_error(k_component,
                            "build " + std::to_string(slot->build.id) + " start event failed: " + e.what());
        }
        Slot& ref = *slot;
        std::lock_guard lock(m_mutex);
        ref.thread = std::thread([this, &ref] { run_slot(ref); });
        m_slots.push_back(std::move(slot));
    }
}

void Scheduler::run_slot(Slot& slot) {
    RunOutcome outcome;
    try {
        outcome = m_runner.run(slot.build, slot.token);
    } catch (const std::exception& e) {
        outcome.state = storage::BuildState::failed;
        outcome.error = std::string("internal error: ") + e.what();
    }
    if (outcome.interrupted || slot.token.reason() == CancelToken::Reason::shutdown) {
        util::log_info(k_component,
                       "build " + std::to_string(slot.build.id) + " interrupted by shutdown; it resumes after restart");
    } else if (auto held = m_store.hold_claim(slot.build); held && !*held) {
        util::log_warn(k_component, "build " + std::to_string(slot.build.id) +
                                        ": this instance lost its lease on it (it stalled longer than cluster.lease "
                                        "and another instance took the build over); its result (" +
                                        std::string(storage::to_string(outcome.state)) + ") is discarded");
    } else {
        if (slot.token.reason() == CancelToken::Reason::canceled && outcome.state != storage::BuildState::succeeded) {
            outcome.state = storage::BuildState::canceled;
            if (outcome.error.empty()) outcome.error = "canceled";
        }
        if (auto st = finish_safely(slot.build, outcome); !st) {
            util::log_error(k_component,
                            "build " + std::to_string(slot.build.id) + " could not be finished: " + st.error().message);
        } else {
            util::log_info(k_component, "build " + std::to_string(slot.build.id) + " " +
                                            std::string(storage::to_string(outcome.state)) +
                                            (outcome.error.empty() ? "" : ": " + outcome.error));
        }
    }
    slot.done = true;
    wake();
}

util::Status Scheduler::finish_safely(const storage::Build& build, RunOutcome outcome) {
    // Nothing thrown while recording the end (a planner, the store) may escape the build thread: that would
    // terminate the process, and recovery would re-run the same build into the same exception.
    try {
        return m_events.finish(build, outcome);
    } catch (const std::exception& e) {
        util::log_error(k_component, "build " + std::to_string(build.id) + " finish threw: " + e.what());
        outcome.state = storage::BuildState::failed;
        outcome.error = std::string("internal error while finishing the build: ") + e.what();
    }
    try {
        return m_events.finish(build, outcome);
    } catch (const std::exception& e) {
        return util::make_error(util::ErrorKind::internal, e.what());
    }
}

int Scheduler::reap() {
    std::vector<std::unique_ptr<Slot>> finished;
    {
        std::lock_guard lock(m_mutex);
        for (auto it = m_slots.begin(); it != m_slots.end();) {
            if ((*it)->done) {
                finished.push_back(std::move(*it));
                it = m_slots.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& slot : finished) slot->thread.join();
    return static_cast<int>(finished.size());
}

void Scheduler::poll_cancels() {
    std::vector<std::pair<storage::BuildId, CancelToken*>> running;
    {
        std::lock_guard lock(m_mutex);
        for (auto& slot : m_slots) {
            if (!slot->done && !slot->token.canceled()) running.emplace_back(slot->build.id, &slot->token);
        }
    }
    // Slots are only removed by this thread (reap), so the tokens stay valid here.
    for (auto& [id, token] : running) {
        auto build = m_store.get_build(id);
        if (build && build->cancel_requested) {
            util::log_info(k_component, "build " + std::to_string(id) + " cancel requested");
            token->cancel(CancelToken::Reason::canceled);
        }
    }
}

}  // namespace hookyard::pipeline
