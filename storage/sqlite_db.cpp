#include "storage/sqlite_db.hpp"

namespace hookyard::storage::sqlite {

using util::ErrorKind;

Stmt::~Stmt() {
    if (m_stmt != nullptr) {
        // Reset/clear report the last step's error, which step() already returned; nothing to check here.
        sqlite3_reset(m_stmt);
        sqlite3_clear_bindings(m_stmt);
    }
}

Stmt& Stmt::bind(int index, std::int64_t value) {
    const int rc = sqlite3_bind_int64(m_stmt, index, value);
    if (rc != SQLITE_OK && m_bind_rc == SQLITE_OK) m_bind_rc = rc;
    return *this;
}

Stmt& Stmt::bind(int index, std::string_view value) {
    const int rc = sqlite3_bind_text64(m_stmt, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    if (rc != SQLITE_OK && m_bind_rc == SQLITE_OK) m_bind_rc = rc;
    return *this;
}

Stmt& Stmt::bind_null(int index) {
    const int rc = sqlite3_bind_null(m_stmt, index);
    if (rc != SQLITE_OK && m_bind_rc == SQLITE_OK) m_bind_rc = rc;
    return *this;
}

util::Result<bool> Stmt::step() {
    if (m_bind_rc != SQLITE_OK) return m_db->error(m_bind_rc, "binding a parameter");
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return m_db->error(rc, sqlite3_sql(m_stmt));
}

util::Status Stmt::run() {
    for (;;) {
        auto r = step();
        if (!r) return r.error();
        if (!*r) return {};
    }
}

std::int64_t Stmt::int_at(int col) const { return sqlite3_column_int64(m_stmt, col); }

std::string Stmt::text_at(int col) const {
    const auto* p = sqlite3_column_blob(m_stmt, col);
    const int n = sqlite3_column_bytes(m_stmt, col);
    if (p == nullptr || n <= 0) return {};
    return std::string(static_cast<const char*>(p), static_cast<std::size_t>(n));
}

bool Stmt::is_null(int col) const { return sqlite3_column_type(m_stmt, col) == SQLITE_NULL; }

util::Result<std::unique_ptr<Db>> Db::open(const std::string& path) {
    sqlite3* handle = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &handle,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = "cannot open SQLite database " + path + ": " +
                          (handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc)) +
                          " (check that the directory exists and is writable)";
        sqlite3_close(handle);
        return util::make_error(ErrorKind::internal, msg);
    }
    std::unique_ptr<Db> db(new Db(handle, path));
    if (const int brc = sqlite3_busy_timeout(handle, 5000); brc != SQLITE_OK) return db->error(brc, "busy_timeout");
    // WAL lets readers proceed while the writer commits; synchronous=FULL makes every commit durable.
    auto st = db->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
    if (!st) return st.error();
    return db;
}

void Db::count_wal_pages() {
    sqlite3_wal_hook(
        m_handle,
        [](void* self, sqlite3*, const char*, int pages) {
            static_cast<Db*>(self)->m_wal_pages.store(pages);
            return SQLITE_OK;
        },
        this);
}

util::Status Db::checkpoint_passive() {
    const int rc = sqlite3_wal_checkpoint_v2(m_handle, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return rc == SQLITE_OK ? util::Status{} : error(rc, "wal_checkpoint(PASSIVE)");
}

Db::~Db() {
    for (auto& [sql, stmt] : m_cache) sqlite3_finalize(stmt);
    sqlite3_close(m_handle);
}

util::Status Db::exec(const std::string& sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(m_handle, sql.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        auto e = error(rc, sql);
        e.message += " (" + msg + ")";
        return e;
    }
    return {};
}

util::Result<Stmt> Db::query(const std::string& sql) {
    auto it = m_cache.find(sql);
    if (it == m_cache.end()) {
        sqlite3_stmt* stmt = nullptr;
        const int rc = sqlite3_prepare_v3(m_handle, sql.c_str(), static_cast<int>(sql.size() + 1),
                                          SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
        if (rc != SQLITE_OK) return error(rc, "preparing: " + sql);
        it = m_cache.emplace(sql, stmt).first;
    }
    return Stmt(*this, it->second);
}

std::int64_t Db::last_insert_id() const { return sqlite3_last_insert_rowid(m_handle); }
int Db::changes() const { return sqlite3_changes(m_handle); }

util::Error Db::error(int rc, std::string_view what) const {
    const int primary = rc & 0xff;
    const ErrorKind kind =
        (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) ? ErrorKind::transient : ErrorKind::internal;
    std::string msg = "SQLite " + m_path + ": " + sqlite3_errmsg(m_handle) + " while " + std::string(what);
    if (primary == SQLITE_FULL) msg += " (the disk is full: free space and retry)";
    if (primary == SQLITE_READONLY) msg += " (the database file is read-only: fix its permissions)";
    return util::make_error(kind, msg);
}

Transaction::Transaction(Db& db) : m_db(db), m_begun(db.exec("BEGIN IMMEDIATE")) { m_done = !m_begun.ok(); }

Transaction::~Transaction() {
    if (!m_done) (void)m_db.exec("ROLLBACK");
}

util::Status Transaction::commit() {
    auto st = m_db.exec("COMMIT");
    m_done = st.ok();
    return st;
}

}  // namespace hookyard::storage::sqlite
