#include "mlq/tracking/manifest.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <system_error>
#include <thread>
#include <variant>

#include "mlq/util/error.hpp"
#include "mlq/util/text.hpp"

namespace mlq {

namespace {

constexpr int kSchemaVersion = 2;
constexpr int kBusyTimeoutMs = 30000;

// The current schema (version 2); documented in docs/manifest.md.
constexpr const char* kSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  task TEXT NOT NULL,
  status TEXT NOT NULL,
  start_time REAL NOT NULL,
  end_time REAL,
  heartbeat REAL,
  host TEXT,
  pid INTEGER,
  git_commit TEXT,
  git_dirty INTEGER NOT NULL DEFAULT 0,
  plugin_versions TEXT,
  run_dir TEXT,
  best_checkpoint TEXT,
  config_hash TEXT,
  config TEXT,
  error TEXT
);
CREATE INDEX IF NOT EXISTS runs_task ON runs(task);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);
CREATE INDEX IF NOT EXISTS runs_listing ON runs(start_time, id, task, status, end_time);
CREATE INDEX IF NOT EXISTS runs_config_hash ON runs(config_hash);
CREATE TABLE IF NOT EXISTS params (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  value_num REAL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS metrics (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  step INTEGER NOT NULL,
  value REAL,
  time REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS metrics_run_key_step ON metrics(run_id, key, step);
CREATE TABLE IF NOT EXISTS metric_summary (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  last_step INTEGER NOT NULL,
  last_value REAL,
  min_value REAL,
  max_value REAL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS metric_summary_key_last ON metric_summary(key, last_value);
CREATE INDEX IF NOT EXISTS metric_summary_key_min ON metric_summary(key, min_value);
CREATE INDEX IF NOT EXISTS metric_summary_key_max ON metric_summary(key, max_value);
CREATE TABLE IF NOT EXISTS tags (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS artifacts (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  kind TEXT,
  checksum TEXT,
  PRIMARY KEY (run_id, path)
);
)sql";

// Rebuilds metric_summary rows from the metric history (all runs, or the run bound to ?1).
constexpr const char* kSummarizeSql = R"sql(
INSERT INTO metric_summary (run_id, key, last_step, last_value, min_value, max_value)
SELECT g.run_id, g.key, g.last_step,
       (SELECT m.value FROM metrics m WHERE m.run_id = g.run_id AND m.key = g.key
        ORDER BY m.step DESC, m.rowid DESC LIMIT 1),
       g.min_value, g.max_value
FROM (SELECT run_id, key, max(step) AS last_step, min(value) AS min_value,
             max(value) AS max_value
      FROM metrics {} GROUP BY run_id, key) g
)sql";

// Version 1 -> 2 (after kSchemaSql has created what is new): per-run metric summaries, so
// queries over many runs need one lookup per run and metric instead of a walk through its
// history; params and tags clustered by run (one lookup instead of index then row); a covering
// index for listing runs.
constexpr const char* kMigrateToV2Sql = R"sql(
DROP INDEX IF EXISTS metrics_key_value;
DROP INDEX IF EXISTS runs_start_time;
CREATE TABLE params_v2 (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  value_num REAL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
INSERT INTO params_v2 SELECT run_id, key, value, value_num FROM params;
DROP TABLE params;
ALTER TABLE params_v2 RENAME TO params;
CREATE TABLE tags_v2 (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
INSERT INTO tags_v2 SELECT run_id, key, value FROM tags;
DROP TABLE tags;
ALTER TABLE tags_v2 RENAME TO tags;
)sql";

constexpr const char* kRunColumns =
    "id, task, status, start_time, end_time, heartbeat, host, pid, git_commit, git_dirty, "
    "plugin_versions, run_dir, best_checkpoint, config_hash, config, error";

[[noreturn]] void fail(const std::filesystem::path& path, sqlite3* db, std::string_view what) {
  std::string detail = db ? sqlite3_errmsg(db) : "out of memory";
  throw UserError(one_line(fmt::format("run manifest {}: {}: {}", path.string(), what, detail)));
}

bool is_final_status(std::string_view status) {
  return status == kFinished || status == kFailed || status == kKilled;
}

// The numeric value of a TOML literal (number or bool), for params.value_num.
std::optional<double> numeric_value(std::string_view literal) {
  std::string text = trim(literal);
  if (text == "true") return 1.0;
  if (text == "false") return 0.0;
  if (text.empty()) return std::nullopt;
  std::string cleaned;
  for (char c : text)
    if (c != '_') cleaned += c;
  std::string body = cleaned;
  bool negative = false;
  if (body[0] == '+' || body[0] == '-') {
    negative = body[0] == '-';
    body = body.substr(1);
  }
  if (body == "inf") return negative ? -HUGE_VAL : HUGE_VAL;
  if (body == "nan") return std::nullopt;  // SQLite stores NaN as NULL anyway
  int base = 0;
  if (body.size() > 2 && body[0] == '0') {
    if (body[1] == 'x') base = 16;
    if (body[1] == 'o') base = 8;
    if (body[1] == 'b') base = 2;
  }
  if (base != 0) {
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(body.c_str() + 2, &end, base);
    if (errno != 0 || *end != '\0' || end == body.c_str() + 2) return std::nullopt;
    return negative ? -static_cast<double>(v) : static_cast<double>(v);
  }
  // Decimal: digits, '.', exponent only (strtod would also accept hex floats, "infinity", ...).
  for (char c : body)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' ||
          c == '+' || c == '-'))
      return std::nullopt;
  if (!std::isdigit(static_cast<unsigned char>(body[0]))) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(cleaned.c_str(), &end);
  if (*end != '\0') return std::nullopt;
  return v;
}

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

void exec(sqlite3* db, const std::filesystem::path& path, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
    fail(path, db, fmt::format("cannot run '{}'", trim(std::string_view(sql).substr(0, 40))));
}

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
std::string enable_wal(sqlite3* db, const std::filesystem::path& path) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  for (int attempt = 0;; ++attempt) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &stmt, nullptr) != SQLITE_OK)
      fail(path, db, "cannot prepare 'PRAGMA journal_mode=WAL'");
    int rc = sqlite3_step(stmt);
    std::string mode;
    if (rc == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      mode = text ? reinterpret_cast<const char*>(text) : "";
    }
    sqlite3_finalize(stmt);
    if (rc == SQLITE_ROW) return mode;
    bool busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
    if (!busy || std::chrono::steady_clock::now() > deadline)
      fail(path, db, "'PRAGMA journal_mode=WAL' failed");
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + (attempt % 10) * 5));
  }
}

