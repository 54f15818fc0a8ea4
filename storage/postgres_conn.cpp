#include "storage/postgres_conn.hpp"

#include <poll.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util/log.hpp"

namespace hookyard::storage::postgres {
namespace {

using util::ErrorKind;

// The length of the valid UTF-8 sequence starting at `s[i]`, 0 when it is not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
    }
    return n;
}

// SQLSTATE → kind: connection trouble, shutdowns, deadlocks and serialization failures are worth retrying;
// a unique violation is a conflict; a newer schema or a bad statement is not the caller's to retry.
ErrorKind kind_of(std::string_view state) {
    if (state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0 || state == "40001" || state == "40P01" ||
        state == "53300") {
        return ErrorKind::transient;
    }
    if (state == "23505") return ErrorKind::conflict;
    return ErrorKind::internal;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : 0;
}

}  // namespace

Param::Param(std::string_view v) {
    m_value.reserve(v.size());
    for (std::size_t i = 0; i < v.size();) {
        const std::size_t n = utf8_sequence(v, i);
        if (n == 0) {
            m_value += "\xEF\xBF\xBD";  // U+FFFD for a byte that starts no valid sequence
            ++i;
            continue;
        }
        if (v[i] != '\0') m_value.append(v, i, n);
        i += n;
    }
}

Param Param::bytes(std::string_view v) {
    Param p;
    p.m_value = std::string(v);
    p.m_binary = true;
    return p;
}

std::int64_t Rows::int_at(int row, int col) const {
    return std::strtoll(PQgetvalue(m_result.get(), row, col), nullptr, 10);
}

std::string Rows::text_at(int row, int col) const {
    return std::string(PQgetvalue(m_result.get(), row, col),
                       static_cast<std::size_t>(PQgetlength(m_result.get(), row, col)));
}

std::string Rows::bytes_at(int row, int col) const {
    const std::string hex = text_at(row, col);
    std::string out;
    if (hex.size() < 2 || hex[0] != '\\' || hex[1] != 'x') return out;
    out.reserve((hex.size() - 2) / 2);
    for (std::size_t i = 2; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<char>(hex_value(hex[i]) * 16 + hex_value(hex[i + 1])));
    }
    return out;
}

int Rows::affected() const { return std::atoi(PQcmdTuples(m_result.get())); }

util::Result<std::unique_ptr<Conn>> Conn::open(const std::string& url) {
    const std::string name = util::redact(url);
    PGconn* conn = PQconnectdb(url.c_str());
    if (conn == nullptr) return util::make_error(ErrorKind::internal, "libpq could not allocate a connection");
    if (PQstatus(conn) != CONNECTION_OK) {
        std::string why = PQerrorMessage(conn);
        PQfinish(conn);
        while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
        return util::make_error(ErrorKind::transient,
                                "cannot connect to PostgreSQL at " + name + ": " + util::redact(why) +
                                    " (check the storage: URL, that the server runs and "
                                    "accepts this user; a password goes in ${VAR} or PGPASSFILE)");
    }
    // Notices (e.g. "relation already exists, skipping") would go to stderr unredacted: drop them.
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    return std::unique_ptr<Conn>(new Conn(conn, name));
}

Conn::~Conn() { PQfinish(m_conn); }

util::Status Conn::ensure_connected() {
    if (PQstatus(m_conn) == CONNECTION_OK) return {};
    if (!m_in_transaction) {
        PQreset(m_conn);
        if (PQstatus(m_conn) == CONNECTION_OK) return {};
    }
    return util::make_error(ErrorKind::transient, "lost the connection to PostgreSQL at " + m_name + ": " +
                                                      util::redact(PQerrorMessage(m_conn)));
}

util::Result<int> Conn::wait_notifications(std::chrono::milliseconds timeout) {
    const int fd = PQsocket(m_conn);
    pollfd p{fd, POLLIN, 0};
    const int ready = fd < 0 ? -1 : ::poll(&p, 1, static_cast<int>(timeout.count()));
    if ((ready < 0 && errno != EINTR) || (ready > 0 && PQconsumeInput(m_conn) == 0)) {
        return util::make_error(ErrorKind::transient, "lost the listening connection to PostgreSQL at " + m_name +
                                                          ": " + util::redact(PQerrorMessage(m_conn)));
    }
    int n = 0;
    while (PGnotify* note = PQnotifies(m_conn)) {
        ++n;
        PQfreemem(note);
    }
    return n;
}

util::Error Conn::error_of(const PGresult* result, std::string_view sql) const {
    const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    std::string why = result ? PQresultErrorMessage(result) : PQerrorMessage(m_conn);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    const ErrorKind kind = state ? kind_of(state) : ErrorKind::transient;
    return util::make_error(
        kind, "PostgreSQL " + m_name + ": " + util::redact(why) + " (in: " + std::string(sql.substr(0, 80)) + ")");
}

util::Result<Rows> Conn::query(const std::string& sql, const std::vector<Param>& params) {
    if (auto st = ensure_connected(); !st) return st.error();
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    for (const auto& p : params) {
        values.push_back(p.value().c_str());
        lengths.push_back(static_cast<int>(p.value().size()));
        formats.push_back(p.binary() ? 1 : 0);
    }
    // Without parameters PQexec, which also runs several statements at once (migrations).
    PGresult* r = params.empty() ? PQexec(m_conn, sql.c_str())
                                 : PQexecParams(m_conn, sql.c_str(), static_cast<int>(params.size()), nullptr,
                                                values.data(), lengths.data(), formats.data(), 0);
    const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        util::Error e = error_of(r, sql);
        PQclear(r);
        return e;
    }
    return Rows(r);
}

util::Status Conn::exec(const std::string& sql, const std::vector<Param>& params) {
    auto r = query(sql, params);
    if (!r) return r.error();
    return {};
}

util::Result<std::int64_t> Conn::single_int(const std::string& sql, const std::vector<Param>& params) {
    auto r = query(sql, params);
    if (!r) return r.error();
    return r->empty() ? 0 : r->int_at(0, 0);
}

bool is_retryable_conflict(const util::Error& e) {
    return e.kind == ErrorKind::transient &&
           (e.message.find("deadlock") != std::string::npos || e.message.find("serializ") != std::string::npos);
}

}  // namespace hookyard::storage::postgres
