// The manifest's queries over many runs: runs list's filtered, ordered page, dead-run detection
// and the run a resume continues.
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
#include "tracking/sqlite.hpp"

namespace mlq {

using namespace sqlite;

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

}  // namespace mlq
