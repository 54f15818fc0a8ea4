#include "http/connection.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <cerrno>
#include <cstring>

namespace hookyard::http::detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::system::error_code;
using util::ErrorKind;
using util::make_error;

namespace {

// How often a request with Request::abort checks it while waiting.
constexpr std::chrono::milliseconds k_abort_poll{100};

bool is_ip_literal(const std::string& host) {
    error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

bool is_connection_drop(const error_code& ec) {
    return ec == asio::error::eof || ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
           ec == asio::ssl::error::stream_truncated;
}

}  // namespace

// A file opened for pread, closed on scope exit.
class FileReader {
public:
    explicit FileReader(const std::string& path) : m_fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
    ~FileReader() {
        if (m_fd >= 0) ::close(m_fd);
    }
    FileReader(const FileReader&) = delete;
    FileReader& operator=(const FileReader&) = delete;
    bool ok() const { return m_fd >= 0; }
    std::uint64_t size() const {
        struct stat st {};
        return ::fstat(m_fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
    }
    // Reads up to `n` bytes at `offset`; returns bytes read, or -1 on error.
    ssize_t read_at(char* buf, std::size_t n, std::uint64_t offset) const {
        for (;;) {
            const ssize_t r = ::pread(m_fd, buf, n, static_cast<off_t>(offset));
            if (r < 0 && errno == EINTR) continue;
            return r;
        }
    }

private:
    int m_fd = -1;
};

util::Result<Target> parse_target(std::string_view url) {
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed) return make_error(ErrorKind::invalid_input, "invalid URL '" + std::string(url) + "'");
    const auto& u = *parsed;
    Target t;
    if (u.scheme() == "https") {
        t.tls = true;
    } else if (u.scheme() != "http") {
        return make_error(ErrorKind::invalid_input,
                          "unsupported URL scheme '" + std::string(u.scheme()) + "' (use http:// or https://)");
    }
    if (u.has_userinfo()) {
        return make_error(ErrorKind::invalid_input,
                          "URLs with user:password@ are refused; send credentials "
                          "in an Authorization header instead");
    }
    t.host = u.host_address();
    if (t.host.empty()) return make_error(ErrorKind::invalid_input, "URL '" + std::string(url) + "' has no host");
    t.port = u.has_port() ? std::string(u.port()) : (t.tls ? "443" : "80");
    t.host_header = u.encoded_host_and_port();
    t.path = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
    if (u.has_query()) t.path += "?" + std::string(u.encoded_query());
    return t;
}

Connection::Connection(const Target& target, asio::ssl::context& tls_context, const ClientOptions& options)
    : m_options(options),
      m_host(target.host),
      m_port(target.port),
      m_tls(target.tls),
      m_chunk(new char[options.stream_buffer_size]) {
    if (m_tls) {
        m_secure.emplace(m_ioc, tls_context);
    } else {
        m_plain.emplace(m_ioc);
    }
}

Connection::~Connection() {
    error_code ignored;
    tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
}

template <class Start>
error_code Connection::run_io(Start&& start) {
    error_code result = asio::error::would_block;
    start([&](error_code ec, auto&&...) { result = ec; });
    m_ioc.restart();
    if (m_abort == nullptr) {
        m_ioc.run();
        return result;
    }
    while (result == asio::error::would_block) {
        if (m_abort->load()) {
            tcp().cancel();  // the handler runs with operation_aborted
            m_ioc.run();
            break;
        }
        m_ioc.run_for(k_abort_poll);
    }
    return result;
}

beast::tcp_stream& Connection::tcp() { return m_tls ? beast::get_lowest_layer(*m_secure) : *m_plain; }

util::Error Connection::network_error(const error_code& ec, std::string_view what) {
    const std::string where = m_host + ":" + m_port;
    if (m_abort != nullptr && m_abort->load()) {
        return make_error(ErrorKind::canceled, std::string(what) + " " + where + " canceled");
    }
    if (ec == beast::error::timeout) {
        return make_error(ErrorKind::timeout, std::string(what) + " " + where + " timed out");
    }
    if (ec.category() == asio::error::get_ssl_category()) {
        if (ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
            long verify = m_secure ? SSL_get_verify_result(m_secure->native_handle()) : X509_V_OK;
            std::string reason = verify != X509_V_OK ? X509_verify_cert_error_string(verify)
                                                     : "host name does not match the certificate";
            return make_error(ErrorKind::invalid_input,
                              "TLS certificate of " + where + " failed verification (" + reason +
                                  "); if the server uses a private CA, give its certificate as ca_file");
        }
        return make_error(ErrorKind::transient, "TLS error " + std::string(what) + " " + where + ": " + ec.message());
    }
    return make_error(ErrorKind::transient, std::string(what) + " " + where + " failed: " + ec.message());
}

util::Status Connection::connect() {
    asio::ip::tcp::resolver resolver(m_ioc);
    asio::ip::tcp::resolver::results_type endpoints;
    error_code ec = run_io([&](auto handler) {
        resolver.async_resolve(m_host, m_port, [&, handler](error_code e, auto results) mutable {
            endpoints = results;
            handler(e);
        });
    });
    if (ec) return make_error(ErrorKind::transient, "cannot resolve " + m_host + ": " + ec.message());
    tcp().expires_after(m_options.connect_timeout);
    ec = run_io([&](auto handler) {
        tcp().async_connect(endpoints, [handler](error_code e, const auto&) mutable { handler(e); });
    });
    if (ec) return network_error(ec, "connecting to");
    tcp().socket().set_option(asio::ip::tcp::no_delay(true), ec);
    if (!m_tls) return {};

    SSL* ssl = m_secure->native_handle();
    // SSL_set_tlsext_host_name is a macro with a C cast; call what it expands to.
    if (!is_ip_literal(m_host) && SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                           const_cast<char*>(m_host.c_str())) != 1) {
        return make_error(ErrorKind::internal, "cannot set TLS SNI for " + m_host);
    }
    if (m_options.verify_tls) {
        m_secure->set_verify_mode(asio::ssl::verify_peer);
        m_secure->set_verify_callback(asio::ssl::host_name_verification(m_host));
    } else {
        m_secure->set_verify_mode(asio::ssl::verify_none);
    }
    tcp().expires_after(m_options.connect_timeout);
    ec = run_io([&](auto handler) { m_secure->async_handshake(asio::ssl::stream_base::client, handler); });
    if (ec) return network_error(ec, "TLS handshake with");
    return {};
}

