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
// params compare as numbers when the other side is a number, else as their TOML text; times
// take seconds since the epoch or 'YYYY-MM-DD[ HH:MM[:SS]]' (local time); status is matched
// without regard to case. Keywords are case-insensitive. A malformed expression throws UserError
// naming the column of the problem.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mlq {

using SqlValue = std::variant<int64_t, double, std::string>;

// SQL text over the runs table aliased `r`, with `?` placeholders bound in order.
struct SqlFragment {
  std::string sql;
  std::vector<SqlValue> bindings;
};

// A boolean SQL expression; `now` (seconds since the epoch) ends the duration of running runs.
SqlFragment compile_run_filter(std::string_view expression, double now);

// One FIELD as a SQL value (for --order-by and --columns).
SqlFragment compile_run_field(std::string_view field, double now);

}  // namespace mlq
