#pragma once
// Metadata parsers: a data set's metadata file names each audio file, its label and its split.
// MAESTRO's CSV/JSON is built in ("maestro"); plugins register parsers for other data sets under
// "metadata_parsers", chosen by data.preprocess.metadata_format.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "mlq/plugin/registry.hpp"

namespace mlq {

struct MetadataItem {
  std::string audio;  // relative to the data set root
  std::string label;  // relative to the root; "" for none
  std::string split;  // train, validation or test
};

using MetadataParser = std::function<std::vector<MetadataItem>(const std::filesystem::path& file)>;

inline void register_metadata_parser(Registry& r, std::string name, MetadataParser parser) {
  r.add("metadata_parsers", std::move(name), std::move(parser));
}

// The built-in "maestro" parser (see mlq/maestro.hpp for the formats).
std::vector<MetadataItem> maestro_metadata_items(const std::filesystem::path& file);

}  // namespace mlq