util::Result<Response> Connection::exchange(const Request& request, const Target& target, ExchangeOutcome& outcome) {
    m_abort = request.abort;
    auto result =
        m_tls ? exchange_on(*m_secure, request, target, outcome) : exchange_on(*m_plain, request, target, outcome);
    m_abort = nullptr;  // the flag belongs to this request; a pooled connection must not keep it
    if (!result && result.error().kind == ErrorKind::canceled) outcome.keep_alive = false;
    ++m_exchanges;
    return result;
}

util::Result<BodySource> BodySource::open(const Request& request) {
    BodySource body;
    body.m_text = &request.body;
    body.m_size = request.body.size();
    if (!request.body_file) return body;
    const auto& range = *request.body_file;
    body.m_file = std::make_shared<FileReader>(range.path);
    if (!body.m_file->ok()) {
        return make_error(ErrorKind::invalid_input,
                          "cannot open request body file " + range.path + ": " + std::strerror(errno));
    }
    const std::uint64_t size = body.m_file->size();
    if (range.offset > size) {
        return make_error(ErrorKind::invalid_input, "body range starts past the end of " + range.path);
    }
    body.m_offset = range.offset;
    body.m_size = range.length ? *range.length : size - range.offset;
    body.m_path = range.path;
    if (range.offset + body.m_size > size) {
        return make_error(ErrorKind::invalid_input, "body range ends past the end of " + range.path);
    }
    return body;
}

