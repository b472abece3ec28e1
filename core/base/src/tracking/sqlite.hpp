#pragma once
// The SQLite wrapper the manifest is written with: prepared statements, transactions that take
// the write lock up front, WAL mode. Every failure is a one-line UserError naming the database.
#include <fmt/format.h>
#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "mlq/util/text.hpp"

namespace mlq::sqlite {

// How long a writer waits for another's lock before failing.
inline constexpr int kBusyTimeoutMs = 30000;

// A UserError "run manifest <path>: <what>: <SQLite's message>".
[[noreturn]] void fail(const std::filesystem::path& path, sqlite3* db, std::string_view what);

// A prepared statement; bind() indexes from 1.
class Statement {
 public:
  Statement(sqlite3* db, const std::filesystem::path& path, const std::string& sql)
      : db_(db), path_(path) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK)
      fail(path_, db_, "cannot prepare statement");
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view text) {
    check(sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                            SQLITE_TRANSIENT));
    return *this;
  }
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const std::string& text) {
    return bind(index, std::string_view(text));
  }
  Statement& bind(int index, double value) {
    check(sqlite3_bind_double(stmt_, index, value));
    return *this;
  }
  Statement& bind(int index, int64_t value) {
    check(sqlite3_bind_int64(stmt_, index, value));
    return *this;
  }
  Statement& bind(int index, std::optional<double> value) {
    if (value) return bind(index, *value);
    check(sqlite3_bind_null(stmt_, index));
    return *this;
  }
  // Empty text binds NULL.
  Statement& bind_or_null(int index, std::string_view text) {
    if (!text.empty()) return bind(index, text);
    check(sqlite3_bind_null(stmt_, index));
    return *this;
  }

  // True while there is a row.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(path_, db_, fmt::format("'{}' failed", brief_sql()));
  }
  void run() {
    while (step()) {
    }
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  std::string text(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    if (!p) return "";
    return std::string(reinterpret_cast<const char*>(p),
                       static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
  }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int type(int col) const { return sqlite3_column_type(stmt_, col); }

 private:
  // The start of the statement's SQL, for error messages.
  std::string brief_sql() const {
    std::string sql = trim(sqlite3_sql(stmt_));
    for (char& c : sql)
      if (c == '\n') c = ' ';
    return sql.size() > 60 ? sql.substr(0, 57) + "..." : sql;
  }

  void check(int rc) {
    if (rc != SQLITE_OK) fail(path_, db_, "cannot bind parameter");
  }

  sqlite3* db_;
  const std::filesystem::path& path_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Runs SQL without results (several statements allowed).
void exec(sqlite3* db, const std::filesystem::path& path, const char* sql);

// BEGIN IMMEDIATE takes the write lock up front (waiting up to the busy timeout), so two writers
// never deadlock upgrading read locks. Rolls back unless committed.
class Transaction {
 public:
  Transaction(sqlite3* db, const std::filesystem::path& path) : db_(db), path_(path) {
    exec(db_, path_, "BEGIN IMMEDIATE");
  }
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    exec(db_, path_, "COMMIT");
    done_ = true;
  }

 private:
  sqlite3* db_;
  const std::filesystem::path& path_;
  bool done_ = false;
};

// Switches to WAL mode and returns the journal mode now in effect. Several processes opening a
// new database at once may get SQLITE_BUSY here without the busy handler being called (SQLite
// avoids a deadlock), so this retries until the busy timeout.
std::string enable_wal(sqlite3* db, const std::filesystem::path& path);
int user_version(sqlite3* db, const std::filesystem::path& path);

}  // namespace mlq::sqlite
