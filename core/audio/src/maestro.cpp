#include "mlq/audio/maestro.hpp"

#include "mlq/audio/metadata.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string_view>
#include <system_error>

#include "mlq/audio/csv.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/files.hpp"
#include "mlq/util/text.hpp"

namespace mlq {
namespace {

using nlohmann::json;

constexpr size_t kColumnCount = 7;
constexpr std::array<const char*, kColumnCount> kColumns = {
    "canonical_composer", "canonical_title", "split",   "year",
    "midi_filename",      "audio_filename",  "duration"};
enum Column { kComposer, kTitle, kSplit, kYear, kMidi, kAudio, kDuration };

// Every message is one line, whatever a path or nlohmann put into it.
[[noreturn]] void fail(std::string message) {
  for (char& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  throw UserError(message);
}

std::string show_json(const json& value) {
  if (value.is_string()) return show_value(value.get_ref<const std::string&>());
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 60) text = text.substr(0, 60) + "...";
  return std::string(value.type_name()) + " " + text;
}

std::string column_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "'" : ", '") + name + "'";
  return out;
}

bool valid_split(std::string_view split) {
  return split == "train" || split == "validation" || split == "test";
}

void set_split(MaestroRecord& record, const std::string& value, const std::string& where) {
  if (!valid_split(value))
    fail(where + ": expected split train, validation or test, got " + show_value(value));
  record.split = value;
}

void set_duration(MaestroRecord& record, double value, const std::string& where,
                  const std::string& shown) {
  if (!std::isfinite(value) || value < 0)
    fail(where + ": expected a non-negative number of seconds, got " + shown);
  record.duration = value;
}

// ---------------------------------------------------------------------------------------------
// CSV

std::vector<MaestroRecord> parse_csv(std::string_view text, const std::filesystem::path& file) {
  const std::string name = file.string();
  CsvReader reader(text, name);
  CsvRecord record;
  if (!reader.next(record)) fail(name + ": empty file, expected a MAESTRO metadata CSV or JSON");

  std::vector<std::string> header;
  for (const auto& field : record.fields) header.push_back(trim(field));
  reader.set_header(&header);
  std::array<size_t, kColumnCount> index{};
  std::vector<std::string> missing;
  for (size_t c = 0; c < kColumnCount; ++c) {
    std::optional<size_t> found;
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] != kColumns[c]) continue;
      if (found)
        fail(name + ":" + std::to_string(record.line) + ": column '" + kColumns[c] +
             "' appears twice in the header");
      found = i;
    }
    if (found)
      index[c] = *found;
    else
      missing.push_back(kColumns[c]);
  }
  if (!missing.empty())
    fail(name + ":" + std::to_string(record.line) + ": header lacks required column" +
         (missing.size() > 1 ? "s " : " ") + column_list(missing));

  std::vector<MaestroRecord> records;
  while (reader.next(record)) {
    const std::string at = name + ":" + std::to_string(record.line);
    if (record.fields.size() != header.size())
      fail(at + ": expected " + std::to_string(header.size()) + " fields as in the header, got " +
           std::to_string(record.fields.size()));
    auto field = [&](Column c) -> const std::string& { return record.fields[index[c]]; };
    auto where = [&](Column c) { return at + ": column '" + kColumns[c] + "'"; };
    MaestroRecord out;
    out.canonical_composer = field(kComposer);
    out.canonical_title = field(kTitle);
    set_split(out, field(kSplit), where(kSplit));
    out.midi_filename = field(kMidi);
    out.audio_filename = field(kAudio);

    const std::string year = trim(field(kYear));
    auto [year_end, year_error] = std::from_chars(year.data(), year.data() + year.size(), out.year);
    if (year.empty() || year_error != std::errc() || year_end != year.data() + year.size())
      fail(where(kYear) + ": expected an integer year, got " + show_value(field(kYear)));

    const std::string duration = trim(field(kDuration));
    double seconds = 0;
    auto [duration_end, duration_error] =
        std::from_chars(duration.data(), duration.data() + duration.size(), seconds);
    if (duration.empty() || duration_error != std::errc() ||
        duration_end != duration.data() + duration.size())
      fail(where(kDuration) + ": expected a number of seconds, got " +
           show_value(field(kDuration)));
    set_duration(out, seconds, where(kDuration), show_value(field(kDuration)));
    records.push_back(std::move(out));
  }
  return records;
}

