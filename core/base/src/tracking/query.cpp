#include "mlq/tracking/query.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <optional>

#include "mlq/config/override.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/text.hpp"

namespace mlq {
namespace {

enum class TokenKind { Word, Number, Text, Symbol, End };

struct Token {
  TokenKind kind;
  std::string text;
  size_t column;  // 1-based
};

bool word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

// A FIELD after the parser has read it: SQL for its value and how it compares.
struct Field {
  enum Kind { Metric, Param, Tag, Text, Number, Time, Status } kind;
  std::string name;
  std::string sql;  // for Param: the TOML text; numeric_sql holds its number
  std::string numeric_sql;
  std::vector<SqlValue> bindings;
  std::optional<SummaryColumn> summary;  // a metric_summary value
};

// A value in an expression: a field, or a literal (number or text) with its column.
struct Value {
  std::optional<Field> field;
  std::optional<SqlValue> literal;
  size_t column = 0;
};

const char* const kAttributes[] = {"id",       "task",     "status",     "start_time",
                                   "end_time", "duration", "git_commit", "host"};

// Seconds since the epoch of a local 'YYYY-MM-DD[ HH:MM[:SS]]', or nullopt.
std::optional<double> parse_local_time(const std::string& text) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &consumed) !=
      3)
    return std::nullopt;
  if (static_cast<size_t>(consumed) != text.size()) {
    int rest = 0;
    const char* tail = text.c_str() + consumed;
    if (std::sscanf(tail, " %2d:%2d%n", &tm.tm_hour, &tm.tm_min, &rest) != 2) return std::nullopt;
    tail += rest;
    if (*tail && (std::sscanf(tail, ":%2d%n", &tm.tm_sec, &rest) != 1 || tail[rest]))
      return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_isdst = -1;
  const std::time_t t = std::mktime(&tm);
  if (t == -1) return std::nullopt;
  return static_cast<double>(t);
}

class Compiler {
 public:
  Compiler(std::string_view text, std::string what, double now, std::string_view alias,
           SqlDialect dialect = SqlDialect::SQLite)
      : text_(text), what_(std::move(what)), now_(now), alias_(alias), dialect_(dialect) {
    tokenize();
  }

  SqlFragment filter() {
    SqlFragment out = parse_or();
    expect_end();
    out.joins = std::move(joins_);
    return out;
  }

  FieldSql field() {
    const Field f = whole_field();
    FieldSql out{{}, std::move(joins_)};
    if (f.kind == Field::Param) out.values.push_back({f.numeric_sql, {}, {}});
    out.values.push_back({f.sql, f.bindings, {}});
    return out;
  }

  std::optional<SummaryColumn> summary() { return whole_field().summary; }

 private:
  Field whole_field() {
    const Token& start = peek();
    Value value = parse_value();
    if (!value.field) fail(start.column, "expected a field, not a value");
    expect_end();
    return *value.field;
  }

  [[noreturn]] void fail(size_t column, const std::string& message) const {
    throw UserError(fmt::format("{} '{}': column {}: {}", what_, text_, column, message));
  }

