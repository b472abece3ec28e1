// The manifest's queries over many runs: runs list's filtered, ordered page, dead-run detection
// and the run a resume continues.
#include "mlq/tracking/manifest.hpp"
#include "mlq/util/process.hpp"

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
#include "tracking/database.hpp"
#include "tracking/manifest_rows.hpp"

namespace mlq {

using namespace db;

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

// A RunQuery's expressions compiled for one dialect.
struct CompiledQuery {
  SqlFragment filter;
  std::vector<FieldSql> columns;
  std::optional<FieldSql> order;
  // Set when the order is a metric summary value: the runs are then taken in the order of that
  // column's index, so a LIMIT stops early (ties between equal values go by run id).
  std::optional<SummaryColumn> order_summary;
  bool descending = true;
  int64_t limit = kNoLimit;
};

CompiledQuery compile(const RunQuery& query, SqlDialect dialect) {
  const double now = query.now > 0 ? query.now : now_seconds();
  CompiledQuery out;
  if (!query.where.empty()) out.filter = compile_run_filter(query.where, now, "w", dialect);
  if (!query.order_by.empty()) {
    out.order = compile_run_field(query.order_by, now, "o");
    if (query.use_summary_index) out.order_summary = summary_column(query.order_by);
  }
  for (const std::string& column : query.columns)
    out.columns.push_back(compile_run_field(column, now, fmt::format("c{}_", out.columns.size())));
  out.descending = query.descending;
  if (query.limit > 0) out.limit = query.limit;
  return out;
}

// The page of runs `query` selects, as a CTE `page(id, start_time, sort_key0.., missing)`:
// filter, order and limit, before any column is read. Returns the number of sort keys.
size_t page_of_runs(const CompiledQuery& query, SqlDialect dialect, SqlBuilder& q) {
  const std::string direction = query.descending ? "DESC" : "ASC";
  const SqlFragment limit{"?", {query.limit}, {}};
  auto where_filter = [&](SqlBuilder& b) {
    if (!query.filter.sql.empty()) b.add(" WHERE (").add(query.filter).add(")");
  };
  if (const auto& summary = query.order_summary) {
    // Runs with a value, walking the column's index in order (a LIMIT stops the walk early),
    // then, only if the limit is not reached, runs without one, newest first. SQLite is told the
    // index and the join order; PostgreSQL's planner finds them.
    const std::string column = "s." + summary->column;
    const std::string index =
        "metric_summary_key_" + summary->column.substr(0, summary->column.find('_'));
    const bool sqlite = dialect == SqlDialect::SQLite;
    q.add(fmt::format("WITH valued AS (SELECT s.run_id AS id, r.start_time AS start_time, "
                      "{0} AS sort_key0 FROM metric_summary s {1} JOIN runs r ON r.id = s.run_id",
                      column, sqlite ? "INDEXED BY " + index + " CROSS" : ""))
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
    q.add(" ORDER BY r.start_time DESC, r.id DESC LIMIT (CASE WHEN ")
        .add(limit)
        .add(" > (SELECT count(*) FROM valued) THEN ")
        .add(limit)
        .add(
            " - (SELECT count(*) FROM valued) ELSE 0 END)), page AS (SELECT id, start_time, "
            "sort_key0, 0 AS missing FROM valued UNION ALL SELECT id, start_time, NULL, 1 FROM "
            "unvalued)");
    return 1;
  }
  // A field with several values (a param: number, then text) sorts by each in turn, those
  // without the value after those with it: numbers before text, as SQLite orders one column.
  std::vector<SqlFragment> keys;
  if (query.order) {
    const auto& values = query.order->values;
    for (size_t i = 0; i + 1 < values.size(); ++i) {
      keys.push_back({"(" + values[i].sql + ") IS NULL", values[i].bindings, {}});
      keys.push_back(values[i]);
    }
    keys.push_back(values.back());
  }
  q.add("WITH page AS (SELECT r.id AS id, r.start_time AS start_time");
  for (size_t i = 0; i < keys.size(); ++i)
    q.add(", ").add(keys[i]).add(fmt::format(" AS sort_key{}", i));
  if (query.order)
    q.add(", (").add(query.order->values.back()).add(") IS NULL AS missing");
  else
    q.add(", 0 AS missing");
  q.add(" FROM runs r").add_joins(query.filter);
  if (query.order)
    for (const SqlFragment& join : query.order->joins) q.add(join);
  where_filter(q);
  // Unordered, the page is the newest runs: ORDER BY exactly the listing index's columns.
  q.add(query.order ? " ORDER BY missing, " : " ORDER BY ");
  for (size_t i = 0; i < keys.size(); ++i) q.add(fmt::format("sort_key{} {}, ", i, direction));
  q.add("r.start_time DESC, r.id DESC LIMIT ").add(limit).add(")");
  return keys.size();
}

}  // namespace

