// Configs: the bytes are a TOML file, optionally followed by a line "%%" and override lines
// (Hydra grammar, one a line). The TOML goes through toml::parse, mlq::Config and its canonical
// text (which must read back to itself), then through compose() as an experiment file with the
// overrides (defaults, merging, interpolation); each override line through parse_override,
// parse_value and the --multirun sweep expansion.
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_target.hpp"
#include "mlq/config/compose.hpp"
#include "mlq/config/override.hpp"
#include "mlq/config/tree.hpp"
#include "mlq/util/error.hpp"

namespace {

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    lines.emplace_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

}  // namespace

MLQ_FUZZ_TARGET(config) {
  const std::string_view input = mlq::fuzz::bytes(data, size);
  const size_t separator = input.find("\n%%\n");
  const std::string_view toml_text = input.substr(0, separator);
  const std::vector<std::string> overrides = separator == std::string_view::npos
                                                 ? std::vector<std::string>{}
                                                 : lines_of(input.substr(separator + 4));

  try {
    mlq::Config config(toml::parse(toml_text), {});
    const std::string canonical = config.to_toml();
    config.flatten();
    config.keys();
    // The canonical text (config hashes, a run's saved config) reads back to the same config.
    const mlq::Config again(toml::parse(canonical), {});
    if (again.to_toml() != canonical) std::abort();
  } catch (const toml::parse_error&) {
  } catch (const mlq::UserError&) {
  }

  size_t runs = 1;
  for (const std::string& line : overrides) {
    try {
      const mlq::Override parsed = mlq::parse_override(line);
      mlq::parse_value(parsed.value, "fuzz");
    } catch (const mlq::UserError&) {
    }
    // Bound the cartesian product of the sweep lists so a long input cannot ask for billions.
    size_t commas = 0;
    for (char c : line) commas += c == ',';
    runs = runs * (commas + 1) > 4096 ? 4097 : runs * (commas + 1);
  }
  if (runs <= 4096) {
    try {
      mlq::expand_sweeps(overrides);
    } catch (const mlq::UserError&) {
    }
  }

  const auto file = mlq::fuzz::write_temp_file(reinterpret_cast<const uint8_t*>(toml_text.data()),
                                               toml_text.size(), "exp.toml");
  try {
    const mlq::Config composed = mlq::compose({file, "fuzz", overrides});
    composed.to_toml();
  } catch (const mlq::UserError&) {
  }
}