int user_version(sqlite3* db, const std::filesystem::path& path) {
  Statement st(db, path, "PRAGMA user_version");
  return st.step() ? static_cast<int>(st.integer(0)) : 0;
}

RunRecord read_run(const Statement& st) {
  RunRecord r;
  r.id = st.text(0);
  r.task = st.text(1);
  r.status = st.text(2);
  r.start_time = st.real(3);
  r.end_time = st.real(4);
  r.heartbeat = st.real(5);
  r.host = st.text(6);
  r.pid = st.integer(7);
  r.git_commit = st.text(8);
  r.git_dirty = st.integer(9) != 0;
  r.plugin_versions = st.text(10);
  r.run_dir = st.text(11);
  r.best_checkpoint = st.text(12);
  r.config_hash = st.text(13);
  r.config_toml = st.text(14);
  r.error = st.text(15);
  return r;
}

}  // namespace

Manifest::Manifest(const std::filesystem::path& db_path) : path_(db_path) {
  if (path_.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path_.parent_path(), ec);
    if (ec)
      throw UserError(fmt::format("run manifest {}: cannot create folder {}: {}", path_.string(),
                                  path_.parent_path().string(), ec.message()));
  }
  int rc =
      sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  try {
    if (rc != SQLITE_OK) fail(path_, db_, "cannot open database");
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    {
      std::string mode = enable_wal(db_, path_);
      if (mode != "wal")
        throw UserError(fmt::format("run manifest {}: cannot enable WAL mode (journal mode is {})",
                                    path_.string(), mode));
    }
    exec(db_, path_, "PRAGMA synchronous=NORMAL");
    exec(db_, path_, "PRAGMA foreign_keys=ON");
    // Reads through the OS page cache without copying: listing 100,000 runs touches most pages.
    exec(db_, path_, "PRAGMA mmap_size=1073741824");
    int version = user_version(db_, path_);
    if (version < kSchemaVersion) {
      Transaction tx(db_, path_);
      version = user_version(db_, path_);  // another process may have done it meanwhile
      if (version < kSchemaVersion) {
        exec(db_, path_, kSchemaSql);
        if (version == 1) {
          exec(db_, path_, kMigrateToV2Sql);
          exec(db_, path_, fmt::format(kSummarizeSql, "").c_str());
        }
        exec(db_, path_, fmt::format("PRAGMA user_version = {}", kSchemaVersion).c_str());
        version = kSchemaVersion;
      }
      tx.commit();
    }
    if (version != kSchemaVersion)
      throw UserError(fmt::format(
          "run manifest {}: schema version {} is not supported (this runner knows version {}); "
          "use a newer runner or another database",
          path_.string(), version, kSchemaVersion));
  } catch (...) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw;
  }
}

