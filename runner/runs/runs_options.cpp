#include "runs/runs_options.hpp"

#include <fmt/format.h>

#include <ostream>

#include "mlq/tracking/run.hpp"

namespace mlq::runs {

cxxopts::Options subcommand_options(const std::string& name, const std::string& description) {
  cxxopts::Options options("runner runs " + name, description);
  options.add_options()("db",
                        "the manifest: a SQLite file or a postgresql:// URL (default: MLQ_DB, else "
                        "outputs/runs.sqlite)",
                        cxxopts::value<std::string>())("h,help", "this help");
  return options;
}

std::optional<cxxopts::ParseResult> parse(cxxopts::Options& options,
                                          const std::vector<std::string>& args, std::ostream& out) {
  cxxopts::ParseResult result = parse_options(options, args);
  if (result.count("help")) {
    out << options.help();
    return std::nullopt;
  }
  return result;
}

std::string db_path(const cxxopts::ParseResult& result, const std::string& default_path) {
  return result.count("db") ? manifest_location(result["db"].as<std::string>()) : default_path;
}

std::vector<std::string> positionals(const cxxopts::ParseResult& result, const std::string& key) {
  return result.count(key) ? result[key].as<std::vector<std::string>>()
                           : std::vector<std::string>{};
}

std::optional<Parsed> parse_words(cxxopts::Options& options, const std::string& words_help,
                                  const std::vector<std::string>& args,
                                  const std::string& default_db, std::ostream& out) {
  options.add_options()("words", words_help, cxxopts::value<std::vector<std::string>>());
  options.parse_positional({"words"});
  options.positional_help(words_help);
  auto result = parse(options, args, out);
  if (!result) return std::nullopt;
  std::vector<std::string> words = positionals(*result, "words");
  const std::string db = db_path(*result, default_db);
  return Parsed{std::move(*result), std::move(words), db};
}

void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows,
                 const std::string& indent) {
  std::vector<size_t> widths;
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i + 1 == row.size())
        line += row[i];
      else
        line += fmt::format("{:<{}}  ", row[i], widths[i]);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out << indent << line << '\n';
  }
}

}  // namespace mlq::runs