void check_run_query(const RunQuery& query) {
  compile(query, SqlDialect::SQLite);
}

std::vector<RunRow> Manifest::query_runs(const RunQuery& run_query) const {
  const CompiledQuery query = compile(run_query, db_->dialect());
  const std::string direction = query.descending ? "DESC" : "ASC";
  SqlBuilder q;
  const size_t sort_keys = page_of_runs(query, db_->dialect(), q);
  std::string run_columns = std::string("r.") + kRunColumns;
  for (size_t at = run_columns.find(", "); at != std::string::npos;
       at = run_columns.find(", ", at + 4))
    run_columns.replace(at, 2, ", r.");
  q.add(" SELECT ").add(run_columns);
  for (const FieldSql& column : query.columns)
    for (const SqlFragment& value : column.values) q.add(", ").add(value);
  q.add(" FROM page JOIN runs r ON r.id = page.id");
  for (const FieldSql& column : query.columns)
    for (const SqlFragment& join : column.joins) q.add(join);
  q.add(" ORDER BY page.missing, ");
  for (size_t i = 0; i < sort_keys; ++i) q.add(fmt::format("page.sort_key{} {}, ", i, direction));
  // Ties between equal values go by run id when the summary index gave the order.
  if (query.order_summary)
    q.add(fmt::format("CASE WHEN page.missing = 0 THEN page.id END {}, ", direction));
  q.add("page.start_time DESC, page.id DESC");
  Statement st(*db_, q.sql);
  int index = 1;
  for (const SqlValue& value : q.bindings) st.bind(index++, value);
  const int first_value = 16;  // after kRunColumns
  std::vector<RunRow> rows;
  while (st.step()) {
    RunRow row{read_run(st), {}};
    int col = first_value;
    for (const FieldSql& column : query.columns) {
      std::optional<SqlValue> value;
      for (size_t v = 0; v < column.values.size(); ++v, ++col) {
        if (value) continue;
        switch (st.type(col)) {
          case ColumnType::Integer:
            value = st.integer(col);
            break;
          case ColumnType::Real:
            value = st.real(col);
            break;
          case ColumnType::Null:
            break;
          case ColumnType::Text:
            value = st.text(col);
        }
      }
      row.values.push_back(std::move(value));
    }
    rows.push_back(std::move(row));
  }
  return rows;
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
    Statement st(*db_,
                 "SELECT id, host, pid, COALESCE(heartbeat, start_time) FROM runs "
                 "WHERE status = ?1");
    st.bind(1, kRunning);
    while (st.step()) {
      std::string run_host = st.text(1);
      int64_t pid = st.integer(2);
      double beat = st.real(3);
      const bool local = run_host == host && pid > 0;
      if (local && process_gone(static_cast<pid_t>(pid))) {
        dead.push_back({st.text(0), fmt::format("process {} on {} is gone", pid, run_host)});
      } else if (!local && now - beat > stale_seconds) {  // a live local process is never stale
        dead.push_back({st.text(0), fmt::format("no heartbeat for {:.0f} s (process {} on {})",
                                                now - beat, pid, run_host)});
      }
    }
  }
  if (dead.empty()) return 0;
  int count = 0;
  Transaction tx(*db_);
  Statement st(*db_,
               "UPDATE runs SET status = ?1, end_time = COALESCE(heartbeat, start_time), "
               "error = COALESCE(error, ?2) WHERE id = ?3 AND status = ?4");
  for (const Dead& d : dead) {
    st.reset();
    st.bind(1, kKilled).bind(2, d.reason).bind(3, d.id).bind(4, kRunning);
    st.run();
    count += db_->changes();
  }
  tx.commit();
  return count;
}

std::optional<RunRecord> Manifest::latest_unfinished(std::string_view task,
                                                     std::string_view config_hash) const {
  Statement st(*db_, fmt::format("SELECT {} FROM runs WHERE task = ?1 AND config_hash = ?2 AND "
                                 "status IN (?3, ?4) ORDER BY start_time DESC, id DESC LIMIT 1",
                                 kRunColumns));
  st.bind(1, task).bind(2, config_hash).bind(3, kKilled).bind(4, kFailed);
  if (st.step()) return read_run(st);
  return std::nullopt;
}

}  // namespace mlq
