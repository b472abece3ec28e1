#include "data/class_csv.hpp"

#include <fmt/format.h>

namespace mlq::classification {
namespace fs = std::filesystem;
namespace {

// The first of `names` that the header has; "" for none.
std::string column(const std::map<std::string, std::string>& row,
                   std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (row.count(name)) return name;
  return "";
}

}  // namespace

std::vector<MetadataItem> class_csv_items(const fs::path& csv) {
  const auto rows = read_csv_records(csv, {});
  if (rows.empty()) throw UserError(csv.string() + ": no rows");
  const std::string file_column = column(rows.front(), {"filename", "file", "path"});
  const std::string label_column = column(rows.front(), {"label", "category", "class"});
  if (file_column.empty() || label_column.empty())
    throw UserError(csv.string() +
                    ": expected a header with the columns filename (or file, path) and label "
                    "(or category, class), and optionally fold and split");
  const bool has_fold = rows.front().count("fold") > 0, has_split = rows.front().count("split") > 0;
  const fs::path folder = csv.parent_path(), audio_folder = folder.parent_path() / "audio";
  std::vector<MetadataItem> items;
  size_t line = 1;
  for (const auto& row : rows) {
    ++line;
    MetadataItem item;
    const std::string& file = row.at(file_column);
    const std::string& label = row.at(label_column);
    if (file.empty() || label.empty())
      throw UserError(fmt::format("{}: line {}: empty {}", csv.string(), line,
                                  file.empty() ? file_column : label_column));
    std::error_code error;
    const bool in_audio =
        !fs::exists(folder / file, error) && fs::exists(audio_folder / file, error);
    item.audio =
        fs::absolute((in_audio ? audio_folder : folder) / file).lexically_normal().string();
    item.split = has_split ? row.at("split") : "";
    item.fields["class"] = label;
    if (has_fold) {
      const std::string& fold = row.at("fold");
      if (fold.empty() || fold.find_first_not_of("0123456789") != std::string::npos)
        throw UserError(fmt::format("{}: line {}: fold {} is not a positive whole number",
                                    csv.string(), line, show_value(fold)));
      item.fields["fold"] = fold;
    }
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace mlq::classification