util::Result<std::string_view> BodySource::read(std::uint64_t position, char* buffer, std::size_t capacity) const {
    if (position >= m_size) return std::string_view();
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(capacity, m_size - position));
    if (!m_file) return std::string_view(m_text->data() + position, static_cast<std::size_t>(m_size - position));
    const ssize_t r = m_file->read_at(buffer, want, m_offset + position);
    if (r <= 0) {
        return make_error(ErrorKind::invalid_input,
                          "reading request body file " + m_path + " failed" +
                              (r < 0 ? std::string(": ") + std::strerror(errno) : std::string(" (the file shrank)")));
    }
    return std::string_view(buffer, static_cast<std::size_t>(r));
}

template <class Stream>
util::Result<Response> Connection::exchange_on(Stream& stream, const Request& request, const Target& target,
                                               ExchangeOutcome& outcome) {
    outcome = {};
    outcome.failed_before_response = true;
    auto body = BodySource::open(request);
    if (!body) return body.error();
    const auto timeout = request.timeout.count() > 0 ? request.timeout : m_options.io_timeout;

    std::uint64_t sent = 0;
    error_code write_error;
    if (auto st = write_request(stream, request, target, *body, timeout, sent, write_error); !st) return st.error();

    // Read the answer even when the body could not be written: a server may answer early (401, 413) and
    // close. A connection dropped before any answer byte may be retried by the caller on a fresh one.
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.body_limit(boost::none);
    parser.header_limit(64u << 10);
    if (bhttp::string_to_verb(request.method) == bhttp::verb::head) parser.skip(true);
    tcp().expires_after(timeout);
    const error_code ec = run_io([&](auto handler) { bhttp::async_read_header(stream, m_buffer, parser, handler); });
    if (ec) {
        if (write_error) return network_error(write_error, "sending a request body to");
        // A timeout is not a stale connection: the request may have been processed, so no silent retry.
        outcome.failed_before_response = is_connection_drop(ec);
        return network_error(ec, "reading the response from");
    }
    outcome.failed_before_response = false;
    auto response = read_response(stream, request, parser, timeout);
    if (response) outcome.keep_alive = !write_error && parser.get().keep_alive() && sent == body->size();
    return response;
}

namespace {

// Characters that would end a request line's part or a header field early (the rest would pass for fields or
// requests of its own): for a header value, line breaks and NUL; for the method, target and header names,
// also spaces (and ':' in a name).
constexpr std::string_view k_breaks_value("\r\n\0", 3);
constexpr std::string_view k_breaks_target("\r\n\0 \t", 5);
constexpr std::string_view k_breaks_name("\r\n\0 \t:", 6);

bool fits(std::string_view text, std::string_view forbidden) {
    return !text.empty() && text.find_first_of(forbidden) == std::string_view::npos;
}

// The request line and header fields of `request`, ending with the empty line; an error naming the part that
// cannot be sent as it is (never a header's value: it may hold a credential).
util::Result<std::string> request_head(const Request& request, const Target& target, const std::string& user_agent,
                                       std::uint64_t body_size) {
    if (!fits(request.method, k_breaks_name) || !fits(target.path, k_breaks_target)) {
        return make_error(ErrorKind::invalid_input, "the HTTP method or request target holds a space or line break");
    }
    std::string head = request.method + " " + target.path + " HTTP/1.1\r\n";
    bool has_host = false, has_agent = false;
    for (const auto& [name, value] : request.headers) {
        if (!fits(name, k_breaks_name) || value.find_first_of(k_breaks_value) != std::string::npos) {
            std::string shown = name.substr(0, 64);
            for (char& c : shown) c = (c < 0x20 || c == 0x7f) ? '?' : c;
            return make_error(ErrorKind::invalid_input, "HTTP header '" + shown +
                                                            "' holds a line break, NUL or a space where none may be; "
                                                            "fix the header where it is configured");
        }
        if (beast::iequals(name, "Host")) has_host = true;
        if (beast::iequals(name, "User-Agent")) has_agent = true;
        if (beast::iequals(name, "Content-Length") || beast::iequals(name, "Transfer-Encoding")) continue;
        head += name + ": " + value + "\r\n";
    }
    if (!has_host) head += "Host: " + target.host_header + "\r\n";
    if (!has_agent) head += "User-Agent: " + user_agent + "\r\n";
    // The body always goes with a Content-Length (never chunked), and POST/PUT/PATCH send one even when empty.
    const bool sends_length =
        body_size > 0 || request.method == "POST" || request.method == "PUT" || request.method == "PATCH";
    if (sends_length) head += "Content-Length: " + std::to_string(body_size) + "\r\n";
    return head + "\r\n";
}

}  // namespace