// ---------------------------------------------------------------------------------------------
// JSON

void set_from_json(MaestroRecord& record, Column column, const json& value,
                   const std::string& where) {
  switch (column) {
    case kYear: {
      const bool integral = value.is_number_integer() ||
                            (value.is_number_float() && std::isfinite(value.get<double>()) &&
                             std::trunc(value.get<double>()) == value.get<double>());
      if (!integral) fail(where + ": expected an integer year, got " + show_json(value));
      const double year = value.get<double>();
      if (year < std::numeric_limits<int>::min() || year > std::numeric_limits<int>::max())
        fail(where + ": expected an integer year, got " + show_json(value));
      record.year = value.is_number_float() ? static_cast<int>(year) : value.get<int>();
      return;
    }
    case kDuration:
      if (!value.is_number())
        fail(where + ": expected a number of seconds, got " + show_json(value));
      set_duration(record, value.get<double>(), where, show_json(value));
      return;
    default:
      break;
  }
  if (!value.is_string()) fail(where + ": expected a string, got " + show_json(value));
  const auto& text = value.get_ref<const std::string&>();
  switch (column) {
    case kComposer:
      record.canonical_composer = text;
      break;
    case kTitle:
      record.canonical_title = text;
      break;
    case kSplit:
      set_split(record, text, where);
      break;
    case kMidi:
      record.midi_filename = text;
      break;
    case kAudio:
      record.audio_filename = text;
      break;
    default:
      break;
  }
}

// v1: [{"canonical_composer": ..., ...}, ...]
std::vector<MaestroRecord> parse_json_records(const json& rows, const std::string& name) {
  std::vector<MaestroRecord> records;
  for (size_t row = 0; row < rows.size(); ++row) {
    const std::string at = name + ": row " + std::to_string(row);
    const json& item = rows[row];
    if (!item.is_object()) fail(at + ": expected an object of columns, got " + show_json(item));
    std::vector<std::string> missing;
    for (const char* column : kColumns)
      if (!item.contains(column)) missing.push_back(column);
    if (!missing.empty())
      fail(at + ": missing required column" + (missing.size() > 1 ? "s " : " ") +
           column_list(missing));
    MaestroRecord record;
    for (size_t c = 0; c < kColumnCount; ++c)
      set_from_json(record, static_cast<Column>(c), item.at(kColumns[c]),
                    at + ", column '" + kColumns[c] + "'");
    records.push_back(std::move(record));
  }
  return records;
}

// v2/v3: {"canonical_composer": {"0": ..., "1": ...}, ...}
std::vector<MaestroRecord> parse_json_columns(const json& table, const std::string& name) {
  std::vector<std::string> missing;
  for (const char* column : kColumns)
    if (!table.contains(column)) missing.push_back(column);
  if (!missing.empty())
    fail(name + ": missing required column" + (missing.size() > 1 ? "s " : " ") +
         column_list(missing));

  // Row number -> the value of each column, keyed in row order.
  std::map<unsigned long, std::array<const json*, kColumnCount>> rows;
  for (size_t c = 0; c < kColumnCount; ++c) {
    const std::string where = name + ": column '" + kColumns[c] + "'";
    const json& column = table.at(kColumns[c]);
    if (!column.is_object())
      fail(where + ": expected an object mapping row numbers to values, got " + show_json(column));
    for (const auto& [key, value] : column.items()) {
      unsigned long row = 0;
      auto [end, error] = std::from_chars(key.data(), key.data() + key.size(), row);
      if (key.empty() || error != std::errc() || end != key.data() + key.size() ||
          std::to_string(row) != key)
        fail(where + ": expected row numbers as keys, got " + show_value(key));
      rows[row][c] = &value;  // value-initialized to nullptr on first use
    }
  }

  std::vector<MaestroRecord> records;
  for (const auto& [row, values] : rows) {
    const std::string at = name + ": row " + std::to_string(row);
    std::vector<std::string> lacking;
    size_t present = kColumnCount;
    for (size_t c = 0; c < kColumnCount; ++c) {
      if (values[c])
        present = std::min(present, c);
      else
        lacking.push_back(kColumns[c]);
    }
    if (!lacking.empty())
      fail(at + " is in column '" + kColumns[present] + "' but missing in column" +
           (lacking.size() > 1 ? "s " : " ") + column_list(lacking) +
           " (columns of different lengths)");
    MaestroRecord record;
    for (size_t c = 0; c < kColumnCount; ++c)
      set_from_json(record, static_cast<Column>(c), *values[c],
                    at + ", column '" + kColumns[c] + "'");
    records.push_back(std::move(record));
  }
  return records;
}

