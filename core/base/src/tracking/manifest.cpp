#include "mlq/tracking/manifest.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <system_error>
#include <variant>

#include "mlq/util/error.hpp"
#include "mlq/util/text.hpp"
#include "tracking/database.hpp"
#include "tracking/manifest_rows.hpp"
#include "tracking/schema.hpp"

namespace mlq {

using namespace db;

namespace {

bool is_final_status(std::string_view status) {
  return status == kFinished || status == kFailed || status == kKilled || status == kPruned;
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

void insert_run(Database& db, const RunRecord& run) {
  Statement st(db, fmt::format("INSERT INTO runs ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                               "?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
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

// Inserts `rows` into `table (columns)` up to kRowsPerInsert rows a statement (one round trip
// each on a server); bind_row(statement, first index, row) binds one row's values.
constexpr size_t kRowsPerInsert = 100;

template <typename Rows, typename BindRow>
void insert_rows(Database& db, const std::string& table, int columns, const Rows& rows,
                 BindRow bind_row) {
  std::string values = "(?";
  for (int c = 1; c < columns; ++c) values += ", ?";
  values += ")";
  auto row = std::begin(rows);
  for (size_t left = std::size(rows); left > 0;) {
    const size_t n = std::min(left, kRowsPerInsert);
    std::string sql = "INSERT INTO " + table + " VALUES " + values;
    for (size_t i = 1; i < n; ++i) sql += ", " + values;
    Statement st(db, sql);
    for (size_t i = 0; i < n; ++i, ++row) bind_row(st, static_cast<int>(i) * columns + 1, *row);
    st.run();
    left -= n;
  }
}

template <typename Params>
void insert_params(Database& db, std::string_view run_id, const Params& params) {
  insert_rows(db, "params (run_id, key, value, value_num)", 4, params,
              [&](Statement& st, int i, const auto& param) {
                const auto& [key, value] = param;
                st.bind(i, run_id).bind(i + 1, key).bind(i + 2, value);
                st.bind(i + 3, numeric_value(value));
              });
}

void insert_artifacts(Database& db, std::string_view run_id,
                      const std::vector<Artifact>& artifacts) {
  insert_rows(db, "artifacts (run_id, path, kind, checksum)", 4, artifacts,
              [&](Statement& st, int i, const Artifact& a) {
                st.bind(i, run_id).bind(i + 1, a.path).bind(i + 2, a.kind);
                st.bind_or_null(i + 3, a.checksum);
              });
}

// Appends points to the history and folds them into metric_summary, inside the caller's
// transaction. NaN is stored as NULL: it never becomes the minimum or maximum, as in min()/max()
// over rows. Within a step the later point wins, as in the history (higher rowid). The batch is
// folded per key first (the same rules), then each key's row is upserted; one SQL for both
// dialects: no scalar min()/max(), qualified columns.
void insert_metric_points(Database& db, std::string_view run_id,
                          const std::vector<MetricPoint>& points) {
  const double now = now_seconds();
  insert_rows(db, "metrics (run_id, key, step, value, time)", 5, points,
              [&](Statement& st, int i, const MetricPoint& p) {
                st.bind(i, run_id).bind(i + 1, p.key).bind(i + 2, p.step).bind(i + 3, p.value);
                st.bind(i + 4, p.time > 0 ? p.time : now);
              });
  struct Fold {
    int64_t last_step;
    double last_value;
    std::optional<double> min, max;
  };
  std::map<std::string, Fold> folds;
  for (const MetricPoint& p : points) {
    auto [it, added] = folds.try_emplace(p.key, Fold{p.step, p.value, {}, {}});
    Fold& f = it->second;
    if (!added && p.step >= f.last_step) {
      f.last_step = p.step;
      f.last_value = p.value;
    }
    if (!std::isnan(p.value)) {
      f.min = f.min ? std::min(*f.min, p.value) : p.value;
      f.max = f.max ? std::max(*f.max, p.value) : p.value;
    }
  }
  Statement summarize(db, R"sql(
INSERT INTO metric_summary (run_id, key, last_step, last_value, min_value, max_value)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (run_id, key) DO UPDATE SET
  last_value = CASE WHEN excluded.last_step >= metric_summary.last_step
               THEN excluded.last_value ELSE metric_summary.last_value END,
  last_step = CASE WHEN excluded.last_step >= metric_summary.last_step
              THEN excluded.last_step ELSE metric_summary.last_step END,
  min_value = CASE WHEN metric_summary.min_value IS NULL
                     OR excluded.min_value < metric_summary.min_value
              THEN excluded.min_value ELSE metric_summary.min_value END,
  max_value = CASE WHEN metric_summary.max_value IS NULL
                     OR excluded.max_value > metric_summary.max_value
              THEN excluded.max_value ELSE metric_summary.max_value END
)sql");
  for (const auto& [key, f] : folds) {
    summarize.reset();
    summarize.bind(1, run_id).bind(2, key).bind(3, f.last_step).bind(4, f.last_value);
    summarize.bind(5, f.min).bind(6, f.max);
    summarize.run();
  }
}

}  // namespace

Manifest::Manifest(const std::string& location) : db_(open_database(location)) {
  create_or_migrate_schema(*db_);
}
Manifest::~Manifest() = default;

const std::string& Manifest::location() const {
  return db_->location();
}

void Manifest::create_run(const RunRecord& run,
                          const std::vector<std::pair<std::string, std::string>>& params) {
  Transaction tx(*db_);
  insert_run(*db_, run);
  insert_params(*db_, run.id, params);
  tx.commit();
}

void Manifest::set_status(std::string_view run_id, std::string_view status,
                          std::string_view error) {
  if (status != kRunning && !is_final_status(status))
    throw UserError(fmt::format("run manifest {}: unknown run status '{}'", location(), status));
  bool final_status = is_final_status(status);
  Statement st(*db_,
               "UPDATE runs SET status = ?1, end_time = ?2, "
               "error = CASE WHEN ?3 IS NULL THEN error ELSE ?3 END WHERE id = ?4");
  st.bind(1, status);
  st.bind(2, final_status ? std::optional<double>(now_seconds()) : std::nullopt);
  st.bind_or_null(3, error);
  st.bind(4, run_id);
  st.run();
  if (db_->changes() == 0)
    throw UserError(fmt::format("run manifest {}: no run '{}'", location(), run_id));
}

bool Manifest::reopen_run(std::string_view run_id, int64_t pid) {
  // One statement, so two processes resuming the same run cannot both win.
  Statement st(*db_,
               "UPDATE runs SET status = ?1, pid = ?2, host = ?3, heartbeat = ?4, end_time = NULL, "
               "error = NULL WHERE id = ?5 AND status IN (?6, ?7)");
  st.bind(1, kRunning).bind(2, pid).bind(3, host_name()).bind(4, now_seconds()).bind(5, run_id);
  st.bind(6, kKilled).bind(7, kFailed);
  st.run();
  if (db_->changes() == 1) return true;
  if (!find_run(run_id))
    throw UserError(fmt::format("run manifest {}: no run '{}'", location(), run_id));
  return false;
}

void Manifest::heartbeat(std::string_view run_id) {
  Statement st(*db_, "UPDATE runs SET heartbeat = ?1 WHERE id = ?2");
  st.bind(1, now_seconds()).bind(2, run_id);
  st.run();
}

void Manifest::set_best_checkpoint(std::string_view run_id, std::string_view path) {
  Statement st(*db_, "UPDATE runs SET best_checkpoint = ?1 WHERE id = ?2");
  st.bind(1, path).bind(2, run_id);
  st.run();
}

void Manifest::log_metrics(std::string_view run_id, const std::vector<MetricPoint>& points) {
  if (points.empty()) return;
  Transaction tx(*db_);
  insert_metric_points(*db_, run_id, points);
  tx.commit();
}

void Manifest::truncate_metrics_after(std::string_view run_id, int64_t step) {
  Transaction tx(*db_);
  Statement st(*db_, "DELETE FROM metrics WHERE run_id = ?1 AND step > ?2");
  st.bind(1, run_id).bind(2, step);
  st.run();
  Statement clear(*db_, "DELETE FROM metric_summary WHERE run_id = ?1");
  clear.bind(1, run_id);
  clear.run();
  Statement summarize(*db_, fmt::format(kSummarizeSql, "WHERE run_id = ?1"));
  summarize.bind(1, run_id);
  summarize.run();
  tx.commit();
}

void Manifest::set_tag(std::string_view run_id, std::string_view key, std::string_view value) {
  Statement st(*db_,
               "INSERT INTO tags (run_id, key, value) VALUES (?1, ?2, ?3) "
               "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value");
  st.bind(1, run_id).bind(2, key).bind(3, value);
  st.run();
}

void Manifest::delete_run(std::string_view run_id) {
  Transaction tx(*db_);
  Statement st(*db_, "DELETE FROM runs WHERE id = ?1");
  st.bind(1, run_id);
  st.run();
  tx.commit();
}

void Manifest::add_artifact(std::string_view run_id, const Artifact& artifact) {
  Statement st(*db_,
               "INSERT INTO artifacts (run_id, path, kind, checksum) VALUES (?1, ?2, ?3, ?4) "
               "ON CONFLICT (run_id, path) DO UPDATE SET kind = excluded.kind, "
               "checksum = excluded.checksum");
  st.bind(1, run_id).bind(2, artifact.path).bind(3, artifact.kind).bind(4, artifact.checksum);
  st.run();
}

void Manifest::set_artifacts(std::string_view run_id, const std::vector<Artifact>& artifacts) {
  Transaction tx(*db_);
  Statement clear(*db_, "DELETE FROM artifacts WHERE run_id = ?1");
  clear.bind(1, run_id);
  clear.run();
  insert_artifacts(*db_, run_id, artifacts);
  tx.commit();
}

void Manifest::replace_metrics(std::string_view run_id, const std::vector<MetricPoint>& points) {
  Transaction tx(*db_);
  for (const char* table : {"metrics", "metric_summary"}) {
    Statement clear(*db_, fmt::format("DELETE FROM {} WHERE run_id = ?1", table));
    clear.bind(1, run_id);
    clear.run();
  }
  insert_metric_points(*db_, run_id, points);
  tx.commit();
}

bool Manifest::import_run(const RunHistory& history) {
  const std::string& id = history.run.id;
  Transaction tx(*db_);
  {
    Statement exists(*db_, "SELECT 1 FROM runs WHERE id = ?1");
    exists.bind(1, id);
    if (exists.step()) return false;
  }
  insert_run(*db_, history.run);
  insert_params(*db_, id, history.params);
  insert_metric_points(*db_, id, history.metrics);
  insert_rows(*db_, "tags (run_id, key, value)", 3, history.tags,
              [&](Statement& st, int i, const auto& tag) {
                st.bind(i, id).bind(i + 1, tag.first).bind(i + 2, tag.second);
              });
  insert_artifacts(*db_, id, history.artifacts);
  tx.commit();
  return true;
}

std::optional<RunRecord> Manifest::find_run(std::string_view id_or_prefix) const {
  return find_by_id_or_prefix<RunRecord>(*db_, "run", "runs", kRunColumns, id_or_prefix, read_run);
}

std::vector<RunRecord> Manifest::list_runs(std::string_view task, std::string_view status,
                                           int64_t limit) const {
  Statement st(*db_,
               fmt::format("SELECT {} FROM runs WHERE (?1 = '' OR task = ?1) AND "
                           "(?2 = '' OR status = ?2) ORDER BY start_time DESC, id DESC LIMIT ?3",
                           kRunColumns));
  st.bind(1, task).bind(2, status).bind(3, limit > 0 ? limit : kNoLimit);
  std::vector<RunRecord> runs;
  while (st.step()) runs.push_back(read_run(st));
  return runs;
}
std::vector<MetricPoint> Manifest::metrics(std::string_view run_id, std::string_view key) const {
  Statement st(*db_,
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
  Statement st(*db_, "SELECT key, value FROM params WHERE run_id = ?1 ORDER BY key");
  st.bind(1, run_id);
  std::map<std::string, std::string> out;
  while (st.step()) out[st.text(0)] = st.text(1);
  return out;
}

std::map<std::string, std::string> Manifest::tags(std::string_view run_id) const {
  Statement st(*db_, "SELECT key, value FROM tags WHERE run_id = ?1 ORDER BY key");
  st.bind(1, run_id);
  std::map<std::string, std::string> out;
  while (st.step()) out[st.text(0)] = st.text(1);
  return out;
}

std::vector<Artifact> Manifest::artifacts(std::string_view run_id) const {
  Statement st(*db_, "SELECT path, kind, checksum FROM artifacts WHERE run_id = ?1 ORDER BY rowid");
  st.bind(1, run_id);
  std::vector<Artifact> out;
  while (st.step()) out.push_back(Artifact{st.text(0), st.text(1), st.text(2)});
  return out;
}

RunHistory Manifest::history(const RunRecord& run) const {
  return {run, params(run.id), metrics(run.id), tags(run.id), artifacts(run.id)};
}

std::map<std::string, double> Manifest::last_metrics(std::string_view run_id) const {
  Statement st(*db_, "SELECT key, last_value FROM metric_summary WHERE run_id = ?1");
  st.bind(1, run_id);
  std::map<std::string, double> out;
  while (st.step()) out[st.text(0)] = st.is_null(1) ? std::nan("") : st.real(1);
  return out;
}

bool is_manifest_server(const std::string& location) {
  return is_server_url(location);
}

bool manifest_exists(const std::string& location) {
  return is_server_url(location) || std::filesystem::exists(location);
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
