#include "tests/support/fake_checkout.hpp"

#include <filesystem>
#include <fstream>

namespace hookyard::test {

util::Result<pipeline::Checkout> FakeCheckout::checkout(const pipeline::CheckoutRequest& req) {
    {
        std::unique_lock lock(m_mutex);
        m_requests.push_back(req);
        ++m_waiting;
        m_cv.wait(lock, [this] { return !m_hold; });
        --m_waiting;
        if (m_error) return *m_error;
    }
    pipeline::Checkout out;
    out.dir = pipeline::WorkDir(req.dest_dir);
    for (const auto& [path, content] : m_files) {
        const auto file = std::filesystem::path(req.dest_dir) / path;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream(file) << content;
    }
    out.commit = req.commit.empty() ? m_commit : req.commit;
    out.ref = req.ref;
    return out;
}

util::Result<bool> FakeCheckout::is_strict_ancestor(const std::string&, const std::string& ancestor,
                                                    const std::string& descendant) {
    std::lock_guard lock(m_mutex);
    return m_ancestry.count({ancestor, descendant}) > 0;
}

void FakeCheckout::add_ancestry(const std::string& ancestor, const std::string& descendant) {
    std::lock_guard lock(m_mutex);
    m_ancestry.insert({ancestor, descendant});
}

void FakeCheckout::fail_with(util::Error error) {
    std::lock_guard lock(m_mutex);
    m_error = std::move(error);
}

void FakeCheckout::hold() {
    std::lock_guard lock(m_mutex);
    m_hold = true;
}

void FakeCheckout::release() {
    {
        std::lock_guard lock(m_mutex);
        m_hold = false;
    }
    m_cv.notify_all();
}

bool FakeCheckout::holding() const {
    std::lock_guard lock(m_mutex);
    return m_waiting > 0 && m_hold;
}

std::vector<pipeline::CheckoutRequest> FakeCheckout::requests() const {
    std::lock_guard lock(m_mutex);
    return m_requests;
}

}  // namespace hookyard::test
