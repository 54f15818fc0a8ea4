#include "tests/support/http_wire.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace hookyard::test {

Listener listen_loopback(const std::string& who) {
    Listener l;
    l.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(l.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(l.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(l.fd, 64) != 0 ||
        ::getsockname(l.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        const std::string cause = std::strerror(errno);
        ::close(l.fd);
        throw std::runtime_error(who + " cannot listen on 127.0.0.1: " + cause);
    }
    l.port = ntohs(addr.sin_port);
    return l;
}

int connect_loopback(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t w = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (w <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(w));
    }
    return true;
}

void reset_close(int fd) {
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
}

std::map<std::string, std::string> parse_header_fields(std::string_view head) {
    std::map<std::string, std::string> out;
    std::size_t pos = head.find("\r\n");
    while (pos != std::string_view::npos && pos + 2 < head.size()) {
        const auto next = head.find("\r\n", pos + 2);
        const auto line = head.substr(pos + 2, next == std::string_view::npos ? next : next - pos - 2);
        pos = next;
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string name(line.substr(0, colon));
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
        out[name] = std::string(value);
    }
    return out;
}

std::optional<std::string> SocketReader::until(const std::string& delimiter) {
    for (;;) {
        const auto pos = m_buf.find(delimiter);
        if (pos != std::string::npos) {
            std::string out = m_buf.substr(0, pos + delimiter.size());
            m_buf.erase(0, pos + delimiter.size());
            return out;
        }
        if (m_buf.size() > (1u << 20) || !fill()) return std::nullopt;
    }
}

bool SocketReader::fill() {
    char tmp[64 * 1024];
    const ssize_t n = ::recv(m_fd, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    m_buf.append(tmp, static_cast<std::size_t>(n));
    return true;
}

}  // namespace hookyard::test
