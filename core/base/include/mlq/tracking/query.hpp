#pragma once
// The query language of `runner runs list --where EXPR --order-by KEY --columns ...`, compiled to
// parameterised SQL over the manifest (docs/manifest.md):
//   EXPR    := OR; OR := AND ("or" AND)*; AND := NOT ("and" NOT)*; NOT := "not" NOT | ATOM
//   ATOM    := "(" EXPR ")" | VALUE OP VALUE | VALUE ["not"] "like" STRING
//              | VALUE ["not"] "in" "(" LITERAL ("," LITERAL)* ")"
//   OP      := = | != | <> | < | <= | > | >=
//   VALUE   := FIELD | LITERAL; LITERAL := number | 'text' | "text"
//   FIELD   := metrics.KEY (its last value) | max(metrics.KEY) | min(...) | last(...)
//              | at(metrics.KEY, STEP) | params.KEY | tags.KEY
//              | id | task | status | start_time | end_time | duration | git_commit | host
//              | sweep | trial (the sweep id and trial number of a sweep's run)
// params compare as numbers when the other side is a number, else as their TOML text; times
// take seconds since the epoch or 'YYYY-MM-DD[ HH:MM[:SS]]' (local time); status is matched
// without regard to case. Keywords are case-insensitive. A malformed expression throws UserError
// naming the column of the problem.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mlq {

using SqlValue = std::variant<int64_t, double, std::string>;

// The two SQL dialects the manifest is stored in; the compiled SQL differs only where they do.
enum class SqlDialect { SQLite, PostgreSQL };

// SQL text over the runs table aliased `r`, with `?` placeholders bound in order. `joins` are the
// LEFT JOIN clauses (each with its own bindings) that must follow `FROM runs r` for `sql` to work.
struct SqlFragment {
  std::string sql;
  std::vector<SqlValue> bindings;
  std::vector<SqlFragment> joins;
};

// A boolean SQL expression; `now` (seconds since the epoch) ends the duration of running runs.
// Joined tables are aliased `<alias>0`, `<alias>1`, ...: fragments used in one query need
// different aliases. `like` is case-insensitive for ASCII letters and has no escape character on
// both dialects, as SQLite's.
SqlFragment compile_run_filter(std::string_view expression, double now,
                               std::string_view alias = "w",
                               SqlDialect dialect = SqlDialect::SQLite);

// One FIELD as SQL (for --order-by and --columns): its value is the first of `values` that is not
// NULL. A param has two, its number and its TOML text, so that it sorts as a number where it is
// one, numbers before text, in any dialect (the text columns compare bytewise on both).
struct FieldSql {
  std::vector<SqlFragment> values;
  std::vector<SqlFragment> joins;
};
FieldSql compile_run_field(std::string_view field, double now, std::string_view alias = "f");

// Where a metric FIELD (metrics.KEY, last|min|max(metrics.KEY)) is kept: metric_summary's row for
// `key`, column `column` ("last_value", "min_value" or "max_value"), which has an index per key
// in value order. nullopt for other fields.
struct SummaryColumn {
  std::string key;
  std::string column;
};
std::optional<SummaryColumn> summary_column(std::string_view field);

}  // namespace mlq
