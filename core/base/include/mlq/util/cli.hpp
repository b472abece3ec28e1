#pragma once
// Command-line helpers shared by the runner's commands and the commands plugins add.
// Overrides contain commas (sweeps a=1,2 and arrays [1,2]): cxxopts must not split vector
// values on them. Include cxxopts only through this header. Without std::regex (the same
// parsing rules, hand-written in cxxopts) each including file compiles ~5 s faster.
#define CXXOPTS_VECTOR_DELIMITER '\0'
#define CXXOPTS_NO_REGEX
#include <cxxopts.hpp>

#include <filesystem>
#include <string>

#include <vector>
#include "mlq/config/compose.hpp"
#include "mlq/config/tree.hpp"

namespace mlq {

// Parses a sub-command's arguments (program name excluded). A parse error becomes a one-line
// UserError pointing at the command's --help.
cxxopts::ParseResult parse_options(cxxopts::Options& options, const std::vector<std::string>& args);

// With -h/--help among the arguments, prints the command's help and returns true.
bool printed_help(const cxxopts::Options& options, const cxxopts::ParseResult& result);

// --task, --config and positional overrides: what every command that composes a config takes.
void add_compose_options(cxxopts::Options& options);
// --plugin-dir DIR (repeatable): folders searched for plugins after the usual ones.
void add_plugin_dir_option(cxxopts::Options& options);
std::vector<std::filesystem::path> plugin_dirs(const cxxopts::ParseResult& result);

// The compose request those options describe; a missing --config is a UserError.
ComposeRequest compose_request(const cxxopts::Options& options, const cxxopts::ParseResult& result);

}  // namespace mlq
