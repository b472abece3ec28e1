// The shared backend: a PostgreSQL server through libpq. The URL, PG* environment variables and
// ~/.pgpass work as libpq defines them. A connection lost outside a transaction is reopened at
// the next statement; one lost inside a transaction fails it (ManifestConnectionLost), and the
// caller retries the whole transaction.
#include <fmt/format.h>
#include <libpq-fe.h>

#include <boost/dll/alias.hpp>

#include <cmath>
#include <cstdlib>
#include <vector>

#include "mlq/tracking/manifest.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/text.hpp"
#include "tracking/database.hpp"

namespace mlq::db {
namespace {

// Type OIDs of pg_type (stable across PostgreSQL versions).
constexpr Oid kBoolOid = 16, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23, kTextOid = 25,
              kFloat4Oid = 700, kFloat8Oid = 701, kNumericOid = 1700;

// SQLite's ?N and ? placeholders as PostgreSQL's $N (outside quotes).
std::string numbered_placeholders(const std::string& sql) {
  std::string out;
  int next = 1;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote) {
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      size_t j = i + 1;
      while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j]))) ++j;
      if (j > i + 1) {
        const int n = std::stoi(sql.substr(i + 1, j - i - 1));
        out += "$" + std::to_string(n);
        next = n + 1;
        i = j - 1;
      } else {
        out += "$" + std::to_string(next++);
      }
    } else {
      out += c;
    }
  }
  return out;
}

class PostgresDatabase;

class PostgresCursor : public Cursor {
 public:
  PostgresCursor(PostgresDatabase& db, std::string sql) : db_(db), sql_(std::move(sql)) {}
  ~PostgresCursor() override { PQclear(result_); }

  void bind_null(int index, ColumnType type) override {
    set(index, std::nullopt,
        type == ColumnType::Real      ? kFloat8Oid
        : type == ColumnType::Integer ? kInt8Oid
                                      : kTextOid);
  }
  void bind(int index, std::string_view text) override { set(index, std::string(text), kTextOid); }
  void bind(int index, double value) override {
    if (std::isnan(value)) return set(index, std::nullopt, kFloat8Oid);
    set(index,
        std::isinf(value) ? (value > 0 ? "Infinity" : "-Infinity") : fmt::format("{}", value),
        kFloat8Oid);
  }
  void bind(int index, int64_t value) override { set(index, std::to_string(value), kInt8Oid); }
  bool step() override;
  void reset() override {
    PQclear(result_);
    result_ = nullptr;
    row_ = -1;
    values_.clear();
    types_.clear();
  }
  ColumnType type(int col) const override {
    if (PQgetisnull(result_, row_, col)) return ColumnType::Null;
    switch (PQftype(result_, col)) {
      case kBoolOid:
      case kInt2Oid:
      case kInt4Oid:
      case kInt8Oid:
        return ColumnType::Integer;
      case kFloat4Oid:
      case kFloat8Oid:
      case kNumericOid:
        return ColumnType::Real;
      default:
        return ColumnType::Text;
    }
  }
  std::string text(int col) const override {
    return std::string(PQgetvalue(result_, row_, col),
                       static_cast<size_t>(PQgetlength(result_, row_, col)));
  }
  double real(int col) const override {
    if (PQgetisnull(result_, row_, col)) return 0;
    return std::strtod(PQgetvalue(result_, row_, col), nullptr);  // "Infinity", "NaN" included
  }
  int64_t integer(int col) const override {
    if (PQgetisnull(result_, row_, col)) return 0;
    const char* value = PQgetvalue(result_, row_, col);
    if (value[0] == 't') return 1;  // bool
    if (value[0] == 'f') return 0;
    return std::strtoll(value, nullptr, 10);
  }

 private:
  void set(int index, std::optional<std::string> value, Oid type) {
    const size_t i = static_cast<size_t>(index - 1);
    if (values_.size() <= i) {
      values_.resize(i + 1);
      types_.resize(i + 1, kTextOid);
    }
    values_[i] = std::move(value);
    types_[i] = type;
  }

  PostgresDatabase& db_;
  std::string sql_;
  std::vector<std::optional<std::string>> values_;
  std::vector<Oid> types_;
  PGresult* result_ = nullptr;
  int row_ = -1;
};

