#pragma once
// What every `runner runs` subcommand shares: its cxxopts options (--db, --help) and how it
// prints tables.
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "mlq/util/cli.hpp"

namespace mlq::runs {

// Options of `runner runs <name>` with --db and -h/--help added.
cxxopts::Options subcommand_options(const std::string& name, const std::string& description);
// Parses `args` (the subcommand's, after its name); nullopt after printing --help to `out`.
std::optional<cxxopts::ParseResult> parse(cxxopts::Options& options,
                                          const std::vector<std::string>& args, std::ostream& out);
// --db when given (resolved as MLQ_DB and manifest.db are), else `default_path`.
std::string db_path(const cxxopts::ParseResult& result, const std::string& default_path);
// The positional values of `key` (none when absent).
std::vector<std::string> positionals(const cxxopts::ParseResult& result, const std::string& key);

// A subcommand's arguments parsed with its words (run ids, KEY=VALUE) as positionals.
struct Parsed {
  cxxopts::ParseResult result;
  std::vector<std::string> words;
  std::string db;
};
// Adds the positional words (`words_help`, e.g. "ID KEY=VALUE...") to `options` and parses;
// nullopt after printing --help to `out`.
std::optional<Parsed> parse_words(cxxopts::Options& options, const std::string& words_help,
                                  const std::vector<std::string>& args,
                                  const std::string& default_db, std::ostream& out);

// Left-aligned columns two spaces apart, each line prefixed with `indent`.
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows,
                 const std::string& indent = "");

using Subcommand = int(const std::vector<std::string>& args, const std::string& db_path,
                       std::ostream& out);
Subcommand list_runs;
Subcommand export_runs;
Subcommand show_run;
Subcommand compare_runs;
Subcommand tag_run;
Subcommand delete_run;
Subcommand copy_runs;
Subcommand sync_run;

}  // namespace mlq::runs
