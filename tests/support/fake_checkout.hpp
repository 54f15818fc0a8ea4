#pragma once
// A CheckoutService for unit tests: writes a given file tree into the request's directory, as a checkout
// of `commit` would, without git. Can fail with a given error, or block until released (to test cancel).

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "pipeline/checkout/checkout.hpp"

namespace hookyard::test {

class FakeCheckout final : public pipeline::CheckoutService {
public:
    // `files`: path relative to the work dir → contents. Every checkout writes them.
    using Files = std::map<std::string, std::string>;
    explicit FakeCheckout(Files files, std::string commit = std::string(40, 'c'))
        : m_files(std::move(files)), m_commit(std::move(commit)) {}

    // Writes the files into req.dest_dir and returns a Checkout owning it (the commit given at construction).
    util::Result<pipeline::Checkout> checkout(const pipeline::CheckoutRequest& req) override;

    // True for the pairs given to add_ancestry().
    util::Result<bool> is_strict_ancestor(const std::string& repo_key, const std::string& ancestor,
                                          const std::string& descendant) override;
    // Makes `ancestor` a strict ancestor of `descendant` for is_strict_ancestor().
    void add_ancestry(const std::string& ancestor, const std::string& descendant);

    // The next checkouts fail with `error`.
    void fail_with(util::Error error);
    // The next checkouts block until release() (holding() tells when one is waiting).
    void hold();
    void release();
    bool holding() const;
    // Every request seen, in order.
    std::vector<pipeline::CheckoutRequest> requests() const;

private:
    std::map<std::string, std::string> m_files;
    std::string m_commit;
    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    std::optional<util::Error> m_error;
    bool m_hold = false;
    int m_waiting = 0;
    std::vector<pipeline::CheckoutRequest> m_requests;
    std::set<std::pair<std::string, std::string>> m_ancestry;  // (ancestor, descendant)
};

}  // namespace hookyard::test