Manifest::~Manifest() {
  if (db_) sqlite3_close_v2(db_);
}

void Manifest::create_run(const RunRecord& run,
                          const std::vector<std::pair<std::string, std::string>>& params) {
  Transaction tx(db_, path_);
  {
    Statement st(
        db_, path_,
        fmt::format("INSERT INTO runs ({}) VALUES "
                    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                    kRunColumns));
    st.bind(1, run.id).bind(2, run.task).bind(3, run.status).bind(4, run.start_time);
    st.bind(5, run.end_time > 0 ? std::optional<double>(run.end_time) : std::nullopt);
    st.bind(6, run.heartbeat > 0 ? run.heartbeat : run.start_time);
    st.bind(7, run.host).bind(8, run.pid).bind(9, run.git_commit);
    st.bind(10, static_cast<int64_t>(run.git_dirty ? 1 : 0));
    st.bind(11, run.plugin_versions.empty() ? std::string("{}") : run.plugin_versions);
    st.bind(12, run.run_dir).bind(13, run.best_checkpoint).bind(14, run.config_hash);
    st.bind(15, run.config_toml).bind_or_null(16, run.error);
    st.run();
  }
  Statement st(db_, path_,
               "INSERT INTO params (run_id, key, value, value_num) VALUES (?, ?, ?, ?)");
  for (const auto& [key, value] : params) {
    st.reset();
    st.bind(1, run.id).bind(2, key).bind(3, value).bind(4, numeric_value(value));
    st.run();
  }
  tx.commit();
}

void Manifest::set_status(std::string_view run_id, std::string_view status,
                          std::string_view error) {
  if (status != kRunning && !is_final_status(status))
    throw UserError(
        fmt::format("run manifest {}: unknown run status '{}'", path_.string(), status));
  bool final_status = is_final_status(status);
  Statement st(db_, path_,
               "UPDATE runs SET status = ?1, end_time = ?2, "
               "error = CASE WHEN ?3 IS NULL THEN error ELSE ?3 END WHERE id = ?4");
  st.bind(1, status);
  st.bind(2, final_status ? std::optional<double>(now_seconds()) : std::nullopt);
  st.bind_or_null(3, error);
  st.bind(4, run_id);
  st.run();
  if (sqlite3_changes(db_) == 0)
    throw UserError(fmt::format("run manifest {}: no run '{}'", path_.string(), run_id));
}

bool Manifest::reopen_run(std::string_view run_id, int64_t pid) {
  // One statement, so two processes resuming the same run cannot both win.
  Statement st(db_, path_,
               "UPDATE runs SET status = ?1, pid = ?2, host = ?3, heartbeat = ?4, end_time = NULL, "
               "error = NULL WHERE id = ?5 AND status IN (?6, ?7)");
  st.bind(1, kRunning).bind(2, pid).bind(3, host_name()).bind(4, now_seconds()).bind(5, run_id);
  st.bind(6, kKilled).bind(7, kFailed);
  st.run();
  if (sqlite3_changes(db_) == 1) return true;
  if (!find_run(run_id))
    throw UserError(fmt::format("run manifest {}: no run '{}'", path_.string(), run_id));
  return false;
}

