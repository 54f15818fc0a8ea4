#pragma once
// The HTTP/1.1 transport on Boost.Beast: keep-alive sessions, each on its own strand, a fresh parser per
// message with header and body limits, a deadline on every read and write (a slow sender cannot hold a
// connection), a cap on open connections (accept backs off while the process is out of descriptors), and
// a graceful stop. It knows nothing about routes: it hands each request to a
// RequestHandler and writes whatever comes back, on the session's strand.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "http/server_types.hpp"
#include "util/result.hpp"

namespace hookyard::http {

struct ServerOptions {
    std::string listen = "0.0.0.0:8080";  // host:port; port 0 picks a free one (see Server::port)
    int threads = 2;
    std::size_t body_limit = k_max_body_bytes;      // larger bodies get 413 without being read
    std::size_t header_limit = 16 * 1024;           // larger header blocks get 431
    std::chrono::milliseconds read_timeout{15000};  // a whole request (or an idle keep-alive's next one)
    std::chrono::milliseconds write_timeout{15000};
    std::chrono::milliseconds drain_timeout{10000};  // stop(): longest wait for in-flight requests
    int max_connections = 1024;  // open connections; a connection beyond it is closed as soon as accepted
};

class Server {
public:
    // Binds and starts serving on `options.threads` threads. Fails (invalid_input) for a malformed listen
    // address and (internal) when the address cannot be bound, naming it.
    static util::Result<std::unique_ptr<Server>> start(const ServerOptions& options, RequestHandler handler);

    virtual ~Server() = default;
    // The bound TCP port.
    virtual int port() const = 0;
    // Stops accepting, waits (up to drain_timeout) until every request already read has been answered,
    // then closes all connections and joins the threads. Idempotent; call from any thread but a server thread.
    virtual void stop() = 0;
    // Requests answered since start (for logs and tests).
    virtual std::uint64_t answered() const = 0;
};

// Splits "host:port" ("[::1]:80" for IPv6); false when malformed.
bool split_listen(const std::string& listen, std::string& host, unsigned short& port);

}  // namespace hookyard::http
