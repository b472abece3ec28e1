#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "config/keys.hpp"
#include "mlq/config/compose.hpp"
#include "mlq/config/override.hpp"
#include "mlq/util/text.hpp"

namespace mlq {

namespace fs = std::filesystem;

namespace {

using namespace config;

toml::node* find_node(toml::table& root, const std::string& key) {
  toml::node* node = &root;
  if (key.empty()) return node;
  for (const std::string& part : split(key, '.')) {
    toml::table* table = node->as_table();
    if (!table) return nullptr;
    node = table->get(part);
    if (!node) return nullptr;
  }
  return node;
}

toml::table* find_table(toml::table& root, const std::string& key) {
  toml::node* node = find_node(root, key);
  return node ? node->as_table() : nullptr;
}

std::vector<std::string> all_keys(const toml::table& root) {
  std::vector<std::string> keys;
  collect_keys(root, "", keys);
  return keys;
}

std::string did_you_mean(const std::string& key, const toml::table& root) {
  std::string best = nearest(key, all_keys(root));
  return best.empty() ? "" : fmt::format("; did you mean '{}'?", best);
}

std::string origin_of(const Origins& origins, const std::string& full) {
  auto it = origins.find(full);
  if (it != origins.end()) return it->second;
  const std::string prefix = full + ".";
  it = origins.lower_bound(prefix);
  if (it != origins.end() && it->first.compare(0, prefix.size(), prefix) == 0) return it->second;
  return "";
}

std::string in_parens(const std::string& text) {
  return text.empty() ? "" : " (" + text + ")";
}

std::string type_with_article(const toml::node& node) {
  const std::string type = toml_type_name(node);
  return (type == "integer" || type == "array" ? "an " : "a ") + type;
}

// What an override's value is: "string 'abc'", "integer 3", "a table".
std::string describe_value(const toml::node& node) {
  if (node.is_table()) return "a table";
  std::string literal = node.is_string() ? "'" + node.as_string()->get() + "'" : toml_literal(node);
  if (literal.size() > 80) literal = literal.substr(0, 77) + "...";
  const std::string type = type_with_article(node);
  return type.substr(type.find(' ') + 1) + " " + literal;
}

toml::table load_file(const fs::path& path) {
  const std::string shown = path.string();
  std::error_code ec;
  if (!fs::exists(path, ec)) throw ConfigError(fmt::format("config file '{}' not found", shown));
  if (fs::is_directory(path, ec))
    throw ConfigError(fmt::format("config file '{}' is a directory", shown));
  try {
    return toml::parse_file(shown);
  } catch (const toml::parse_error& error) {
    const auto& begin = error.source().begin;
    throw ConfigError(fmt::format("{}:{}:{}: TOML parse error: {}", shown, begin.line, begin.column,
                                  one_line(error.description())));
  }
}

std::string available_options(const fs::path& folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return fmt::format("none (no folder {})", folder.string());
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder, ec))
    if (entry.is_regular_file() && entry.path().extension() == ".toml")
      names.push_back(entry.path().stem().string());
  if (names.empty()) return fmt::format("none (no .toml files in {})", folder.string());
  std::sort(names.begin(), names.end());
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out;
}

// The configuration under construction.
struct Composer {
  toml::table root;
  Origins origins;

  // Deep-merges `src` over root[`full`]: tables merge key by key, anything else replaces.
  void merge(toml::table& dst, const std::string& key, const toml::node& src,
             const std::string& full, const std::string& origin) {
    toml::node* current = dst.get(key);
    if (current && current->is_table() && src.is_table()) {
      toml::table& into = *current->as_table();
      for (auto&& [child_key, child] : *src.as_table())
        merge(into, std::string(child_key.str()), child, join_key(full, child_key.str()), origin);
      return;
    }
    erase_origins(origins, full);
    dst.insert_or_assign(key, src);
    record_origins(origins, full, src, origin);
  }

  void replace(toml::table& parent, const std::string& full, toml::node&& value,
               const std::string& origin) {
    erase_origins(origins, full);
    auto result = parent.insert_or_assign(last_part(full), std::move(value));
    record_origins(origins, full, result.first->second, origin);
  }