std::vector<MaestroRecord> parse_json(std::string_view text, const std::filesystem::path& file) {
  const std::string name = file.string();
  json document;
  try {
    document = json::parse(text.begin(), text.end());
  } catch (const json::exception& error) {
    fail(name + ": malformed JSON: " + error.what());
  }
  if (document.is_array()) return parse_json_records(document, name);
  if (document.is_object()) return parse_json_columns(document, name);
  fail(name + ": expected a JSON list of records or an object of columns, got " +
       show_json(document));
}

std::string read_all(const std::filesystem::path& file) {
  std::error_code error;
  const auto status = std::filesystem::status(file, error);
  if (!std::filesystem::exists(status)) fail(file.string() + ": MAESTRO metadata file not found");
  if (std::filesystem::is_directory(status))
    fail(file.string() + ": is a directory, expected a MAESTRO metadata file");
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file.string() + ": cannot open: " + std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) fail(file.string() + ": cannot read: " + std::strerror(errno));
  return buffer.str();
}

// ---------------------------------------------------------------------------------------------
// Writing

// The shortest text that reads back as exactly `value`.
std::string format_double(double value) {
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (error != std::errc()) return std::to_string(value);
  return std::string(buffer, end);
}

}  // namespace

std::vector<MaestroRecord> read_maestro_metadata(const std::filesystem::path& file) {
  const std::string content = read_all(file);
  std::string_view text = content;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos)
    fail(file.string() + ": empty file, expected a MAESTRO metadata CSV or JSON");
  if (text[first] == '[' || text[first] == '{') return parse_json(text, file);
  return parse_csv(text, file);
}

void write_maestro_csv(const std::filesystem::path& file,
                       const std::vector<MaestroRecord>& records) {
  const std::string name = file.string();
  std::string text;
  for (size_t c = 0; c < kColumnCount; ++c) text += std::string(c ? "," : "") + kColumns[c];
  text += '\n';
  for (size_t i = 0; i < records.size(); ++i) {
    const MaestroRecord& r = records[i];
    const std::string at = name + ": records[" + std::to_string(i) + "]";
    if (!valid_split(r.split))
      fail(at + ": expected split train, validation or test, got " + show_value(r.split));
    if (!std::isfinite(r.duration) || r.duration < 0)
      fail(at + ": expected a non-negative finite duration, got " + format_double(r.duration));
    text += csv_field(r.canonical_composer) + ',' + csv_field(r.canonical_title) + ',' + r.split +
            ',' + std::to_string(r.year) + ',' + csv_field(r.midi_filename) + ',' +
            csv_field(r.audio_filename) + ',' + format_double(r.duration) + '\n';
  }

  write_file_atomic(file, text);
}

std::vector<MetadataItem> maestro_metadata_items(const std::filesystem::path& file) {
  std::vector<MetadataItem> items;
  for (const auto& record : read_maestro_metadata(file))
    items.push_back({record.audio_filename, record.midi_filename, record.split, {}});
  return items;
}

}  // namespace mlq
