#pragma once
// Metadata parsers: a data set's metadata file names each audio file, its label and its split.
// MAESTRO's CSV/JSON is built in ("maestro"); plugins register parsers for other data sets under
// "metadata_parsers", chosen by data.preprocess.metadata_format.
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "mlq/plugin/registry.hpp"

namespace mlq {

struct MetadataItem {
  std::string audio;  // relative to the data set root, or absolute
  std::string label;  // relative to the root; "" for none
  std::string split;  // train, validation or test; "" for the seeded random split
  // Further values the index keeps as columns of their own (a class name, a fold number).
  std::map<std::string, std::string> fields;
};

using MetadataParser = std::function<std::vector<MetadataItem>(const std::filesystem::path& file)>;

inline void register_metadata_parser(Registry& r, std::string name, MetadataParser parser) {
  r.add("metadata_parsers", std::move(name), std::move(parser));
}

// The parser `format` names: a plugin's from the registry, or empty for the built-in "maestro"
// (which preprocess() then uses). A name neither knows is a UserError listing the known ones.
MetadataParser metadata_parser(const Registry& registry, const std::string& format);

// The built-in "maestro" parser (see mlq/maestro.hpp for the formats).
std::vector<MetadataItem> maestro_metadata_items(const std::filesystem::path& file);

}  // namespace mlq
