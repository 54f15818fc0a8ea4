#include "http/server.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "util/log.hpp"

namespace hookyard::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// State the sessions share with the server: options, the handler, and in-flight accounting for stop().
struct Shared {
    ServerOptions options;
    RequestHandler handler;
    std::mutex mutex;
    std::condition_variable idle;
    int in_flight = 0;
    std::atomic<std::uint64_t> answered{0};
    std::atomic<int> connections{0};  // live sessions, for max_connections

    void begin() {
        std::lock_guard lock(mutex);
        ++in_flight;
    }
    void end() {
        ++answered;
        release();
    }
    // Ends a begin() that counted no request: a hand-off of an answer from another thread (see on_read).
    void release() {
        std::lock_guard lock(mutex);
        if (--in_flight == 0) idle.notify_all();
    }
};

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket socket, std::shared_ptr<Shared> shared)
        : m_stream(std::move(socket)), m_shared(std::move(shared)) {
        // Read once: remote_endpoint() fails after the peer goes away.
        beast::error_code ec;
        const auto peer = m_stream.socket().remote_endpoint(ec);
        if (!ec) m_remote = peer.address().to_string();
        ++m_shared->connections;
    }
    ~Session() { --m_shared->connections; }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void run() {
        asio::dispatch(m_stream.get_executor(), [self = shared_from_this()] { self->read(); });
    }