template <class Stream>
error_code Connection::write_all(Stream& stream, asio::const_buffer bytes, std::chrono::milliseconds timeout) {
    tcp().expires_after(timeout);
    return run_io([&](auto handler) { asio::async_write(stream, bytes, handler); });
}

template <class Stream>
util::Status Connection::write_request(Stream& stream, const Request& request, const Target& target,
                                       const BodySource& body, std::chrono::milliseconds timeout, std::uint64_t& sent,
                                       error_code& write_error) {
    // The head is written by hand, the body as raw bytes: Beast's serializer would instantiate the whole
    // TLS and TCP write machinery once per buffer type it can produce (a third of this file's compile time).
    const auto head = request_head(request, target, m_options.user_agent, body.size());
    if (!head) return head.error();
    error_code ec = write_all(stream, asio::buffer(*head), timeout);
    if (ec) return network_error(ec, "sending a request to");
    while (sent < body.size()) {
        auto piece = body.read(sent, m_chunk.get(), m_options.stream_buffer_size);
        if (!piece) return piece.error();
        if (piece->empty()) return make_error(ErrorKind::internal, "a request body ended before its declared size");
        ec = write_all(stream, asio::buffer(piece->data(), piece->size()), timeout);
        if (ec) {
            if (!is_connection_drop(ec)) return network_error(ec, "sending a request body to");
            write_error = ec;
            return {};
        }
        if (request.on_body_sent) request.on_body_sent(sent, *piece);
        sent += piece->size();
    }
    return {};
}

template <class Stream>
util::Result<Response> Connection::read_response(Stream& stream, const Request& request,
                                                 bhttp::response_parser<bhttp::buffer_body>& parser,
                                                 std::chrono::milliseconds timeout) {
    Response response;
    response.status = static_cast<int>(parser.get().result_int());
    for (const auto& field : parser.get()) {
        response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    const std::size_t cap = m_options.stream_buffer_size;
    while (!parser.is_done()) {
        parser.get().body().data = m_chunk.get();
        parser.get().body().size = cap;
        tcp().expires_after(timeout);
        auto ec = run_io([&](auto handler) { bhttp::async_read(stream, m_buffer, parser, handler); });
        if (ec == bhttp::error::need_buffer) ec = {};
        if (ec) return network_error(ec, "reading the response body from");
        const std::size_t n = cap - parser.get().body().size;
        if (n == 0) continue;
        const std::string_view chunk(m_chunk.get(), n);
        if (request.on_response_data) {
            if (auto st = request.on_response_data(chunk); !st) return st.error();
        } else if (response.body.size() + n > request.max_response_body) {
            return make_error(ErrorKind::invalid_input, "response from " + m_host + ":" + m_port + " is larger than " +
                                                            std::to_string(request.max_response_body) + " bytes");
        } else {
            response.body.append(chunk);
        }
    }
    return response;
}

}  // namespace hookyard::http::detail
