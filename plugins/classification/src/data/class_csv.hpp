#pragma once
// The "class_csv" metadata parser: a CSV with a header naming, in any order, the audio file
// (`filename`, `file` or `path`), its class (`label`, `category` or `class`), and optionally
// `fold` and `split`. ESC-50's meta/esc50.csv (filename,fold,target,category,...) reads as it is.
// Files are found relative to the CSV's folder, else in ../audio/ beside it (ESC-50's layout).
// The class and fold go into the index (columns `class` and `fold`); rows without a split get
// preprocessing's seeded random split, which `data.fold` replaces when set.
#include <filesystem>
#include <vector>

#include "mlq/plugin_base.hpp"

namespace mlq::classification {

std::vector<MetadataItem> class_csv_items(const std::filesystem::path& csv);

}  // namespace mlq::classification