void Manifest::heartbeat(std::string_view run_id) {
  Statement st(db_, path_, "UPDATE runs SET heartbeat = ?1 WHERE id = ?2");
  st.bind(1, now_seconds()).bind(2, run_id);
  st.run();
}

void Manifest::set_best_checkpoint(std::string_view run_id, std::string_view path) {
  Statement st(db_, path_, "UPDATE runs SET best_checkpoint = ?1 WHERE id = ?2");
  st.bind(1, path).bind(2, run_id);
  st.run();
}

void Manifest::log_metrics(std::string_view run_id, const std::vector<MetricPoint>& points) {
  if (points.empty()) return;
  double now = now_seconds();
  Transaction tx(db_, path_);
  Statement insert(db_, path_,
                   "INSERT INTO metrics (run_id, key, step, value, time) VALUES (?, ?, ?, ?, ?)");
  // NaN is stored as NULL: it never becomes the minimum or maximum, as in min()/max() over rows.
  // Within a step the later point wins, as in the history (higher rowid).
  Statement summarize(db_, path_, R"sql(
INSERT INTO metric_summary (run_id, key, last_step, last_value, min_value, max_value)
VALUES (?1, ?2, ?3, ?4, ?4, ?4)
ON CONFLICT (run_id, key) DO UPDATE SET
  last_value = CASE WHEN excluded.last_step >= last_step THEN excluded.last_value
               ELSE last_value END,
  last_step = max(last_step, excluded.last_step),
  min_value = CASE WHEN min_value IS NULL THEN excluded.min_value
              WHEN excluded.min_value IS NULL THEN min_value
              ELSE min(min_value, excluded.min_value) END,
  max_value = CASE WHEN max_value IS NULL THEN excluded.max_value
              WHEN excluded.max_value IS NULL THEN max_value
              ELSE max(max_value, excluded.max_value) END
)sql");
  for (const MetricPoint& p : points) {
    insert.reset();
    insert.bind(1, run_id).bind(2, p.key).bind(3, p.step).bind(4, p.value);
    insert.bind(5, p.time > 0 ? p.time : now);
    insert.run();
    summarize.reset();
    summarize.bind(1, run_id).bind(2, p.key).bind(3, p.step).bind(4, p.value);
    summarize.run();
  }
  tx.commit();
}

void Manifest::truncate_metrics_after(std::string_view run_id, int64_t step) {
  Transaction tx(db_, path_);
  Statement st(db_, path_, "DELETE FROM metrics WHERE run_id = ?1 AND step > ?2");
  st.bind(1, run_id).bind(2, step);
  st.run();
  Statement clear(db_, path_, "DELETE FROM metric_summary WHERE run_id = ?1");
  clear.bind(1, run_id);
  clear.run();
  Statement summarize(db_, path_, fmt::format(kSummarizeSql, "WHERE run_id = ?1"));
  summarize.bind(1, run_id);
  summarize.run();
  tx.commit();
}

void Manifest::set_tag(std::string_view run_id, std::string_view key, std::string_view value) {
  Statement st(db_, path_,
               "INSERT INTO tags (run_id, key, value) VALUES (?1, ?2, ?3) "
               "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value");
  st.bind(1, run_id).bind(2, key).bind(3, value);
  st.run();
}

void Manifest::delete_run(std::string_view run_id) {
  Transaction tx(db_, path_);
  Statement st(db_, path_, "DELETE FROM runs WHERE id = ?1");
  st.bind(1, run_id);
  st.run();
  tx.commit();
}

void Manifest::add_artifact(std::string_view run_id, const Artifact& artifact) {
  Statement st(db_, path_,
               "INSERT INTO artifacts (run_id, path, kind, checksum) VALUES (?1, ?2, ?3, ?4) "
               "ON CONFLICT (run_id, path) DO UPDATE SET kind = excluded.kind, "
               "checksum = excluded.checksum");
  st.bind(1, run_id).bind(2, artifact.path).bind(3, artifact.kind).bind(4, artifact.checksum);
  st.run();
}

