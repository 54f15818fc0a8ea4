// The pooled client: takes an idle keep-alive connection for the target (or opens one), runs one
// exchange on it, and gives it back when the server allows reuse.

#include "http/client.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/string.hpp>
#include <map>
#include <mutex>

#include "http/connection.hpp"

namespace hookyard::http {
namespace {

using detail::Connection;
using detail::ExchangeOutcome;
using detail::Target;

class PooledClient final : public Client {
public:
    explicit PooledClient(ClientOptions options)
        : m_options(std::move(options)), m_tls(boost::asio::ssl::context::tls_client) {}

    util::Status init() {
        boost::system::error_code ec;
        m_tls.set_options(boost::asio::ssl::context::default_workarounds | boost::asio::ssl::context::no_sslv2 |
                              boost::asio::ssl::context::no_sslv3 | boost::asio::ssl::context::no_tlsv1 |
                              boost::asio::ssl::context::no_tlsv1_1,
                          ec);
        if (ec) return util::make_error(util::ErrorKind::internal, "cannot configure TLS: " + ec.message());
        if (!m_options.ca_file.empty()) {
            m_tls.load_verify_file(m_options.ca_file, ec);
            if (ec) {
                return util::make_error(util::ErrorKind::invalid_input, "cannot load CA file " + m_options.ca_file +
                                                                            ": " + ec.message() +
                                                                            " (it must be a PEM certificate)");
            }
        }
        return {};
    }

    util::Result<Response> request(const Request& request) override {
        auto target = detail::parse_target(request.url);
        if (!target) return target.error();
        // At most one retry: a pooled connection the server closed while idle fails before any response.
        for (int attempt = 0;; ++attempt) {
            auto connection = take(target->key());
            if (!connection) {
                if (target->tls) {
                    if (auto st = load_system_cas(); !st) return st.error();
                }
                connection = std::make_unique<Connection>(*target, m_tls, m_options);
                if (auto st = connection->connect(); !st) return st.error();
            }
            ExchangeOutcome outcome;
            auto response = connection->exchange(request, *target, outcome);
            if (!response && outcome.failed_before_response && connection->reused() && attempt == 0 &&
                util::is_retryable(response.error().kind)) {
                continue;
            }
            if (response && outcome.keep_alive) give_back(target->key(), std::move(connection));
            return response;
        }
    }

private:
    // The system CA bundle is parsed on the first TLS connection only: plain-HTTP users (and short
    // commands) do not pay for reading a few hundred certificates.
    util::Status load_system_cas() {
        std::lock_guard lock(m_mutex);
        if (m_system_cas_loaded) return {};
        boost::system::error_code ec;
        m_tls.set_default_verify_paths(ec);
        if (ec) return util::make_error(util::ErrorKind::internal, "cannot load the system CAs: " + ec.message());
        m_system_cas_loaded = true;
        return {};
    }

    std::unique_ptr<Connection> take(const std::string& key) {
        std::lock_guard lock(m_mutex);
        auto it = m_idle.find(key);
        if (it == m_idle.end() || it->second.empty()) return nullptr;
        auto c = std::move(it->second.back());
        it->second.pop_back();
        return c;
    }

    void give_back(const std::string& key, std::unique_ptr<Connection> connection) {
        std::lock_guard lock(m_mutex);
        auto& idle = m_idle[key];
        if (idle.size() < m_options.max_idle_per_host) idle.push_back(std::move(connection));
    }

    const ClientOptions m_options;
    boost::asio::ssl::context m_tls;
    std::mutex m_mutex;
    bool m_system_cas_loaded = false;
    std::map<std::string, std::vector<std::unique_ptr<Connection>>> m_idle;
};

}  // namespace

std::string find_header(const Headers& headers, std::string_view name) {
    for (const auto& [k, v] : headers) {
        if (boost::beast::iequals(k, name)) return v;
    }
    return "";
}

util::Result<std::unique_ptr<Client>> make_client(ClientOptions options) {
    auto client = std::make_unique<PooledClient>(std::move(options));
    if (auto st = client->init(); !st) return st.error();
    return std::unique_ptr<Client>(std::move(client));
}

}  // namespace hookyard::http
