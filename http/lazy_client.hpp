#pragma once
// An http::Client that creates the real client at its first request: a process that may never send
// anything (an idle service's notifications) then never loads OpenSSL's TLS state (several MB of resident
// memory).

#include <memory>
#include <mutex>

#include "http/client.hpp"

namespace hookyard::http {

class LazyClient : public Client {
public:
    explicit LazyClient(ClientOptions options) : m_options(std::move(options)) {}
    // Creates the client with the options given at construction on the first call (thread-safe; a failure
    // to create it is this request's error and the next request tries again), then forwards.
    util::Result<Response> request(const Request& request) override;

private:
    ClientOptions m_options;
    std::mutex m_mutex;
    std::unique_ptr<Client> m_client;  // set once under m_mutex, then only read
};

}  // namespace hookyard::http