class PostgresDatabase : public Database {
 public:
  explicit PostgresDatabase(const std::string& url) : Database(masked_url(url)) {
    // The URL's own settings come last, so they win over these defaults.
    // Floats travel as text: extra_float_digits makes it exact on servers before 12 too.
    const char* keywords[] = {"connect_timeout", "application_name", "options", "dbname", nullptr};
    const char* values[] = {"10", "mlq-runner", "-c extra_float_digits=3", url.c_str(), nullptr};
    conn_ = PQconnectdbParams(keywords, values, 1);
    if (!conn_) fail("cannot connect", "out of memory");
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string message = error_message();
      PQfinish(conn_);
      throw ManifestConnectionLost(
          fmt::format("run manifest {}: cannot connect: {}", location(), message));
    }
    // No NOTICE lines on stderr ("relation already exists, skipping").
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
  }
  ~PostgresDatabase() override { PQfinish(conn_); }

  SqlDialect dialect() const override { return SqlDialect::PostgreSQL; }
  std::unique_ptr<Cursor> prepare(const std::string& sql) override {
    return std::make_unique<PostgresCursor>(*this, numbered_placeholders(sql));
  }
  void exec(const std::string& sql) override { PQclear(execute(sql, {}, {})); }
  void begin() override {
    exec("BEGIN");
    in_transaction_ = true;
  }
  void commit() override {
    exec("COMMIT");
    in_transaction_ = false;
  }
  void rollback() noexcept override {
    in_transaction_ = false;
    if (PQstatus(conn_) == CONNECTION_OK) PQclear(PQexec(conn_, "ROLLBACK"));
  }
  int64_t changes() const override { return changes_; }
  int schema_version() override {
    {
      Statement exists(*this, "SELECT to_regclass('mlq_schema') IS NOT NULL");
      if (!exists.step() || exists.integer(0) == 0) return 0;
    }
    Statement st(*this, "SELECT max(version) FROM mlq_schema");
    return st.step() && !st.is_null(0) ? static_cast<int>(st.integer(0)) : 0;
  }
  void set_schema_version(int version) override {
    exec("CREATE TABLE IF NOT EXISTS mlq_schema (version INTEGER NOT NULL)");
    exec("DELETE FROM mlq_schema");
    exec(fmt::format("INSERT INTO mlq_schema (version) VALUES ({})", version));
  }
  void lock_schema() override {
    exec("SELECT pg_advisory_xact_lock(7316583562)");  // any constant the runner alone uses
  }

  // Runs one statement; the result is the caller's to PQclear.
  PGresult* execute(const std::string& sql, const std::vector<std::optional<std::string>>& values,
                    const std::vector<Oid>& types) {
    reconnect_if_lost();
    std::vector<const char*> pointers;
    for (const auto& value : values) pointers.push_back(value ? value->c_str() : nullptr);
    PGresult* result = values.empty()
                           ? PQexec(conn_, sql.c_str())
                           : PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()),
                                          types.data(), pointers.data(), nullptr, nullptr, 0);
    const ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      const char* count = PQcmdTuples(result);
      changes_ = count && *count ? std::strtoll(count, nullptr, 10) : 0;
      return result;
    }
    const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    const std::string message = primary ? primary : error_message();
    PQclear(result);
    if (PQstatus(conn_) != CONNECTION_OK) lost(message);
    std::string brief = trim(sql);
    for (char& c : brief)
      if (c == '\n') c = ' ';
    if (brief.size() > 60) brief = brief.substr(0, 57) + "...";
    fail(fmt::format("'{}' failed", brief), message);
  }

 private:
  std::string error_message() const { return one_line(trim(PQerrorMessage(conn_))); }

  [[noreturn]] void lost(const std::string& message) {
    throw ManifestConnectionLost(
        one_line(fmt::format("run manifest {}: connection lost: {}", location(), message)));
  }

  // A connection lost between transactions is opened again; within one, the transaction is gone
  // and so is the statement.
  void reconnect_if_lost() {
    if (PQstatus(conn_) == CONNECTION_OK) return;
    if (in_transaction_) lost("the transaction was aborted");
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) lost(error_message());
  }

  PGconn* conn_ = nullptr;
  int64_t changes_ = 0;
  bool in_transaction_ = false;
};

bool PostgresCursor::step() {
  if (!result_) {
    result_ = db_.execute(sql_, values_, types_);
    row_ = -1;
  }
  ++row_;
  return row_ < PQntuples(result_);
}

std::unique_ptr<Database> open_postgresql_here(const std::string& url) {
  return std::make_unique<PostgresDatabase>(url);
}

}  // namespace
}  // namespace mlq::db

BOOST_DLL_ALIAS(mlq::db::open_postgresql_here, mlq_open_postgresql)
