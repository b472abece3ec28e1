// The embedded backend: a SQLite file in WAL mode with a busy timeout, so several processes on
// one machine may write at once.
#include <fmt/format.h>
#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include "mlq/util/error.hpp"
#include "mlq/util/text.hpp"
#include "tracking/database.hpp"

namespace mlq::db {
namespace {

// How long a writer waits for another's lock before failing.
constexpr int kBusyTimeoutMs = 30000;

class SqliteDatabase;

class SqliteCursor : public Cursor {
 public:
  SqliteCursor(const SqliteDatabase& db, sqlite3* handle, const std::string& sql);
  ~SqliteCursor() override { sqlite3_finalize(stmt_); }

  void bind_null(int index, ColumnType) override { check(sqlite3_bind_null(stmt_, index)); }
  void bind(int index, std::string_view text) override {
    check(sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                            SQLITE_TRANSIENT));
  }
  void bind(int index, double value) override {
    check(std::isnan(value) ? sqlite3_bind_null(stmt_, index)
                            : sqlite3_bind_double(stmt_, index, value));
  }
  void bind(int index, int64_t value) override { check(sqlite3_bind_int64(stmt_, index, value)); }
  bool step() override;
  void reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  ColumnType type(int col) const override {
    switch (sqlite3_column_type(stmt_, col)) {
      case SQLITE_NULL:
        return ColumnType::Null;
      case SQLITE_INTEGER:
        return ColumnType::Integer;
      case SQLITE_FLOAT:
        return ColumnType::Real;
      default:
        return ColumnType::Text;
    }
  }
  std::string text(int col) const override {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    if (!p) return "";
    return std::string(reinterpret_cast<const char*>(p),
                       static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
  }
  double real(int col) const override { return sqlite3_column_double(stmt_, col); }
  int64_t integer(int col) const override { return sqlite3_column_int64(stmt_, col); }

 private:
  void check(int rc);
  // The start of the statement's SQL, for error messages.
  std::string brief_sql() const {
    std::string sql = trim(sqlite3_sql(stmt_));
    for (char& c : sql)
      if (c == '\n') c = ' ';
    return sql.size() > 60 ? sql.substr(0, 57) + "..." : sql;
  }

  const SqliteDatabase& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteDatabase : public Database {
 public:
  explicit SqliteDatabase(const std::string& path) : Database(path) {
    const std::filesystem::path file(path);
    if (file.has_parent_path()) {
      std::error_code ec;
      std::filesystem::create_directories(file.parent_path(), ec);
      if (ec)
        fail(fmt::format("cannot create folder {}", file.parent_path().string()), ec.message());
    }
    const int rc =
        sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    try {
      if (rc != SQLITE_OK) fail_here("cannot open database");
      sqlite3_extended_result_codes(db_, 1);
      sqlite3_busy_timeout(db_, kBusyTimeoutMs);
      const std::string mode = enable_wal();
      if (mode != "wal")
        throw UserError(fmt::format("run manifest {}: cannot enable WAL mode (journal mode is {})",
                                    path, mode));
      exec("PRAGMA synchronous=NORMAL");
      exec("PRAGMA foreign_keys=ON");
      // Reads through the OS page cache without copying: listing 100,000 runs touches most pages.
      exec("PRAGMA mmap_size=1073741824");
    } catch (...) {
      sqlite3_close_v2(db_);
      throw;
    }
  }
  ~SqliteDatabase() override { sqlite3_close_v2(db_); }

  SqlDialect dialect() const override { return SqlDialect::SQLite; }
  std::unique_ptr<Cursor> prepare(const std::string& sql) override {
    return std::make_unique<SqliteCursor>(*this, db_, sql);
  }
  void exec(const std::string& sql) override {
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
      fail_here(fmt::format("cannot run '{}'", trim(std::string_view(sql).substr(0, 40))));
  }
  void begin() override { exec("BEGIN IMMEDIATE"); }
  void commit() override { exec("COMMIT"); }
  void rollback() noexcept override { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }
  int64_t changes() const override { return sqlite3_changes(db_); }
  int schema_version() override {
    Statement st(*this, "PRAGMA user_version");
    return st.step() ? static_cast<int>(st.integer(0)) : 0;
  }
  void set_schema_version(int version) override {
    exec(fmt::format("PRAGMA user_version = {}", version));
  }
  void lock_schema() override {}  // BEGIN IMMEDIATE already holds the write lock

  [[noreturn]] void fail_here(std::string_view what) const {
    fail(what, db_ ? sqlite3_errmsg(db_) : "out of memory");
  }

 private:
  // Switches to WAL mode and returns the journal mode now in effect. Several processes opening a
  // new database at once may get SQLITE_BUSY here without the busy handler being called (SQLite
  // avoids a deadlock), so this retries until the busy timeout.
  std::string enable_wal() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
    for (int attempt = 0;; ++attempt) {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(db_, "PRAGMA journal_mode=WAL", -1, &stmt, nullptr) != SQLITE_OK)
        fail_here("cannot prepare 'PRAGMA journal_mode=WAL'");
      const int rc = sqlite3_step(stmt);
      std::string mode;
      if (rc == SQLITE_ROW) {
        const unsigned char* text = sqlite3_column_text(stmt, 0);
        mode = text ? reinterpret_cast<const char*>(text) : "";
      }
      sqlite3_finalize(stmt);
      if (rc == SQLITE_ROW) return mode;
      const bool busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
      if (!busy || std::chrono::steady_clock::now() > deadline)
        fail_here("'PRAGMA journal_mode=WAL' failed");
      std::this_thread::sleep_for(std::chrono::milliseconds(5 + (attempt % 10) * 5));
    }
  }

  sqlite3* db_ = nullptr;
};

SqliteCursor::SqliteCursor(const SqliteDatabase& db, sqlite3* handle, const std::string& sql)
    : db_(db) {
  if (sqlite3_prepare_v2(handle, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK)
    db_.fail_here("cannot prepare statement");
}

bool SqliteCursor::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail_here(fmt::format("'{}' failed", brief_sql()));
}

void SqliteCursor::check(int rc) {
  if (rc != SQLITE_OK) db_.fail_here("cannot bind parameter");
}

}  // namespace

std::unique_ptr<Database> open_sqlite(const std::string& path) {
  return std::make_unique<SqliteDatabase>(path);
}

}  // namespace mlq::db
