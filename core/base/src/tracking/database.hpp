#pragma once
// The SQL database under the manifest: SQLite (a file, the embedded default) or PostgreSQL (a
// server a cluster shares), behind one interface. Statements are written once, in the SQL both
// understand, with SQLite's placeholders (?, ?N); the PostgreSQL backend renumbers them $N. What
// the two do not share is asked of dialect(). Every failure is a one-line UserError naming the
// database ("run manifest <location>: <what>: <the database's message>").
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "mlq/tracking/query.hpp"

namespace mlq::db {

enum class ColumnType { Null, Integer, Real, Text };

// One prepared statement of a backend; bind() indexes from 1, columns from 0.
class Cursor {
 public:
  virtual ~Cursor() = default;
  virtual void bind_null(int index, ColumnType type) = 0;
  virtual void bind(int index, std::string_view text) = 0;
  virtual void bind(int index, double value) = 0;  // NaN binds NULL on both backends
  virtual void bind(int index, int64_t value) = 0;
  // True while there is a row (the first call executes the statement).
  virtual bool step() = 0;
  // Ready to execute again, with no bindings.
  virtual void reset() = 0;
  virtual ColumnType type(int col) const = 0;
  virtual std::string text(int col) const = 0;
  virtual double real(int col) const = 0;
  virtual int64_t integer(int col) const = 0;
};

class Database {
 public:
  explicit Database(std::string location) : location_(std::move(location)) {}
  virtual ~Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  virtual SqlDialect dialect() const = 0;
  // The file or URL, for messages (a URL's password masked).
  const std::string& location() const { return location_; }
  virtual std::unique_ptr<Cursor> prepare(const std::string& sql) = 0;
  // SQL without results; several statements allowed.
  virtual void exec(const std::string& sql) = 0;
  // A transaction that holds the write lock from its start (SQLite: BEGIN IMMEDIATE, so two
  // writers never deadlock upgrading read locks).
  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;
  // Rows changed by the last INSERT, UPDATE or DELETE.
  virtual int64_t changes() const = 0;
  // The schema version stored in the database (0: none yet) and setting it.
  virtual int schema_version() = 0;
  virtual void set_schema_version(int version) = 0;
  // Held until the transaction ends: another process creating or migrating the schema waits.
  virtual void lock_schema() = 0;

  [[noreturn]] void fail(std::string_view what, std::string_view detail) const;

 private:
  std::string location_;
};

// A postgresql:// or postgres:// URL opens PostgreSQL; anything else is a SQLite file path.
bool is_server_url(std::string_view location);
// The URL with its password (user:PASSWORD@ or password=...) replaced by "***".
std::string masked_url(std::string_view url);
std::unique_ptr<Database> open_sqlite(const std::string& path);
// Through libmlq_postgresql.so (core/postgresql), loaded on first use.
std::unique_ptr<Database> open_postgresql(const std::string& url);
std::unique_ptr<Database> open_database(const std::string& location);

// A statement with chainable binds.
class Statement {
 public:
  Statement(Database& db, const std::string& sql) : cursor_(db.prepare(sql)) {}

  Statement& bind(int index, std::string_view text) {
    cursor_->bind(index, text);
    return *this;
  }
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const std::string& text) {
    return bind(index, std::string_view(text));
  }
  Statement& bind(int index, double value) {
    cursor_->bind(index, value);
    return *this;
  }
  Statement& bind(int index, int64_t value) {
    cursor_->bind(index, value);
    return *this;
  }
  Statement& bind(int index, std::optional<double> value) {
    if (value) return bind(index, *value);
    cursor_->bind_null(index, ColumnType::Real);
    return *this;
  }
  Statement& bind(int index, const SqlValue& value) {
    std::visit([&](const auto& v) { bind(index, v); }, value);
    return *this;
  }
  // Empty text binds NULL.
  Statement& bind_or_null(int index, std::string_view text) {
    if (!text.empty()) return bind(index, text);
    cursor_->bind_null(index, ColumnType::Text);
    return *this;
  }

  bool step() { return cursor_->step(); }
  void run() {
    while (step()) {
    }
  }
  void reset() { cursor_->reset(); }

  std::string text(int col) const { return cursor_->text(col); }
  double real(int col) const { return cursor_->real(col); }
  int64_t integer(int col) const { return cursor_->integer(col); }
  bool is_null(int col) const { return cursor_->type(col) == ColumnType::Null; }
  ColumnType type(int col) const { return cursor_->type(col); }

 private:
  std::unique_ptr<Cursor> cursor_;
};

// Rolls back unless committed.
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) { db_.begin(); }
  ~Transaction() {
    if (!done_) db_.rollback();
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    db_.commit();
    done_ = true;
  }

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace mlq::db