private:
    void read() {
        // A fresh parser per message: limits and state never leak from the previous request.
        m_parser.emplace();
        m_parser->body_limit(m_shared->options.body_limit);
        m_parser->header_limit(static_cast<std::uint32_t>(m_shared->options.header_limit));
        // The whole request must arrive within read_timeout (slowloris), and an idle keep-alive connection
        // gets the same time for its next request.
        m_stream.expires_after(m_shared->options.read_timeout);
        http::async_read(m_stream, m_buffer, *m_parser,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted) return close();
        if (ec == beast::error::timeout) return close();
        if (ec == http::error::body_limit) return fail(413, "request body larger than the 25 MiB limit");
        if (ec == http::error::header_limit) return fail(431, "request headers larger than the 16 KiB limit");
        if (ec) {
            if (ec.category() == beast::error_code(http::error::bad_target).category()) {
                return fail(400, "malformed HTTP request: " + ec.message());
            }
            return close();  // connection reset and the like: nobody to answer
        }
        auto msg = m_parser->release();
        ServerRequest req;
        req.method = std::string(msg.method_string());
        req.target = std::string(msg.target());
        req.remote_address = m_remote;
        for (const auto& field : msg) {
            std::string name(field.name_string());
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            req.headers[name] = std::string(field.value());
        }
        req.body = std::move(msg.body());
        m_keep_alive = msg.keep_alive();
        m_version = msg.version();
        // The handler may take a while (group commit); the write sets its own deadline.
        m_stream.expires_never();
        m_shared->begin();
        m_shared->handler(std::move(req), [self = shared_from_this()](ServerResponse r) mutable {
            // The handler may answer from any thread (the store's commit thread): hop to our strand. Our
            // reference moves into the posted handler, so whatever thread drops the responder afterwards
            // holds nothing, and the session (socket, strand, timers) is destroyed on an io thread.
            // The hand-off counts as in flight until post() has returned and its copies of the strand are
            // gone: else the answer could be written and stop() destroy the io_context (and the strand's
            // mutex) while this thread is still inside post().
            const auto shared = self->m_shared;
            shared->begin();
            {
                auto executor = self->m_stream.get_executor();
                asio::post(std::move(executor),
                           [self = std::move(self), r = std::move(r)]() mutable { self->write(std::move(r), true); });
            }
            shared->release();
        });
    }

    void fail(unsigned status, const std::string& message) {
        m_keep_alive = false;
        m_version = 11;
        m_shared->begin();
        write(json_error(status, message), false);
    }

    void write(ServerResponse r, bool keep_alive_allowed) {
        if (r.stream) return write_stream(std::move(r));
        auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), m_version);
        res->set(http::field::server, "hookyard");
        res->set(http::field::content_type, r.content_type);
        for (auto& [name, value] : r.headers) res->set(name, value);
        res->body() = std::move(r.body);
        res->keep_alive(keep_alive_allowed && m_keep_alive);
        res->prepare_payload();
        m_stream.expires_after(m_shared->options.write_timeout);
        http::async_write(m_stream, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
            self->m_shared->end();
            if (ec || !res->keep_alive()) return self->finish_after_error_response(!ec && !res->keep_alive());
            self->read();
        });
    }

    // A streamed body: the header, then one chunk per non-empty step, polling every k_stream_poll, then the
    // last chunk and close. The request counts as answered once the header is out, so a client following a
    // log never holds up a graceful stop.
    void write_stream(ServerResponse r) {
        auto res = std::make_shared<http::response<http::empty_body>>(static_cast<http::status>(r.status), m_version);
        res->set(http::field::server, "hookyard");
        res->set(http::field::content_type, r.content_type);
        for (auto& [name, value] : r.headers) res->set(name, value);
        res->chunked(true);
        res->keep_alive(false);
        auto sr = std::make_shared<http::response_serializer<http::empty_body>>(*res);
        m_body_stream = std::move(r.stream);
        m_stream.expires_after(m_shared->options.write_timeout);
        http::async_write_header(m_stream, *sr,
                                 [self = shared_from_this(), res, sr](beast::error_code ec, std::size_t) {
                                     self->m_shared->end();
                                     if (ec) return self->close();
                                     self->stream_next();
                                 });
    }

    void stream_next() {
        StreamStep step = m_body_stream();
        if (step.data.empty() && !step.done) {
            m_timer.expires_after(k_stream_poll);
            m_timer.async_wait([self = shared_from_this()](beast::error_code ec) {
                if (!ec) self->stream_next();
            });
            return;
        }
        auto data = std::make_shared<std::string>(std::move(step.data));
        const bool done = step.done;
        m_stream.expires_after(m_shared->options.write_timeout);
        auto after = [self = shared_from_this(), data, done](beast::error_code ec, std::size_t) {
            if (ec) return self->close();
            if (!done) return self->stream_next();
            self->m_stream.expires_after(self->m_shared->options.write_timeout);
            asio::async_write(self->m_stream, http::make_chunk_last(),
                              [self](beast::error_code, std::size_t) { self->finish_after_error_response(false); });
        };
        if (data->empty()) return after({}, 0);
        asio::async_write(m_stream, http::make_chunk(asio::buffer(*data)), std::move(after));
    }

    // After an answer that ends the connection: half-close, then drain what the client still sends (a
    // client uploading a 26 MiB body must be able to read our 413 instead of getting a reset).
    void finish_after_error_response(bool drain) {
        beast::error_code ec;
        m_stream.socket().shutdown(tcp::socket::shutdown_send, ec);
        if (!drain) return close();
        m_stream.expires_after(std::chrono::seconds(5));
        drain_some();
    }

    void drain_some() {
        m_stream.async_read_some(asio::buffer(m_scratch),
                                 [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                     self->m_drained += n;
                                     if (ec || self->m_drained > 4 * k_max_body_bytes) return self->close();
                                     self->drain_some();
                                 });
    }

    void close() {
        beast::error_code ec;
        m_stream.socket().shutdown(tcp::socket::shutdown_both, ec);
        m_stream.socket().close(ec);
    }

    // How long a streamed body waits before asking its producer again after an empty step.
    static constexpr std::chrono::milliseconds k_stream_poll{200};

    beast::tcp_stream m_stream;
    asio::steady_timer m_timer{m_stream.get_executor()};
    BodyStream m_body_stream;
    beast::flat_buffer m_buffer;
    std::optional<http::request_parser<http::string_body>> m_parser;
    std::shared_ptr<Shared> m_shared;
    std::string m_remote;  // the peer's IP address, for rate limits
    bool m_keep_alive = false;
    unsigned m_version = 11;
    std::array<char, 64 * 1024> m_scratch{};
    std::size_t m_drained = 0;
};

class BeastServer final : public Server {
public:
    // The acceptor lives on its own strand: the accept loop and stop()'s close never run concurrently.
    BeastServer(std::shared_ptr<Shared> shared) : m_shared(std::move(shared)), m_acceptor(asio::make_strand(m_ioc)) {}

    ~BeastServer() override { stop(); }

