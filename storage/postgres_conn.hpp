#pragma once
// A small RAII wrapper over one libpq connection: parameterised queries ($1, $2 …, parameters sent as
// text, bytea as binary), results as Rows, every failure turned into a util::Error that names the database
// (its URL with the password redacted) and the cause. A Conn reconnects on the next call after the server
// went away. NOT thread-safe: its owner serialises access.

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "util/result.hpp"

namespace hookyard::storage::postgres {

// One query parameter.
class Param {
public:
    Param(std::int64_t v) : m_value(std::to_string(v)) {}
    Param(int v) : m_value(std::to_string(v)) {}
    Param(std::size_t v) : m_value(std::to_string(v)) {}
    Param(bool v) : m_value(v ? "1" : "0") {}
    // Text: made valid UTF-8 without NUL bytes (PostgreSQL's text type refuses both; SQLite stored them).
    Param(std::string_view v);
    Param(const std::string& v) : Param(std::string_view(v)) {}
    Param(const char* v) : Param(std::string_view(v)) {}
    // Raw bytes for a bytea column, unchanged.
    static Param bytes(std::string_view v);

    const std::string& value() const { return m_value; }
    bool binary() const { return m_binary; }

private:
    Param() = default;
    std::string m_value;
    bool m_binary = false;
};

// The rows of one result (shared: copies are cheap).
class Rows {
public:
    explicit Rows(PGresult* result) : m_result(result, PQclear) {}
    int size() const { return PQntuples(m_result.get()); }
    bool empty() const { return size() == 0; }
    std::int64_t int_at(int row, int col) const;
    std::string text_at(int row, int col) const;
    // A bytea column, decoded from the text form "\x…".
    std::string bytes_at(int row, int col) const;
    // Rows an INSERT/UPDATE/DELETE touched.
    int affected() const;

private:
    std::shared_ptr<PGresult> m_result;
};

// Reads one row's columns left to right.
class Cursor {
public:
    Cursor(const Rows& rows, int row) : m_rows(rows), m_row(row) {}
    std::int64_t num() { return m_rows.int_at(m_row, m_col++); }
    std::string text() { return m_rows.text_at(m_row, m_col++); }

private:
    const Rows& m_rows;
    int m_row;
    int m_col = 0;
};

// Calls fn(Cursor&) for every row of `rows`, in order.
template <class F>
void for_each_row(const Rows& rows, F&& fn) {
    for (int i = 0; i < rows.size(); ++i) {
        Cursor c(rows, i);
        fn(c);
    }
}

class Conn;

// The rows `sql` returns, each read into a T by `read(Cursor&)`.
template <class T, class F>
util::Result<std::vector<T>> query_all(Conn& db, const std::string& sql, const std::vector<Param>& params, F&& read);

class Conn {
public:
    // Connects to `url` (a libpq URL or key=value string). Fails with the redacted URL and libpq's reason.
    static util::Result<std::unique_ptr<Conn>> open(const std::string& url);
    ~Conn();

    // Runs one statement with `params` bound to $1, $2, …
    util::Result<Rows> query(const std::string& sql, const std::vector<Param>& params = {});
    // Like query(), ignoring the rows.
    util::Status exec(const std::string& sql, const std::vector<Param>& params = {});
    // The first column of the first row as an integer (0 without a row).
    util::Result<std::int64_t> single_int(const std::string& sql, const std::vector<Param>& params = {});

    // BEGIN, fn() (a util::Status or util::Result<T>), then COMMIT if it succeeded or ROLLBACK if not; fn's
    // result or the COMMIT's error. When another instance's transaction crossed this one (a deadlock or a
    // serialization failure), all of it runs again, at most 3 times in all. A connection the server closed
    // meanwhile (a restart) is opened again first.
    template <class F>
    std::invoke_result_t<F&> transaction(F&& fn);

    // On a connection that ran LISTEN: waits up to `timeout` for NOTIFY messages and returns how many came
    // (0 after the timeout); transient when the connection broke (open a new one).
    util::Result<int> wait_notifications(std::chrono::milliseconds timeout);
    // The URL with its password redacted: what messages name.
    const std::string& name() const { return m_name; }

    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;

private:
    Conn(PGconn* conn, std::string name) : m_conn(conn), m_name(std::move(name)) {}
    // Reconnects when the connection broke; an error when that fails too.
    util::Status ensure_connected();
    util::Error error_of(const PGresult* result, std::string_view sql) const;

    PGconn* m_conn;
    std::string m_name;
    // Inside transaction(): a broken connection is then an error, never a silent reconnect that would run
    // the rest of the transaction's statements on their own.
    bool m_in_transaction = false;
};

// True for the errors that running the transaction again may cure.
bool is_retryable_conflict(const util::Error& e);

template <class F>
std::invoke_result_t<F&> Conn::transaction(F&& fn) {
    using R = std::invoke_result_t<F&>;
    for (int attempt = 1;; ++attempt) {
        auto begun = exec("BEGIN");
        // A connection the server dropped since its last use (a restart) fails its first statement; nothing
        // ran yet, so the transaction begins again on a new connection.
        if (!begun && PQstatus(m_conn) != CONNECTION_OK) begun = exec("BEGIN");
        if (!begun) return R(begun.error());
        m_in_transaction = true;
        R out = fn();
        if (out) {
            auto committed = exec("COMMIT");
            m_in_transaction = false;
            if (committed) return out;
            out = R(committed.error());
        } else {
            (void)exec("ROLLBACK");  // fails only when the connection broke, which ends the transaction too
            m_in_transaction = false;
        }
        if (attempt == 3 || !is_retryable_conflict(out.error())) return out;
    }
}

template <class T, class F>
util::Result<std::vector<T>> query_all(Conn& db, const std::string& sql, const std::vector<Param>& params, F&& read) {
    auto rows = db.query(sql, params);
    if (!rows) return rows.error();
    std::vector<T> out;
    out.reserve(static_cast<std::size_t>(rows->size()));
    for_each_row(*rows, [&](Cursor& c) { out.push_back(read(c)); });
    return out;
}

}  // namespace hookyard::storage::postgres
