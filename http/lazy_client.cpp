#include "http/lazy_client.hpp"

namespace hookyard::http {

util::Result<Response> LazyClient::request(const Request& request) {
    {
        std::lock_guard lock(m_mutex);
        if (!m_client) {
            auto client = make_client(m_options);
            if (!client) return client.error();
            m_client = std::move(*client);
        }
    }
    return m_client->request(request);
}

}  // namespace hookyard::http