    util::Status listen(const tcp::endpoint& endpoint) {
        beast::error_code ec;
        m_acceptor.open(endpoint.protocol(), ec);
        if (!ec) m_acceptor.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) m_acceptor.bind(endpoint, ec);
        if (!ec) m_acceptor.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) {
            return util::make_error(util::ErrorKind::internal,
                                    "cannot listen on " + m_shared->options.listen + ": " + ec.message() +
                                        " (is another process using the port? change server.listen)");
        }
        m_port = m_acceptor.local_endpoint().port();
        accept();
        // While a request waits for its commit no I/O is pending on its session; the guard keeps the threads
        // alive for the answer even after the acceptor has closed (graceful stop).
        m_work.emplace(m_ioc.get_executor());
        const int n = std::max(1, m_shared->options.threads);
        for (int i = 0; i < n; ++i) m_threads.emplace_back([this] { m_ioc.run(); });
        return {};
    }

    int port() const override { return m_port; }
    std::uint64_t answered() const override { return m_shared->answered.load(); }

    void stop() override {
        if (m_stopped.exchange(true)) return;
        // 1. Stop accepting.
        asio::post(m_acceptor.get_executor(), [this] {
            beast::error_code ec;
            m_acceptor.close(ec);
            m_accept_timer.cancel();
        });
        // 2. Let requests already read finish (their commit is in progress; the answer must go out).
        {
            std::unique_lock lock(m_shared->mutex);
            if (!m_shared->idle.wait_for(lock, m_shared->options.drain_timeout,
                                         [&] { return m_shared->in_flight == 0; })) {
                util::log_warn("http", std::to_string(m_shared->in_flight) +
                                           " request(s) still unanswered at shutdown; closing their connections");
            }
        }
        // 3. Drop idle keep-alive connections and stop the threads.
        m_work.reset();
        m_ioc.stop();
        for (auto& t : m_threads) t.join();
        m_threads.clear();
    }

private:
    void accept() {
        m_acceptor.async_accept(asio::make_strand(m_ioc), [this](beast::error_code ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted || !m_acceptor.is_open()) return;
            if (ec == asio::error::no_descriptors || ec.value() == ENFILE) return back_off(ec);
            m_backoff = std::chrono::milliseconds(0);
            if (ec) {
                util::log_warn("http", "accept failed: " + ec.message());
            } else if (m_shared->connections.load() >= m_shared->options.max_connections) {
                // Over the cap: closed at once, so a flood costs one descriptor per connection for a moment.
                if (m_refused++ % 1000 == 0) {
                    util::log_warn("http", "server.max_connections (" +
                                               std::to_string(m_shared->options.max_connections) +
                                               ") reached; closing new connections until some end");
                }
                beast::error_code ignored;
                socket.close(ignored);
            } else {
                beast::error_code nd;
                socket.set_option(tcp::no_delay(true), nd);
                std::make_shared<Session>(std::move(socket), m_shared)->run();
            }
            accept();
        });
    }

    // Out of file descriptors: accepting again at once would fail again at once (a busy loop). Waits, doubling
    // up to a second, for connections to end; the pending ones stay in the listen backlog.
    void back_off(const beast::error_code& ec) {
        m_backoff = std::min(std::chrono::milliseconds(1000), std::max(std::chrono::milliseconds(10), m_backoff * 2));
        if (m_backoff_logged++ % 100 == 0) {
            util::log_warn("http", "accept failed: " + ec.message() + "; retrying in " +
                                       std::to_string(m_backoff.count()) +
                                       " ms (raise ulimit -n or lower "
                                       "server.max_connections)");
        }
        m_accept_timer.expires_after(m_backoff);
        m_accept_timer.async_wait([this](beast::error_code wait_ec) {
            if (!wait_ec && m_acceptor.is_open()) accept();
        });
    }

    std::shared_ptr<Shared> m_shared;
    asio::io_context m_ioc;
    tcp::acceptor m_acceptor;
    asio::steady_timer m_accept_timer{m_acceptor.get_executor()};  // on the acceptor's strand
    std::chrono::milliseconds m_backoff{0};
    std::uint64_t m_refused = 0;
    std::uint64_t m_backoff_logged = 0;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> m_work;
    std::vector<std::thread> m_threads;
    std::atomic<bool> m_stopped{false};
    int m_port = 0;
};

}  // namespace

bool split_listen(const std::string& listen, std::string& host, unsigned short& port) {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos || colon + 1 >= listen.size()) return false;
    host = listen.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) host = "0.0.0.0";
    const char* first = listen.data() + colon + 1;
    const char* last = listen.data() + listen.size();
    auto [p, ec] = std::from_chars(first, last, port);
    return ec == std::errc() && p == last;
}

util::Result<std::unique_ptr<Server>> Server::start(const ServerOptions& options, RequestHandler handler) {
    std::string host;
    unsigned short port = 0;
    if (!split_listen(options.listen, host, port)) {
        return util::make_error(util::ErrorKind::invalid_input,
                                "server.listen '" + options.listen + "' is not host:port, e.g. 0.0.0.0:8080");
    }
    beast::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) {
        return util::make_error(util::ErrorKind::invalid_input,
                                "server.listen host '" + host + "' is not an IP address (use 0.0.0.0 or 127.0.0.1)");
    }
    auto shared = std::make_shared<Shared>();
    shared->options = options;
    shared->handler = std::move(handler);
    auto server = std::make_unique<BeastServer>(shared);
    if (auto st = server->listen(tcp::endpoint(address, port)); !st) return st.error();
    return std::unique_ptr<Server>(std::move(server));
}

}  // namespace hookyard::http