  // The table that will hold `full`, creating missing tables on the way (+ and ++ overrides).
  toml::table& make_parent(const Override& o, const std::string& full) {
    toml::table* table = &root;
    std::string path;
    const std::vector<std::string> parts = split(full, '.');
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      path = join_key(path, parts[i]);
      toml::node* child = table->get(parts[i]);
      if (!child) child = &table->insert(parts[i], toml::table{}).first->second;
      if (!child->is_table())
        throw ConfigError(
            fmt::format("override '{}': cannot add '{}' because '{}'{} is {}, not a table", o.text,
                        full, path, in_parens(origin_of(origins, path)), describe_value(*child)));
      table = child->as_table();
    }
    return *table;
  }

  // a.b=v: the key must exist and keep its type (int -> float promotion allowed); a table value
  // over a table sets its keys one by one under the same rules.
  void set_checked(const Override& o, const std::string& full, NodePtr value) {
    toml::node* current = find_node(root, full);
    if (!current) {
      if (full == o.key)
        throw ConfigError(
            fmt::format("override '{}': key '{}' does not exist (use +{}=... to add it){}", o.text,
                        full, o.key, did_you_mean(full, root)));
      throw ConfigError(fmt::format("override '{}': key '{}' does not exist{}", o.text, full,
                                    did_you_mean(full, root)));
    }
    const std::string origin = "override '" + o.text + "'";
    if (current->is_table() && value->is_table()) {
      for (auto&& [key, child] : *value->as_table())
        set_checked(o, join_key(full, key.str()), clone(child));
      return;
    }
    bool ok = current->type() == value->type();
    if (!ok && current->is_floating_point() && value->is_integer()) {
      value =
          std::make_unique<toml::value<double>>(static_cast<double>(value->as_integer()->get()));
      ok = true;
    }
    // An interpolation stands for a value of any type; `false` means "none" for keys that
    // otherwise hold a string (the seed template's label_ext = false). The getters still check
    // the type where the value is used.
    const bool interpolated =
        current->is_string() && current->as_string()->get().find("${") != std::string::npos;
    const bool none_or_string =
        (current->is_boolean() && !current->as_boolean()->get() && value->is_string()) ||
        (current->is_string() && value->is_boolean() && !value->as_boolean()->get());
    ok = ok || interpolated || none_or_string;
    if (!ok) {
      const std::string set_in = origin_of(origins, full);
      throw ConfigError(fmt::format(
          "override '{}': expected {}{}{}, got {}", o.text, type_with_article(*current),
          full == o.key ? "" : " for '" + full + "'",
          set_in.empty() ? "" : " (the value set in " + set_in + ")", describe_value(*value)));
    }
    replace(*find_table(root, parent_key(full)), full, std::move(*value), origin);
  }

  void apply(const Override& o) {
    const std::string origin = "override '" + o.text + "'";
    switch (o.kind) {
      case Override::Kind::Set:
        set_checked(o, o.key, parse_value(o.value, origin));
        break;
      case Override::Kind::Add: {
        if (find_node(root, o.key)) {
          throw ConfigError(fmt::format(
              "override '{}': key '{}' already exists{}; use {}={} to change it or ++{}={} to set "
              "or add",
              o.text, o.key, in_parens(origin_of(origins, o.key)), o.key, o.value, o.key, o.value));
        }
        NodePtr value = parse_value(o.value, origin);
        replace(make_parent(o, o.key), o.key, std::move(*value), origin);
        break;
      }
      case Override::Kind::Upsert: {
        NodePtr value = parse_value(o.value, origin);
        replace(make_parent(o, o.key), o.key, std::move(*value), origin);
        break;
      }
      case Override::Kind::Delete: {
        if (!find_node(root, o.key))
          throw ConfigError(fmt::format("override '{}': key '{}' does not exist{}", o.text, o.key,
                                        did_you_mean(o.key, root)));
        find_table(root, parent_key(o.key))->erase(last_part(o.key));
        erase_origins(origins, o.key);
        break;
      }
    }
  }
};

// ${a.b} and ${env:NAME[,default]} in string values, resolved in place.
struct Interpolator {
  toml::table& root;
  Origins& origins;
  std::set<std::string> done;
  std::vector<std::string> stack;

  [[noreturn]] void fail(const std::string& key, const std::string& what) {
    throw ConfigError(
        fmt::format("config key '{}'{}: {}", key, in_parens(origin_of(origins, key)), what));
  }

  void resolve_key(const std::string& key, const std::string& from) {
    if (done.count(key)) return;
    auto it = std::find(stack.begin(), stack.end(), key);
    if (it != stack.end()) {
      std::string cycle;
      for (; it != stack.end(); ++it) cycle += *it + " -> ";
      fail(from, "interpolation cycle: " + cycle + key);
    }
    toml::node* node = find_node(root, key);
    if (!node) return;
    stack.push_back(key);
    if (toml::table* table = node->as_table()) {
      std::vector<std::string> children;
      for (auto&& [child_key, child] : *table) children.emplace_back(child_key.str());
      for (const std::string& child : children) resolve_key(join_key(key, child), key);
    } else if (toml::array* array = node->as_array()) {
      resolve_array(*array, key);
    } else if (node->is_string()) {
      const std::string text = node->as_string()->get();
      if (NodePtr value = interpolate(text, key)) {
        const std::string origin = origin_of(origins, key);
        toml::table* parent = find_table(root, parent_key(key));
        erase_origins(origins, key);
        auto result = parent->insert_or_assign(last_part(key), std::move(*value));
        record_origins(origins, key, result.first->second, origin);
      }
    }
    stack.pop_back();
    done.insert(key);
  }

