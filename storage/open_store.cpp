// open_store(): the `storage:` config value → the Store it names.

#include <string_view>

#include "storage/postgres_migrations.hpp"
#include "storage/postgres_store.hpp"
#include "storage/sqlite_migrations.hpp"
#include "storage/store.hpp"
#include "util/log.hpp"

namespace hookyard::storage {
namespace {

bool is_postgres_url(const std::string& url) {
    return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

}  // namespace

util::Result<std::unique_ptr<Store>> open_store(const std::string& url) {
    constexpr std::string_view k_sqlite = "sqlite:";
    if (url.rfind(k_sqlite, 0) == 0 && url.size() > k_sqlite.size()) {
        return make_sqlite_store(url.substr(k_sqlite.size()));
    }
    if (is_postgres_url(url)) return postgres::make_postgres_store(url);
    return util::make_error(util::ErrorKind::invalid_input,
                            "storage '" + util::redact(url) +
                                "' is not supported: use \"sqlite:PATH\" or \"postgresql://USER@HOST:PORT/DB\"");
}

int schema_version_for(const std::string& url) {
    return is_postgres_url(url) ? postgres::latest_schema_version() : sqlite::latest_schema_version();
}

}  // namespace hookyard::storage
