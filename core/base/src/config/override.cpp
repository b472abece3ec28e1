#include <fmt/format.h>

#include "config/keys.hpp"
#include "mlq/config/override.hpp"
#include "mlq/util/text.hpp"

namespace mlq {

using namespace config;

namespace {

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool valid_dotted_key(std::string_view key) {
  if (key.empty()) return false;
  for (const std::string& part : split(key, '.')) {
    if (part.empty()) return false;
    for (char c : part)
      if (!is_key_char(c)) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> split_top_level(std::string_view text) {
  std::vector<std::string> parts;
  std::string current;
  int depth = 0;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote) {
      current += c;
      if (quote == '"' && c == '\\' && i + 1 < text.size()) {
        current += text[++i];
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{' || c == '(') {
      ++depth;
    } else if ((c == ']' || c == '}' || c == ')') && depth > 0) {
      --depth;
    } else if (c == ',' && depth == 0) {
      parts.push_back(current);
      current.clear();
      continue;
    }
    current += c;
  }
  parts.push_back(current);
  return parts;
}

Override parse_override(std::string_view text) {
  Override result;
  result.text = std::string(text);
  auto fail = [&](std::string_view why) {
    throw ConfigError(fmt::format("override '{}': {}", text, why));
  };
  std::string body = trim(text);
  if (body.empty()) fail("empty override; expected key=value, +key=value, ++key=value or ~key");

  if (body[0] == '~') {
    result.kind = Override::Kind::Delete;
    result.key = trim(std::string_view(body).substr(1));
    if (result.key.find('=') != std::string::npos)
      fail("a delete override takes no value; write ~key");
    if (result.key.empty()) fail("missing key after '~'");
  } else {
    std::string_view rest = body;
    if (rest.compare(0, 2, "++") == 0) {
      result.kind = Override::Kind::Upsert;
      rest.remove_prefix(2);
    } else if (rest[0] == '+') {
      result.kind = Override::Kind::Add;
      rest.remove_prefix(1);
    }
    const size_t eq = rest.find('=');
    if (eq == std::string_view::npos)
      fail("expected key=value (or +key=value to add, ++key=value to set or add, ~key to delete)");
    result.key = trim(rest.substr(0, eq));
    result.value = trim(rest.substr(eq + 1));
    if (result.key.empty()) fail("missing key before '='");
  }
  if (!valid_dotted_key(result.key))
    fail(fmt::format("invalid key '{}'; expected dotted names of letters, digits, '_' or '-'",
                     result.key));
  return result;
}

NodePtr parse_value(std::string_view text, std::string_view origin) {
  const std::string value = trim(text);
  if (value.empty()) return std::make_unique<toml::value<std::string>>("");
  try {
    toml::table parsed = toml::parse("v = " + value + "\n");
    if (parsed.size() == 1)
      if (const toml::node* node = parsed.get("v")) return clone(*node);
  } catch (const toml::parse_error& error) {
    // Text that starts like a TOML literal must be one; anything else is a bare word.
    const char first = value[0];
    if (first == '[' || first == '{' || first == '"' || first == '\'')
      throw ConfigError(fmt::format("{}: invalid TOML value {} ({})", origin, value,
                                    one_line(error.description())));
  }
  return std::make_unique<toml::value<std::string>>(value);
}

std::vector<std::vector<std::string>> expand_sweeps(const std::vector<std::string>& overrides) {
  std::vector<std::vector<std::string>> runs(1);
  for (const std::string& item : overrides) {
    std::vector<std::string> choices;
    const std::string body = trim(item);
    const size_t eq = body.find('=');
    if (!body.empty() && body[0] != '~' && eq != std::string::npos) {
      const std::string head = body.substr(0, eq + 1);
      const std::vector<std::string> parts = split_top_level(std::string_view(body).substr(eq + 1));
      if (parts.size() > 1) {
        for (const std::string& part : parts) {
          std::string value = trim(part);
          if (value.empty())
            throw ConfigError(fmt::format("override '{}': empty value in sweep list", item));
          choices.push_back(head + value);
        }
      }
    }
    if (choices.empty()) choices.push_back(item);

    std::vector<std::vector<std::string>> next;
    next.reserve(runs.size() * choices.size());
    for (const auto& run : runs) {
      for (const std::string& choice : choices) {
        next.push_back(run);
        next.back().push_back(choice);
      }
    }
    runs = std::move(next);
  }
  return runs;
}

}  // namespace mlq