  void tokenize() {
    size_t i = 0;
    while (i < text_.size()) {
      const char c = text_[i];
      const size_t column = i + 1;
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
      } else if (c == '\'' || c == '"') {
        std::string value;
        size_t j = i + 1;
        for (;; ++j) {
          if (j >= text_.size()) fail(column, "unterminated string");
          if (text_[j] == c) {
            if (j + 1 < text_.size() && text_[j + 1] == c) {
              value += c;
              ++j;
              continue;
            }
            break;
          }
          value += text_[j];
        }
        tokens_.push_back({TokenKind::Text, value, column});
        i = j + 1;
      } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                 ((c == '-' || c == '.') && i + 1 < text_.size() &&
                  std::isdigit(static_cast<unsigned char>(text_[i + 1])))) {
        size_t j = i + 1;
        while (j < text_.size() &&
               (std::isalnum(static_cast<unsigned char>(text_[j])) || text_[j] == '.' ||
                ((text_[j] == '-' || text_[j] == '+') &&
                 (text_[j - 1] == 'e' || text_[j - 1] == 'E'))))
          ++j;
        tokens_.push_back({TokenKind::Number, std::string(text_.substr(i, j - i)), column});
        i = j;
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t j = i + 1;
        while (j < text_.size() && word_char(text_[j])) ++j;
        tokens_.push_back({TokenKind::Word, std::string(text_.substr(i, j - i)), column});
        i = j;
      } else {
        static const char* const kSymbols[] = {"!=", "<>", "<=", ">=", "=",
                                               "<",  ">",  "(",  ")",  ","};
        const char* match = nullptr;
        for (const char* symbol : kSymbols)
          if (text_.substr(i, std::char_traits<char>::length(symbol)) == symbol) {
            match = symbol;
            break;
          }
        if (!match) fail(column, fmt::format("unexpected character '{}'", c));
        tokens_.push_back({TokenKind::Symbol, match, column});
        i += std::char_traits<char>::length(match);
      }
    }
    tokens_.push_back({TokenKind::End, "", text_.size() + 1});
  }

  const Token& peek() const { return tokens_[position_]; }
  const Token& next() { return tokens_[position_++]; }
  bool keyword(const char* word) const {
    return peek().kind == TokenKind::Word && to_lower(peek().text) == word;
  }
  bool symbol(const char* s) const { return peek().kind == TokenKind::Symbol && peek().text == s; }
  void expect_symbol(const char* s) {
    if (!symbol(s)) fail(peek().column, fmt::format("expected '{}'", s));
    next();
  }
  void expect_end() {
    if (peek().kind != TokenKind::End)
      fail(peek().column, fmt::format("unexpected '{}'", peek().text));
  }

  SqlFragment parse_or() {
    SqlFragment left = parse_and();
    while (keyword("or")) {
      next();
      join(left, " OR ", parse_and());
    }
    return left;
  }

  SqlFragment parse_and() {
    SqlFragment left = parse_not();
    while (keyword("and")) {
      next();
      join(left, " AND ", parse_not());
    }
    return left;
  }

  SqlFragment parse_not() {
    const bool negation = keyword("not");
    if (!negation && !symbol("(")) return parse_comparison();
    // Each level of nesting is a level of recursion here: bound it, so that a pathological
    // expression is an error rather than a stack overflow.
    if (depth_ == kMaxDepth)
      fail(peek().column, fmt::format("expression nested more than {} levels deep", kMaxDepth));
    ++depth_;
    next();
    SqlFragment out;
    if (negation) {
      SqlFragment inner = parse_not();
      out = {"(NOT " + inner.sql + ")", std::move(inner.bindings), {}};
    } else {
      SqlFragment inner = parse_or();
      expect_symbol(")");
      out = {"(" + inner.sql + ")", std::move(inner.bindings), {}};
    }
    --depth_;
    return out;
  }

  static void join(SqlFragment& left, const char* op, SqlFragment right) {
    left.sql = "(" + left.sql + op + right.sql + ")";
    left.bindings.insert(left.bindings.end(), right.bindings.begin(), right.bindings.end());
  }

  SqlFragment parse_comparison() {
    Value left = parse_value();
    bool negated = false;
    if (keyword("not")) {
      next();
      negated = true;
      if (!keyword("like") && !keyword("in"))
        fail(peek().column, "expected 'like' or 'in' after 'not'");
    }
    if (keyword("like")) {
      next();
      const Token pattern = next();
      if (pattern.kind != TokenKind::Text)
        fail(pattern.column, "expected a quoted pattern after 'like'");
      SqlFragment out = text_side(left);
      out.sql = fmt::format("({}{} {})", out.sql, negated ? " NOT" : "",
                            dialect_ == SqlDialect::PostgreSQL ? "ILIKE ? ESCAPE ''" : "LIKE ?");
      out.bindings.push_back(pattern.text);
      return out;
    }
    if (keyword("in")) {
      next();
      expect_symbol("(");
      std::vector<Value> items;
      do {
        if (!items.empty()) next();
        items.push_back(parse_value());
        if (items.back().field)
          fail(items.back().column, "expected a value in the list, not a field");
      } while (symbol(","));
      expect_symbol(")");
      const bool numeric = std::all_of(items.begin(), items.end(), [](const Value& v) {
        return !std::holds_alternative<std::string>(*v.literal);
      });
      SqlFragment out = numeric ? number_side(left) : text_side(left);
      std::string marks;
      for (const Value& item : items) {
        marks += marks.empty() ? "?" : ", ?";
        out.bindings.push_back(literal_for(left, item, numeric));
      }
      out.sql = fmt::format("({}{} IN ({}))", out.sql, negated ? " NOT" : "", marks);
      return out;
    }
    const Token op = next();
    static const char* const kOperators[] = {"=", "!=", "<>", "<", "<=", ">", ">="};
    if (op.kind != TokenKind::Symbol ||
        std::find_if(std::begin(kOperators), std::end(kOperators),
                     [&](const char* o) { return op.text == o; }) == std::end(kOperators))
      fail(op.column, "expected a comparison (= != < <= > >=, like, in)");
    Value right = parse_value();
    if (!left.field && !right.field)
      fail(left.column, "compare a field with a value, not two values");
    if (left.field && right.field) {
      const bool numeric = numeric_field(*left.field) || numeric_field(*right.field);
      SqlFragment a = numeric ? number_side(left) : text_side(left);
      SqlFragment b = numeric ? number_side(right) : text_side(right);
      a.sql = fmt::format("({} {} {})", a.sql, op.text, b.sql);
      a.bindings.insert(a.bindings.end(), b.bindings.begin(), b.bindings.end());
      return a;
    }
    const bool field_left = left.field.has_value();
    const Value& field = field_left ? left : right;
    const Value& literal = field_left ? right : left;
    const bool numeric = !std::holds_alternative<std::string>(*literal.literal) ||
                         field.field->kind == Field::Time || field.field->kind == Field::Metric ||
                         field.field->kind == Field::Number;
    SqlFragment out = numeric ? number_side(field) : text_side(field);
    const SqlValue bound = literal_for(field, literal, numeric);
    out.sql = field_left ? fmt::format("({} {} ?)", out.sql, op.text)
                         : fmt::format("(? {} {})", op.text, out.sql);
    if (field_left)
      out.bindings.push_back(bound);
    else
      out.bindings.insert(out.bindings.begin(), bound);
    return out;
  }

  static bool numeric_field(const Field& f) {
    return f.kind == Field::Metric || f.kind == Field::Number || f.kind == Field::Time;
  }

  // The field as a number (a param's numeric value), or a literal placeholder.
  SqlFragment number_side(const Value& v) const {
    if (!v.field) return {"?", {*v.literal}, {}};
    const Field& f = *v.field;
    if (f.kind == Field::Tag || f.kind == Field::Text || f.kind == Field::Status)
      fail(v.column, fmt::format("'{}' is text: compare it with a quoted value", f.name));
    return {f.kind == Field::Param ? f.numeric_sql : f.sql, f.bindings, {}};
  }

  SqlFragment text_side(const Value& v) const {
    if (!v.field) return {"?", {*v.literal}, {}};
    const Field& f = *v.field;
    if (numeric_field(f))
      fail(v.column, fmt::format("'{}' is a number: compare it with a number", f.name));
    return {f.sql, f.bindings, {}};
  }

  // The literal as bound against `field`: times from dates, statuses upper-cased, numbers checked.
  SqlValue literal_for(const Value& field, const Value& literal, bool numeric) const {
    const SqlValue& value = *literal.literal;
    const auto* text = std::get_if<std::string>(&value);
    if (!text) return value;
    if (field.field && field.field->kind == Field::Time) {
      if (auto seconds = parse_local_time(*text)) return *seconds;
      fail(literal.column,
           fmt::format("'{}' is not a time (YYYY-MM-DD[ HH:MM[:SS]] or seconds)", *text));
    }
    if (numeric) fail(literal.column, fmt::format("expected a number, not '{}'", *text));
    if (field.field && field.field->kind == Field::Status) {
      return to_upper(*text);
    }
    return value;
  }

  Value parse_value() {
    const Token token = next();
    Value value;
    value.column = token.column;
    if (token.kind == TokenKind::Text) {
      value.literal = token.text;
      return value;
    }
    if (token.kind == TokenKind::Number) {
      try {
        size_t used = 0;
        const double number = std::stod(token.text, &used);
        if (used != token.text.size()) throw std::invalid_argument(token.text);
        value.literal = number;
      } catch (const std::exception&) {
        fail(token.column, fmt::format("'{}' is not a number", token.text));
      }
      return value;
    }
    if (token.kind != TokenKind::Word)
      fail(token.column, token.kind == TokenKind::End ? "expression ends too early"
                                                      : fmt::format("unexpected '{}'", token.text));
    const std::string word = to_lower(token.text);
    if ((word == "max" || word == "min" || word == "last" || word == "at") && symbol("(")) {
      next();
      const Token metric = next();
      const std::string key = metric_key(metric);
      std::optional<int64_t> step;
      if (word == "at") {
        expect_symbol(",");
        const Token at = next();
        if (at.kind == TokenKind::Number) step = parse_integer(at.text);
        if (!step) fail(at.column, "expected a step number");
      }
      expect_symbol(")");
      value.field = aggregate(word, key, step, token.text + "(" + metric.text + ")");
      return value;
    }
    value.field = named_field(token);
    return value;
  }

  std::string metric_key(const Token& token) const {
    if (token.kind != TokenKind::Word || token.text.rfind("metrics.", 0) != 0 ||
        token.text.size() == 8)
      fail(token.column, "expected metrics.KEY");
    return token.text.substr(8);
  }

  // The alias of `table`'s row for this run and key, LEFT JOINed once however often it is used.
  // Joins, unlike correlated subqueries, let SQLite start from an index on a selective condition.
  std::string joined(const std::string& table, const std::string& key) {
    const std::string on = table + "\n" + key;
    auto found = std::find(join_keys_.begin(), join_keys_.end(), on);
    const size_t index = static_cast<size_t>(found - join_keys_.begin());
    const std::string alias = fmt::format("{}{}", alias_, index);
    if (found == join_keys_.end()) {
      join_keys_.push_back(on);
      joins_.push_back({fmt::format(" LEFT JOIN {} {} ON {}.run_id = r.id AND {}.key = ?", table,
                                    alias, alias, alias),
                        {key},
                        {}});
    }
    return alias;
  }

  Field aggregate(const std::string& function, const std::string& key, std::optional<int64_t> step,
                  std::string name) {
    if (!step) {
      const std::string alias = joined("metric_summary", key);
      const std::string column = function + "_value";
      return {Field::Metric, std::move(name), alias + "." + column, "", {}, {{key, column}}};
    }
    // One point of the history (the later one if a step was logged twice).
    return {Field::Metric,
            std::move(name),
            "(SELECT m.value FROM metrics m WHERE m.run_id = r.id AND m.key = ? AND m.step = ? "
            "ORDER BY m.rowid DESC LIMIT 1)",
            "",
            {key, *step},
            {}};
  }

  Field named_field(const Token& token) {
    const std::string& name = token.text;
    auto key_after = [&](size_t prefix) {
      if (name.size() == prefix)
        fail(token.column, fmt::format("'{}' needs a key after the dot", name));
      return name.substr(prefix);
    };
    if (name.rfind("metrics.", 0) == 0) return aggregate("last", key_after(8), std::nullopt, name);
    if (name.rfind("params.", 0) == 0) {
      const std::string p = joined("params", key_after(7));
      // Strings are stored as TOML literals ("adam"): compared without their quotes.
      return {Field::Param,
              name,
              fmt::format("CASE WHEN substr({0}.value, 1, 1) = '\"' THEN substr({0}.value, 2, "
                          "length({0}.value) - 2) ELSE {0}.value END",
                          p),
              p + ".value_num",
              {},
              {}};
    }
    if (name.rfind("tags.", 0) == 0)
      return {Field::Tag, name, joined("tags", key_after(5)) + ".value", "", {}, {}};
    const std::string attribute = to_lower(name);
    if (attribute == "duration")
      return {Field::Number, name, "(coalesce(r.end_time, ?) - r.start_time)", "", {now_}, {}};
    if (attribute == "start_time" || attribute == "end_time")
      return {Field::Time, name, "r." + attribute, "", {}, {}};
    if (attribute == "status") return {Field::Status, name, "r.status", "", {}, {}};
    // A sweep's trials are runs: the sweep id and trial number of the run's trial.
    if (attribute == "sweep")
      return {Field::Text,
              name,
              "(SELECT t.sweep_id FROM sweep_trials t WHERE t.run_id = r.id LIMIT 1)",
              "",
              {},
              {}};
    if (attribute == "trial")
      return {Field::Number,
              name,
              "(SELECT t.number FROM sweep_trials t WHERE t.run_id = r.id LIMIT 1)",
              "",
              {},
              {}};
    for (const char* known : kAttributes)
      if (attribute == known) return {Field::Text, name, "r." + attribute, "", {}, {}};
    fail(token.column,
         fmt::format("unknown field '{}' (expected metrics.KEY, params.KEY, tags.KEY, "
                     "max|min|last(metrics.KEY), at(metrics.KEY, STEP), id, task, status, "
                     "start_time, end_time, duration, git_commit, host, sweep or trial)",
                     name));
  }

  std::string_view text_;
  std::string what_;
  double now_;
  std::string alias_;
  SqlDialect dialect_;
  std::vector<Token> tokens_;
  size_t position_ = 0;
  std::vector<std::string> join_keys_;  // "table\nkey" of each join, in alias order
  std::vector<SqlFragment> joins_;
  static constexpr int kMaxDepth = 100;  // nested "not" and "(": far more than anyone writes
  int depth_ = 0;
};

}  // namespace

SqlFragment compile_run_filter(std::string_view expression, double now, std::string_view alias,
                               SqlDialect dialect) {
  return Compiler(expression, "--where", now, alias, dialect).filter();
}

FieldSql compile_run_field(std::string_view field, double now, std::string_view alias) {
  return Compiler(field, "field", now, alias).field();
}

std::optional<SummaryColumn> summary_column(std::string_view field) {
  return Compiler(field, "field", 0, "s").summary();
}

}  // namespace mlq