void Manifest::set_artifacts(std::string_view run_id, const std::vector<Artifact>& artifacts) {
  Transaction tx(db_, path_);
  Statement clear(db_, path_, "DELETE FROM artifacts WHERE run_id = ?1");
  clear.bind(1, run_id);
  clear.run();
  Statement insert(db_, path_,
                   "INSERT INTO artifacts (run_id, path, kind, checksum) VALUES (?1, ?2, ?3, ?4)");
  for (const Artifact& artifact : artifacts) {
    insert.reset();
    insert.bind(1, run_id).bind(2, artifact.path).bind(3, artifact.kind);
    insert.bind_or_null(4, artifact.checksum);
    insert.run();
  }
  tx.commit();
}

std::optional<RunRecord> Manifest::find_run(std::string_view id_or_prefix) const {
  if (id_or_prefix.empty()) return std::nullopt;
  {
    Statement st(db_, path_, fmt::format("SELECT {} FROM runs WHERE id = ?1", kRunColumns));
    st.bind(1, id_or_prefix);
    if (st.step()) return read_run(st);
  }
  // substr() instead of LIKE: no wildcards to escape, and case-sensitive.
  Statement st(db_, path_,
               fmt::format("SELECT {} FROM runs WHERE substr(id, 1, length(?1)) = ?1 "
                           "ORDER BY start_time DESC, id LIMIT 11",
                           kRunColumns));
  st.bind(1, id_or_prefix);
  std::vector<RunRecord> found;
  while (st.step()) found.push_back(read_run(st));
  if (found.empty()) return std::nullopt;
  if (found.size() == 1) return found[0];
  std::string ids;
  for (size_t i = 0; i < found.size() && i < 10; ++i) ids += (i ? ", " : "") + found[i].id;
  if (found.size() > 10) ids += ", ...";
  throw UserError(fmt::format("run id prefix '{}' is ambiguous in {}: matches {}", id_or_prefix,
                              path_.string(), ids));
}

std::vector<RunRecord> Manifest::list_runs(std::string_view task, std::string_view status,
                                           int64_t limit) const {
  Statement st(db_, path_,
               fmt::format("SELECT {} FROM runs WHERE (?1 = '' OR task = ?1) AND "
                           "(?2 = '' OR status = ?2) ORDER BY start_time DESC, id DESC LIMIT ?3",
                           kRunColumns));
  st.bind(1, task).bind(2, status).bind(3, limit > 0 ? limit : int64_t{-1});
  std::vector<RunRecord> runs;
  while (st.step()) runs.push_back(read_run(st));
  return runs;
}

namespace {

// SQL text and its bindings, appended in the order they appear.
struct SqlBuilder {
  std::string sql;
  std::vector<SqlValue> bindings;

