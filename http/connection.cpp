#include "http/connection.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
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

// Starts one asynchronous operation with `start(handler)` and runs the io_context until it completes.
template <class Start>
error_code run_op(asio::io_context& ioc, Start&& start, std::size_t* transferred = nullptr) {
    error_code result = asio::error::would_block;
    start([&](error_code ec, auto... rest) {
        result = ec;
        if constexpr (sizeof...(rest) == 1) {
            if (transferred) *transferred = static_cast<std::size_t>((rest, ...));
        }
    });
    ioc.restart();
    ioc.run();
    return result;
}

bool is_ip_literal(const std::string& host) {
    error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

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

bool is_connection_drop(const error_code& ec) {
    return ec == asio::error::eof || ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
           ec == asio::ssl::error::stream_truncated;
}

}  // namespace

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

beast::tcp_stream& Connection::tcp() { return m_tls ? beast::get_lowest_layer(*m_secure) : *m_plain; }

util::Error Connection::network_error(const error_code& ec, std::string_view what) {
    const std::string where = m_host + ":" + m_port;
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
    error_code ec = run_op(m_ioc, [&](auto handler) {
        resolver.async_resolve(m_host, m_port, [&, handler](error_code e, auto results) mutable {
            endpoints = results;
            handler(e);
        });
    });
    if (ec) return make_error(ErrorKind::transient, "cannot resolve " + m_host + ": " + ec.message());
    tcp().expires_after(m_options.connect_timeout);
    ec = run_op(m_ioc, [&](auto handler) {
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
    ec = run_op(m_ioc, [&](auto handler) { m_secure->async_handshake(asio::ssl::stream_base::client, handler); });
    if (ec) return network_error(ec, "TLS handshake with");
    return {};
}

util::Result<Response> Connection::exchange(const Request& request, const Target& target, ExchangeOutcome& outcome) {
    auto result =
        m_tls ? exchange_on(*m_secure, request, target, outcome) : exchange_on(*m_plain, request, target, outcome);
    ++m_exchanges;
    return result;
}

template <class Stream>
util::Result<Response> Connection::exchange_on(Stream& stream, const Request& request, const Target& target,
                                               ExchangeOutcome& outcome) {
    outcome = {};
    outcome.failed_before_response = true;
    const auto timeout = request.timeout.count() > 0 ? request.timeout : m_options.io_timeout;
    const std::size_t cap = m_options.stream_buffer_size;

    // The body source: a file range streamed with pread, or the in-memory string.
    std::optional<FileReader> file;
    std::uint64_t body_size = request.body.size();
    std::uint64_t file_offset = 0;
    if (request.body_file) {
        file.emplace(request.body_file->path);
        if (!file->ok()) {
            return make_error(ErrorKind::invalid_input,
                              "cannot open request body file " + request.body_file->path + ": " + std::strerror(errno));
        }
        const std::uint64_t size = file->size();
        file_offset = request.body_file->offset;
        if (file_offset > size) {
            return make_error(ErrorKind::invalid_input, "body range starts past the end of " + request.body_file->path);
        }
        body_size = request.body_file->length ? *request.body_file->length : size - file_offset;
        if (file_offset + body_size > size) {
            return make_error(ErrorKind::invalid_input, "body range ends past the end of " + request.body_file->path);
        }
    }

    bhttp::request<bhttp::buffer_body> req;
    req.version(11);
    const auto verb = bhttp::string_to_verb(request.method);
    if (verb == bhttp::verb::unknown) {
        req.method_string(request.method);
    } else {
        req.method(verb);
    }
    req.target(target.path);
    bool has_host = false, has_agent = false;
    for (const auto& [name, value] : request.headers) {
        if (beast::iequals(name, "Host")) has_host = true;
        if (beast::iequals(name, "User-Agent")) has_agent = true;
        if (beast::iequals(name, "Content-Length") || beast::iequals(name, "Transfer-Encoding")) continue;
        req.insert(name, value);
    }
    if (!has_host) req.set(bhttp::field::host, target.host_header);
    if (!has_agent) req.set(bhttp::field::user_agent, m_options.user_agent);
    const bool sends_length =
        body_size > 0 || verb == bhttp::verb::post || verb == bhttp::verb::put || verb == bhttp::verb::patch;
    if (sends_length) req.content_length(body_size);
    req.keep_alive(true);
    req.body().data = nullptr;
    req.body().more = body_size > 0;

    bhttp::request_serializer<bhttp::buffer_body> serializer(req);
    tcp().expires_after(timeout);
    error_code ec = run_op(m_ioc, [&](auto handler) { bhttp::async_write_header(stream, serializer, handler); });
    if (ec) return network_error(ec, "sending a request to");

    std::uint64_t sent = 0;
    while (!serializer.is_done()) {
        std::size_t n = 0;
        const char* data = nullptr;
        if (sent < body_size) {
            if (file) {
                const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(cap, body_size - sent));
                const ssize_t r = file->read_at(m_chunk.get(), want, file_offset + sent);
                if (r <= 0) {
                    return make_error(ErrorKind::invalid_input,
                                      "reading request body file " + request.body_file->path + " failed" +
                                          (r < 0 ? std::string(": ") + std::strerror(errno) : " (file shrank)"));
                }
                n = static_cast<std::size_t>(r);
                data = m_chunk.get();
            } else {
                n = static_cast<std::size_t>(body_size - sent);
                data = request.body.data() + sent;
            }
        }
        req.body().data = const_cast<char*>(data);
        req.body().size = n;
        req.body().more = sent + n < body_size;
        tcp().expires_after(timeout);
        ec = run_op(m_ioc, [&](auto handler) { bhttp::async_write(stream, serializer, handler); });
        if (ec == bhttp::error::need_buffer) ec = {};
        if (ec) {
            // A server may answer early (e.g. 401) and close; try to read that answer below.
            if (!is_connection_drop(ec)) return network_error(ec, "sending a request body to");
            break;
        }
        if (n > 0 && request.on_body_sent) request.on_body_sent(sent, std::string_view(data, n));
        sent += n;
    }
    const error_code write_error = ec;

    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.body_limit(boost::none);
    parser.header_limit(64u << 10);
    if (verb == bhttp::verb::head) parser.skip(true);
    tcp().expires_after(timeout);
    ec = run_op(m_ioc, [&](auto handler) { bhttp::async_read_header(stream, m_buffer, parser, handler); });
    if (ec) {
        if (write_error) return network_error(write_error, "sending a request body to");
        if (is_connection_drop(ec)) return network_error(ec, "reading the response from");
        outcome.failed_before_response = false;
        return network_error(ec, "reading the response from");
    }
    outcome.failed_before_response = false;

    Response response;
    response.status = static_cast<int>(parser.get().result_int());
    for (const auto& field : parser.get()) {
        response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    while (!parser.is_done()) {
        parser.get().body().data = m_chunk.get();
        parser.get().body().size = cap;
        tcp().expires_after(timeout);
        ec = run_op(m_ioc, [&](auto handler) { bhttp::async_read(stream, m_buffer, parser, handler); });
        if (ec == bhttp::error::need_buffer) ec = {};
        if (ec) return network_error(ec, "reading the response body from");
        const std::size_t n = cap - parser.get().body().size;
        if (n == 0) continue;
        const std::string_view chunk(m_chunk.get(), n);
        if (request.on_response_data) {
            if (auto st = request.on_response_data(chunk); !st) return st.error();
        } else {
            if (response.body.size() + n > request.max_response_body) {
                return make_error(ErrorKind::invalid_input, "response from " + m_host + ":" + m_port +
                                                                " is larger than " +
                                                                std::to_string(request.max_response_body) + " bytes");
            }
            response.body.append(chunk);
        }
    }
    outcome.keep_alive = !write_error && parser.get().keep_alive() && sent == body_size;
    return response;
}

}  // namespace hookyard::http::detail