  // Values inside arrays have no dotted key of their own; errors name the array's key.
  void resolve_array(toml::array& array, const std::string& key) {
    for (size_t i = 0; i < array.size(); ++i) {
      toml::node& element = array[i];
      if (toml::array* inner = element.as_array()) {
        resolve_array(*inner, key);
      } else if (toml::table* table = element.as_table()) {
        resolve_inline_table(*table, key);
      } else if (element.is_string()) {
        const std::string text = element.as_string()->get();
        if (NodePtr value = interpolate(text, key))
          array.replace(array.cbegin() + static_cast<std::ptrdiff_t>(i), std::move(*value));
      }
    }
  }

  void resolve_inline_table(toml::table& table, const std::string& key) {
    for (auto&& [child_key, child] : table) {
      if (toml::array* inner = child.as_array()) {
        resolve_array(*inner, key);
      } else if (toml::table* sub = child.as_table()) {
        resolve_inline_table(*sub, key);
      } else if (child.is_string()) {
        const std::string text = child.as_string()->get();
        if (NodePtr value = interpolate(text, key))
          table.insert_or_assign(child_key, std::move(*value));
      }
    }
  }

  const toml::node& lookup(const std::string& reference, const std::string& key) {
    if (reference.empty()) fail(key, "empty interpolation ${}");
    resolve_key(reference, key);
    const toml::node* node = find_node(root, reference);
    if (!node)
      fail(key, fmt::format("interpolation ${{{}}} refers to missing key '{}'{}", reference,
                            reference, did_you_mean(reference, root)));
    return *node;
  }

  std::string env_value(const std::string& expr, const std::string& key) {
    const std::string spec = expr.substr(4);
    const size_t comma = spec.find(',');
    const std::string name = trim(spec.substr(0, comma));
    if (name.empty()) fail(key, fmt::format("interpolation ${{{}}} names no variable", expr));
    if (const char* value = std::getenv(name.c_str())) return value;
    if (comma != std::string::npos) return trim(spec.substr(comma + 1));
    fail(key, fmt::format("environment variable '{}' is not set (referenced as ${{{}}}; write "
                          "${{env:{},default}} to give a default)",
                          name, expr, name));
  }

  // The interpolated value of `text`, or null when it has no ${...}.
  NodePtr interpolate(const std::string& text, const std::string& key) {
    if (text.find("${") == std::string::npos) return nullptr;
    // Exactly one reference: the value is a copy of the referenced node, type included.
    if (text.size() > 3 && text.compare(0, 2, "${") == 0 && text.back() == '}' &&
        text.find('}') == text.size() - 1) {
      const std::string expr = trim(text.substr(2, text.size() - 3));
      if (expr.compare(0, 4, "env:") != 0) return clone(lookup(expr, key));
    }
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
      if (text[i] == '\\' && text.compare(i + 1, 2, "${") == 0) {
        out += "${";
        i += 3;
      } else if (text.compare(i, 2, "${") == 0) {
        const size_t close = text.find('}', i + 2);
        if (close == std::string::npos)
          fail(key, fmt::format("unterminated interpolation in \"{}\"", text));
        const std::string expr = trim(text.substr(i + 2, close - i - 2));
        if (expr.compare(0, 4, "env:") == 0) {
          out += env_value(expr, key);
        } else {
          const toml::node& node = lookup(expr, key);
          out += node.is_string() ? node.as_string()->get() : toml_literal(node);
        }
        i = close + 1;
      } else {
        out += text[i++];
      }
    }
    return std::make_unique<toml::value<std::string>>(out);
  }

  void run() {
    std::vector<std::string> keys;
    for (auto&& [key, node] : root) keys.emplace_back(key.str());
    for (const std::string& key : keys) resolve_key(key, key);
  }
};

}  // namespace