  SqlBuilder& add(std::string_view text) {
    sql += text;
    return *this;
  }
  SqlBuilder& add(const SqlFragment& fragment) {
    sql += fragment.sql;
    bindings.insert(bindings.end(), fragment.bindings.begin(), fragment.bindings.end());
    return *this;
  }
  SqlBuilder& add_joins(const SqlFragment& fragment) {
    for (const SqlFragment& join : fragment.joins) add(join);
    return *this;
  }
};

// The page of runs `query` selects, as a CTE `page(id, start_time, sort_key, missing)`:
// filter, order and limit, before any column is read.
SqlBuilder page_of_runs(const RunQuery& query) {
  const std::string direction = query.descending ? "DESC" : "ASC";
  const SqlFragment limit{"?", {query.limit > 0 ? query.limit : int64_t{-1}}, {}};
  auto where_filter = [&](SqlBuilder& q) {
    if (!query.filter.sql.empty()) q.add(" WHERE (").add(query.filter).add(")");
  };
  SqlBuilder q;
  if (const auto& summary = query.order_summary) {
    // Runs with a value, walking the column's index in order (a LIMIT stops the walk early),
    // then, only if the limit is not reached, runs without one, newest first.
    const std::string column = "s." + summary->column;
    const std::string index =
        "metric_summary_key_" + summary->column.substr(0, summary->column.find('_'));
    q.add(fmt::format("WITH valued AS (SELECT s.run_id AS id, r.start_time AS start_time, "
                      "{0} AS sort_key FROM metric_summary s INDEXED BY {1} CROSS JOIN runs r "
                      "ON r.id = s.run_id",
                      column, index))
        .add_joins(query.filter)
        .add(" WHERE s.key = ")
        .add({"?", {summary->key}, {}})
        .add(fmt::format(" AND {} IS NOT NULL", column));
    if (!query.filter.sql.empty()) q.add(" AND (").add(query.filter).add(")");
    q.add(fmt::format(" ORDER BY {0} {1}, s.run_id {1} LIMIT ", column, direction)).add(limit);
    q.add("), unvalued AS (SELECT r.id AS id, r.start_time AS start_time FROM runs r")
        .add_joins(query.filter);
    where_filter(q);
    q.add(query.filter.sql.empty() ? " WHERE " : " AND ")
        .add(fmt::format("NOT EXISTS (SELECT 1 FROM metric_summary m WHERE m.run_id = r.id AND "
                         "m.key = ? AND m.{} IS NOT NULL)",
                         summary->column));
    q.bindings.push_back(summary->key);
    q.add(" ORDER BY r.start_time DESC, r.id DESC LIMIT CASE WHEN ")
        .add(limit)
        .add(" < 0 THEN -1 ELSE max(0, ")
        .add(limit)
        .add(
            " - (SELECT count(*) FROM valued)) END), page AS (SELECT id, start_time, sort_key, 0 "
            "AS "
            "missing FROM valued UNION ALL SELECT id, start_time, NULL, 1 FROM unvalued)");
    return q;
  }
  const bool sorted = !query.order.sql.empty();
  q.add("WITH page AS (SELECT r.id AS id, r.start_time AS start_time");
  if (sorted)
    q.add(", ")
        .add(query.order)
        .add(" AS sort_key, (")
        .add(query.order)
        .add(") IS NULL AS missing");
  else
    q.add(", NULL AS sort_key, 0 AS missing");
  q.add(" FROM runs r").add_joins(query.filter).add_joins(query.order);
  where_filter(q);
  q.add(" ORDER BY ");
  if (sorted) q.add(fmt::format("missing, sort_key {}, ", direction));
  q.add("r.start_time DESC, r.id DESC LIMIT ").add(limit).add(")");
  return q;
}

}  // namespace

