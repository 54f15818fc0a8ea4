#pragma once
// The socket and HTTP/1.1 wire pieces the test HTTP server and client share: loopback listen/connect,
// buffered reads, complete sends, header parsing. Plain POSIX sockets; nothing here validates input.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace hookyard::test {

// A socket listening on 127.0.0.1 at a free port; throws std::runtime_error (naming `who`) when it cannot.
struct Listener {
    int fd = -1;
    int port = 0;
};
Listener listen_loopback(const std::string& who);

// A connected socket to 127.0.0.1:port, or -1.
int connect_loopback(int port);

// Sends all of `data`; false once the peer is gone.
bool send_all(int fd, std::string_view data);

// Closes with a reset (SO_LINGER 0), as a crashed server or a middlebox would.
void reset_close(int fd);

// The header fields of an HTTP head ("start line\r\nName: value\r\n…"), names lower-cased, values trimmed.
std::map<std::string, std::string> parse_header_fields(std::string_view head);

// Buffered reads from a socket; every call fails (false/nullopt) once the peer closes.
class SocketReader {
public:
    explicit SocketReader(int fd) : m_fd(fd) {}
    // Everything up to and including `delimiter` (at most 1 MiB).
    std::optional<std::string> until(const std::string& delimiter);
    // Exactly n bytes, passed to `sink(data, size)` in pieces; false when the peer closes or sink refuses.
    template <class Sink>
    bool exactly(std::size_t n, Sink&& sink) {
        while (n > 0) {
            if (m_buf.empty() && !fill()) return false;
            const std::size_t take = n < m_buf.size() ? n : m_buf.size();
            if (!sink(m_buf.data(), take)) return false;
            m_buf.erase(0, take);
            n -= take;
        }
        return true;
    }
    // Everything until the peer closes, passed to `sink`.
    template <class Sink>
    void to_end(Sink&& sink) {
        while (!m_buf.empty() || fill()) {
            if (!sink(m_buf.data(), m_buf.size())) return;
            m_buf.clear();
        }
    }

private:
    bool fill();
    int m_fd;
    std::string m_buf;
};

}  // namespace hookyard::test