Config compose(const ComposeRequest& request) {
  const fs::path& file = request.config_file;
  const std::string shown = file.string();
  toml::table experiment = load_file(file);

  std::vector<Override> overrides;
  overrides.reserve(request.overrides.size());
  for (const std::string& text : request.overrides) overrides.push_back(parse_override(text));

  // Defaults table: group -> (option, where the choice came from).
  struct Choice {
    std::string option;
    std::string from;  // "config key 'defaults.model' (configs/exp.toml)" or "override 'model=x'"
  };
  std::map<std::string, Choice> groups;
  if (const toml::node* defaults = experiment.get("defaults")) {
    const toml::table* table = defaults->as_table();
    if (!table)
      throw ConfigError(
          fmt::format("config key 'defaults' ({}): expected a table of group = \"option\", got {}",
                      shown, describe_value(*defaults)));
    for (auto&& [key, node] : *table) {
      const std::string group(key.str());
      if (!node.is_string())
        throw ConfigError(fmt::format(
            "config key 'defaults.{}' ({}): expected a string (an option of group '{}'), got {}",
            group, shown, group, describe_value(node)));
      groups[group] = {node.as_string()->get(),
                       fmt::format("config key 'defaults.{}' ({})", group, shown)};
    }
  }

  // The task: --task, else the last task=... override, else the file's `task`.
  std::string task = request.task;
  std::string task_origin = "--task";
  for (const Override& o : overrides) {
    if (o.key != "task" || o.kind == Override::Kind::Delete) continue;
    const std::string origin = "override '" + o.text + "'";
    NodePtr value = parse_value(o.value, origin);
    if (!value->is_string() || value->as_string()->get().empty())
      throw ConfigError(
          fmt::format("{}: expected a task name, got {}", origin, describe_value(*value)));
    if (request.task.empty()) {
      task = value->as_string()->get();
      task_origin = origin;
    }
  }
  if (task.empty()) {
    if (const toml::node* node = experiment.get("task")) {
      if (!node->is_string() || node->as_string()->get().empty())
        throw ConfigError(fmt::format("config key 'task' ({}): expected a task name, got {}", shown,
                                      describe_value(*node)));
      task = node->as_string()->get();
      task_origin = shown;
    }
  }
  if (task.empty())
    throw ConfigError(fmt::format("no task given: set task = \"...\" in {} or pass --task", shown));

  // group=option swaps a [defaults] entry (+group=option adds one) before any file is loaded.
  const fs::path base = file.parent_path();
  std::vector<const Override*> remaining;
  for (const Override& o : overrides) {
    if (o.key == "task" && o.kind != Override::Kind::Delete) continue;
    const std::string origin = "override '" + o.text + "'";
    const bool undotted = o.key.find('.') == std::string::npos;
    std::error_code ec;
    const bool swap =
        undotted && ((o.kind == Override::Kind::Set && groups.count(o.key)) ||
                     (o.kind == Override::Kind::Add && !groups.count(o.key) &&
                      !experiment.get(o.key) && fs::is_directory(base / task / o.key, ec)));
    if (!swap) {
      remaining.push_back(&o);
      continue;
    }
    NodePtr value = parse_value(o.value, origin);
    if (!value->is_string() || value->as_string()->get().empty())
      throw ConfigError(fmt::format("{}: expected an option name of group '{}', got {}", origin,
                                    o.key, describe_value(*value)));
    groups[o.key] = {value->as_string()->get(), origin};
  }

  std::error_code task_ec;
  if (!groups.empty() && !fs::is_directory(base / task, task_ec)) {
    std::vector<std::string> tasks;
    for (const auto& entry : fs::directory_iterator(base, task_ec))
      if (entry.is_directory()) tasks.push_back(entry.path().filename().string());
    std::sort(tasks.begin(), tasks.end());
    const std::string near = nearest(task, tasks);
    throw ConfigError(fmt::format(
        "{}: no configs for task '{}' (no folder {}); {}", task_origin, task,
        (base / task).string(),
        near.empty()
            ? "tasks with configs there: " +
                  (tasks.empty() ? std::string("none") : fmt::format("{}", fmt::join(tasks, ", ")))
            : "did you mean '" + near + "'?"));
  }

  Composer composer;
  for (const auto& [group, choice] : groups) {
    const fs::path folder = base / task / group;
    const fs::path path = folder / (choice.option + ".toml");
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
      throw ConfigError(
          fmt::format("{}: option '{}' of group '{}' not found (no file {}); available: {}",
                      choice.from, choice.option, group, path.string(), available_options(folder)));
    const toml::table loaded = load_file(path);
    composer.merge(composer.root, group, loaded, group, path.string());
  }
  for (auto&& [key, node] : experiment) {
    if (key.str() == "defaults") continue;
    composer.merge(composer.root, std::string(key.str()), node, std::string(key.str()), shown);
  }
  for (const Override* o : remaining) composer.apply(*o);

  composer.root.insert_or_assign("task", task);
  erase_origins(composer.origins, "task");
  composer.origins["task"] = task_origin;

  Interpolator interpolator{composer.root, composer.origins, {}, {}};
  interpolator.run();
  return Config(std::move(composer.root), std::move(composer.origins));
}

}  // namespace mlq
