#include "pipeline/cancel.hpp"

namespace hookyard::pipeline {

void CancelToken::cancel(Reason reason) {
    std::map<int, std::function<void()>> callbacks;
    {
        std::lock_guard lock(m_mutex);
        Reason expected = Reason::none;
        if (!m_reason.compare_exchange_strong(expected, reason)) return;
        callbacks.swap(m_callbacks);
    }
    for (auto& [id, fn] : callbacks) fn();
}

int CancelToken::on_cancel(std::function<void()> fn) {
    {
        std::lock_guard lock(m_mutex);
        if (!canceled()) {
            m_callbacks.emplace(m_next_id, std::move(fn));
            return m_next_id++;
        }
    }
    fn();
    return -1;
}

void CancelToken::remove(int id) {
    std::lock_guard lock(m_mutex);
    m_callbacks.erase(id);
}

}  // namespace hookyard::pipeline
