#include "mlq/audio/csv.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "mlq/util/error.hpp"
#include "mlq/util/files.hpp"
#include "mlq/util/text.hpp"

namespace mlq {

void csv_fail(std::string message) {
  for (char& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  throw UserError(message);
}

std::string show_value(std::string_view value) {
  constexpr size_t kMax = 60;
  if (value.size() <= kMax) return in_quotes(value);
  size_t end = kMax;
  while (end > 0 && (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80) --end;
  return in_quotes(std::string(value.substr(0, end)) + "...");
}

std::string csv_field(std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::vector<std::map<std::string, std::string>> read_csv_records(
    const std::filesystem::path& file, const std::vector<std::string>& required) {
  std::ifstream in(file, std::ios::binary);
  if (!in) csv_fail(file.string() + ": cannot open");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  CsvReader reader(text, file.string());
  CsvRecord record;
  if (!reader.next(record)) csv_fail(file.string() + ": empty file, expected a CSV header");
  const std::vector<std::string> header = record.fields;
  reader.set_header(&header);
  for (const auto& column : required)
    if (std::find(header.begin(), header.end(), column) == header.end())
      csv_fail(file.string() + ":1: header lacks required column '" + column + "'");
  std::vector<std::map<std::string, std::string>> records;
  while (reader.next(record)) {
    if (record.fields.size() != header.size())
      csv_fail(file.string() + ":" + std::to_string(record.line) + ": expected " +
               std::to_string(header.size()) + " fields as in the header, got " +
               std::to_string(record.fields.size()));
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < header.size(); ++i) row[header[i]] = record.fields[i];
    records.push_back(std::move(row));
  }
  return records;
}

void write_csv_atomic(const std::filesystem::path& file, const std::vector<std::string>& header,
                      const std::vector<std::vector<std::string>>& rows) {
  std::string text;
  auto line = [&](const std::vector<std::string>& fields) {
    for (size_t i = 0; i < fields.size(); ++i) text += (i ? "," : "") + csv_field(fields[i]);
    text += '\n';
  };
  line(header);
  for (const auto& row : rows) line(row);
  write_file_atomic(file, text);
}

}  // namespace mlq
