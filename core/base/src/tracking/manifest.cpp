#include "mlq/tracking/manifest.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <system_error>
#include <variant>

#include "mlq/util/error.hpp"
#include "mlq/util/text.hpp"
#include "tracking/manifest_rows.hpp"
#include "tracking/schema.hpp"
#include "tracking/sqlite.hpp"

namespace mlq {

using namespace sqlite;

namespace {

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
    create_or_migrate_schema(db_, path_);
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
