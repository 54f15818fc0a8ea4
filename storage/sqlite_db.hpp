#pragma once
// A small RAII wrapper over one SQLite connection: cached prepared statements, typed binds and columns,
// every return code checked and turned into a util::Error naming the database and the cause.
// A Db is NOT thread-safe; its owner serialises access.

#include <sqlite3.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include "util/result.hpp"

namespace hookyard::storage::sqlite {

class Db;

// A cached prepared statement in use; reset and unbound when it goes out of scope. Bind errors are
// remembered and reported by the next step().
class Stmt {
public:
    Stmt(Db& db, sqlite3_stmt* stmt) : m_db(&db), m_stmt(stmt) {}
    Stmt(Stmt&& other) noexcept : m_db(other.m_db), m_stmt(other.m_stmt), m_bind_rc(other.m_bind_rc) {
        other.m_stmt = nullptr;
    }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    Stmt& operator=(Stmt&&) = delete;
    ~Stmt();

    // Binds parameter `index` (1-based).
    Stmt& bind(int index, std::int64_t value);
    Stmt& bind(int index, std::string_view value);
    Stmt& bind_null(int index);
    // Binds every argument in order from parameter 1.
    template <class... A>
    Stmt& bind_all(const A&... args) {
        int i = 0;
        (bind_one(++i, args), ...);
        return *this;
    }

    // Advances: true when a row is available, false when done; an error for any failure.
    util::Result<bool> step();
    // Runs to completion, ignoring rows.
    util::Status run();
    // Steps through every row, calling `fn()` for each (read the columns with *_at); stops at the first
    // error and returns it.
    template <class F>
    util::Status each_row(F&& fn) {
        for (;;) {
            auto row = step();
            if (!row) return row.error();
            if (!*row) return {};
            fn();
        }
    }

    std::int64_t int_at(int col) const;
    std::string text_at(int col) const;
    bool is_null(int col) const;

private:
    void bind_one(int i, std::int64_t v) { bind(i, v); }
    void bind_one(int i, int v) { bind(i, static_cast<std::int64_t>(v)); }
    void bind_one(int i, std::size_t v) { bind(i, static_cast<std::int64_t>(v)); }
    void bind_one(int i, bool v) { bind(i, static_cast<std::int64_t>(v ? 1 : 0)); }
    void bind_one(int i, const std::string& v) { bind(i, std::string_view(v)); }
    void bind_one(int i, std::string_view v) { bind(i, v); }
    void bind_one(int i, const char* v) { bind(i, std::string_view(v)); }
    void bind_one(int i, std::nullptr_t) { bind_null(i); }

    Db* m_db;
    sqlite3_stmt* m_stmt;
    int m_bind_rc = SQLITE_OK;
};

class Db {
public:
    // Opens or creates the database; applies WAL, synchronous=FULL, foreign keys and a busy timeout.
    static util::Result<std::unique_ptr<Db>> open(const std::string& path);
    ~Db();
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    // Runs one or more statements without parameters.
    util::Status exec(const std::string& sql);
    // The cached prepared statement for `sql`, ready to bind.
    util::Result<Stmt> query(const std::string& sql);

    // Turns SQLite's automatic checkpoint off for this connection (it would run inside the commit that crosses
    // its threshold, holding the write lock through two fsyncs) and counts instead: wal_pages() is the WAL's
    // size in pages after this connection's last commit. Thread-safe to read.
    void count_wal_pages();
    int wal_pages() const { return m_wal_pages.load(); }
    // Copies what it can of the WAL into the database without waiting for or blocking anyone (a PASSIVE
    // checkpoint); the next writer then starts the WAL over.
    util::Status checkpoint_passive();

    std::int64_t last_insert_id() const;
    int changes() const;
    // An error for return code `rc` while doing `what`, with SQLite's message; busy/locked → transient.
    util::Error error(int rc, std::string_view what) const;
    const std::string& path() const { return m_path; }

    // Runs `fn()` (returning a util::Status or util::Result<T>) in one write transaction: BEGIN IMMEDIATE,
    // COMMIT when `fn` succeeds, ROLLBACK when it fails or the commit does. Returns fn's result, or the
    // begin/commit error.
    template <class F>
    std::invoke_result_t<F&> write(F&& fn);
    // Runs `fn()` in one read transaction so everything it reads is one snapshot.
    template <class F>
    std::invoke_result_t<F&> read(F&& fn);

private:
    Db(sqlite3* handle, std::string path) : m_handle(handle), m_path(std::move(path)) {}
    sqlite3* m_handle;
    std::string m_path;
    std::map<std::string, sqlite3_stmt*, std::less<>> m_cache;
    std::atomic<int> m_wal_pages{0};
};

// BEGIN IMMEDIATE on construction (check ok()), ROLLBACK on destruction unless commit() succeeded.
class Transaction {
public:
    explicit Transaction(Db& db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    const util::Status& begun() const { return m_begun; }
    util::Status commit();

private:
    Db& m_db;
    util::Status m_begun;
    bool m_done = false;
};

template <class F>
std::invoke_result_t<F&> Db::write(F&& fn) {
    using R = std::invoke_result_t<F&>;
    Transaction tx(*this);
    if (!tx.begun()) return R(tx.begun().error());
    R out = fn();
    if (!out) return out;  // the transaction rolls back as it goes out of scope
    if (auto c = tx.commit(); !c) return R(c.error());
    return out;
}

template <class F>
std::invoke_result_t<F&> Db::read(F&& fn) {
    using R = std::invoke_result_t<F&>;
    if (auto st = exec("BEGIN"); !st) return R(st.error());
    R out = fn();
    (void)exec("COMMIT");  // a read-only transaction: nothing to lose if ending it fails
    return out;
}

}  // namespace hookyard::storage::sqlite