std::vector<RunRow> Manifest::query_runs(const RunQuery& query) const {
  const std::string direction = query.descending ? "DESC" : "ASC";
  SqlBuilder q = page_of_runs(query);
  std::string run_columns = std::string("r.") + kRunColumns;
  for (size_t at = run_columns.find(", "); at != std::string::npos;
       at = run_columns.find(", ", at + 4))
    run_columns.replace(at, 2, ", r.");
  q.add(" SELECT ").add(run_columns);
  for (const SqlFragment& column : query.columns) q.add(", ").add(column);
  q.add(" FROM page JOIN runs r ON r.id = page.id");
  for (const SqlFragment& column : query.columns) q.add_joins(column);
  // Ties between equal values go by run id when the summary index gave the order.
  q.add(
      fmt::format(" ORDER BY page.missing, page.sort_key {0}, {1}page.start_time DESC, "
                  "page.id DESC",
                  direction,
                  query.order_summary ? fmt::format("CASE WHEN page.missing = 0 THEN page.id "
                                                    "END {}, ",
                                                    direction)
                                      : ""));
  Statement st(db_, path_, q.sql);
  int index = 1;
  for (const SqlValue& value : q.bindings)
    std::visit([&](const auto& v) { st.bind(index++, v); }, value);
  const int first_value = 16;  // after kRunColumns
  std::vector<RunRow> rows;
  while (st.step()) {
    RunRow row{read_run(st), {}};
    for (size_t c = 0; c < query.columns.size(); ++c) {
      const int col = first_value + static_cast<int>(c);
      std::optional<SqlValue> value;
      switch (st.type(col)) {
        case SQLITE_INTEGER:
          value = st.integer(col);
          break;
        case SQLITE_FLOAT:
          value = st.real(col);
          break;
        case SQLITE_NULL:
          break;
        default:
          value = st.text(col);
      }
      row.values.push_back(std::move(value));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<MetricPoint> Manifest::metrics(std::string_view run_id, std::string_view key) const {
  Statement st(db_, path_,
               "SELECT key, step, value, time FROM metrics WHERE run_id = ?1 AND "
               "(?2 = '' OR key = ?2) ORDER BY step, key, rowid");
  st.bind(1, run_id).bind(2, key);
  std::vector<MetricPoint> points;
  while (st.step()) {
    MetricPoint p;
    p.key = st.text(0);
    p.step = st.integer(1);
    p.value = st.is_null(2) ? std::nan("") : st.real(2);
    p.time = st.real(3);
    points.push_back(std::move(p));
  }
  return points;
}

std::map<std::string, std::string> Manifest::params(std::string_view run_id) const {
  Statement st(db_, path_, "SELECT key, value FROM params WHERE run_id = ?1 ORDER BY key");
  st.bind(1, run_id);
  std::map<std::string, std::string> out;
  while (st.step()) out[st.text(0)] = st.text(1);
  return out;
}

std::map<std::string, std::string> Manifest::tags(std::string_view run_id) const {
  Statement st(db_, path_, "SELECT key, value FROM tags WHERE run_id = ?1 ORDER BY key");
  st.bind(1, run_id);
  std::map<std::string, std::string> out;
  while (st.step()) out[st.text(0)] = st.text(1);
  return out;
}

std::vector<Artifact> Manifest::artifacts(std::string_view run_id) const {
  Statement st(db_, path_,
               "SELECT path, kind, checksum FROM artifacts WHERE run_id = ?1 ORDER BY rowid");
  st.bind(1, run_id);
  std::vector<Artifact> out;
  while (st.step()) out.push_back(Artifact{st.text(0), st.text(1), st.text(2)});
  return out;
}

std::map<std::string, double> Manifest::last_metrics(std::string_view run_id) const {
  Statement st(db_, path_, "SELECT key, last_value FROM metric_summary WHERE run_id = ?1");
  st.bind(1, run_id);
  std::map<std::string, double> out;
  while (st.step()) out[st.text(0)] = st.is_null(1) ? std::nan("") : st.real(1);
  return out;
}

int Manifest::mark_dead_runs(double stale_seconds) {
  struct Dead {
    std::string id;
    std::string reason;
  };
  std::vector<Dead> dead;
  const std::string host = host_name();
  const double now = now_seconds();
  {
    Statement st(db_, path_,
                 "SELECT id, host, pid, COALESCE(heartbeat, start_time) FROM runs "
                 "WHERE status = ?1");
    st.bind(1, kRunning);
    while (st.step()) {
      std::string run_host = st.text(1);
      int64_t pid = st.integer(2);
      double beat = st.real(3);
      const bool local = run_host == host && pid > 0;
      if (local && kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH) {
        dead.push_back({st.text(0), fmt::format("process {} on {} is gone", pid, run_host)});
      } else if (!local && now - beat > stale_seconds) {  // a live local process is never stale
        dead.push_back({st.text(0), fmt::format("no heartbeat for {:.0f} s (process {} on {})",
                                                now - beat, pid, run_host)});
      }
    }
  }
  if (dead.empty()) return 0;
  int count = 0;
  Transaction tx(db_, path_);
  Statement st(db_, path_,
               "UPDATE runs SET status = ?1, end_time = COALESCE(heartbeat, start_time), "
               "error = COALESCE(error, ?2) WHERE id = ?3 AND status = ?4");
  for (const Dead& d : dead) {
    st.reset();
    st.bind(1, kKilled).bind(2, d.reason).bind(3, d.id).bind(4, kRunning);
    st.run();
    count += sqlite3_changes(db_);
  }
  tx.commit();
  return count;
}

std::optional<RunRecord> Manifest::latest_unfinished(std::string_view task,
                                                     std::string_view config_hash) const {
  Statement st(db_, path_,
               fmt::format("SELECT {} FROM runs WHERE task = ?1 AND config_hash = ?2 AND "
                           "status IN (?3, ?4) ORDER BY start_time DESC, id DESC LIMIT 1",
                           kRunColumns));
  st.bind(1, task).bind(2, config_hash).bind(3, kKilled).bind(4, kFailed);
  if (st.step()) return read_run(st);
  return std::nullopt;
}

std::string host_name() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof(buffer) - 1) != 0) return "unknown";
  return buffer;
}

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace mlq
