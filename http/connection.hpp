#pragma once
// One HTTP/1.1 connection (plain TCP or TLS) driven synchronously: every operation is started
// asynchronously on the connection's own io_context and run to completion on the calling thread, so
// Beast's per-operation timeouts (tcp_stream::expires_after) apply. Internal to hookyard_http.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "http/client.hpp"

namespace hookyard::http::detail {

// Where a connection goes; `key()` names its keep-alive pool.
struct Target {
    bool tls = false;
    std::string host;         // host name or IP literal (no brackets), used for DNS, SNI and verification
    std::string port;         // decimal
    std::string host_header;  // value of the Host header (as written in the URL)
    std::string path;         // origin-form request target: path[?query]
    std::string key() const { return (tls ? "https://" : "http://") + host + ":" + port; }
};

// Parses an absolute http(s) URL; invalid_input names what is wrong with it.
util::Result<Target> parse_target(std::string_view url);

// What an exchange learned besides the response: whether the connection may be reused and whether
// the failure happened before any response byte arrived (so a retry on a fresh connection is safe).
struct ExchangeOutcome {
    bool keep_alive = false;
    bool failed_before_response = false;
};

class FileReader;

// A request body: the in-memory string or a range of a file, read piece by piece (never whole).
class BodySource {
public:
    // Opens the body of `request`; invalid_input when its file cannot be opened or the range is outside it.
    static util::Result<BodySource> open(const Request& request);
    std::uint64_t size() const { return m_size; }
    // The bytes at `position` (at most `capacity`, copied into `buffer` for files); empty at the end.
    util::Result<std::string_view> read(std::uint64_t position, char* buffer, std::size_t capacity) const;

private:
    const std::string* m_text = nullptr;
    std::shared_ptr<FileReader> m_file;
    std::string m_path;
    std::uint64_t m_offset = 0;
    std::uint64_t m_size = 0;
};

class Connection {
public:
    // `tls_context` must outlive the connection; it is only used when target.tls.
    Connection(const Target& target, boost::asio::ssl::context& tls_context, const ClientOptions& options);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Resolves, connects and (for TLS) handshakes with SNI and host-name verification.
    util::Status connect();

    // Writes `request` (body streamed) and reads the response. `outcome` is always filled.
    util::Result<Response> exchange(const Request& request, const Target& target, ExchangeOutcome& outcome);

    // True once the connection has served at least one exchange (it came from the idle pool).
    bool reused() const { return m_exchanges > 0; }

private:
    template <class Stream>
    util::Result<Response> exchange_on(Stream& stream, const Request& request, const Target& target,
                                       ExchangeOutcome& outcome);
    template <class Stream>
    util::Status write_request(Stream& stream, const Request& request, const Target& target, const BodySource& body,
                               std::chrono::milliseconds timeout, std::uint64_t& sent,
                               boost::system::error_code& write_error);
    // Writes all of `bytes` (within `timeout`).
    template <class Stream>
    boost::system::error_code write_all(Stream& stream, boost::asio::const_buffer bytes,
                                        std::chrono::milliseconds timeout);
    template <class Stream>
    util::Result<Response> read_response(Stream& stream, const Request& request,
                                         boost::beast::http::response_parser<boost::beast::http::buffer_body>& parser,
                                         std::chrono::milliseconds timeout);
    util::Error network_error(const boost::system::error_code& ec, std::string_view what);
    // Starts one asynchronous operation with `start(handler)` and runs the io_context until it completes
    // (or, once *m_abort is true, cancels it).
    template <class Start>
    boost::system::error_code run_io(Start&& start);
    boost::beast::tcp_stream& tcp();

    const ClientOptions& m_options;
    std::string m_host;
    std::string m_port;
    bool m_tls = false;
    boost::asio::io_context m_ioc;
    const std::atomic<bool>* m_abort = nullptr;  // the current request's Request::abort
    std::optional<boost::beast::tcp_stream> m_plain;
    std::optional<boost::beast::ssl_stream<boost::beast::tcp_stream>> m_secure;
    boost::beast::flat_buffer m_buffer;
    std::unique_ptr<char[]> m_chunk;
    int m_exchanges = 0;
};

}  // namespace hookyard::http::detail
