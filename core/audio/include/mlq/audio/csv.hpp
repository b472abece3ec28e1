#pragma once
// RFC 4180 CSV: quoted fields may hold commas, doubled quotes and line breaks; \n or \r\n.
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mlq {

// Throws a one-line UserError.
[[noreturn]] void csv_fail(std::string message);
// A value for an error message: JSON-quoted (control characters stay on one line), cut to a
// readable length at a UTF-8 character boundary.
std::string show_value(std::string_view value);

struct CsvRecord {
  size_t line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

// Reads records one at a time from CSV text; errors are one-line UserErrors naming the file,
// the line and the column.
class CsvReader {
 public:
  CsvReader(std::string_view text, std::string file) : text_(text), file_(std::move(file)) {}

  // Names the columns in error messages once the header is known.
  void set_header(const std::vector<std::string>* header) { header_ = header; }

  // The next non-blank record, or false at the end of the text.
  bool next(CsvRecord& record) {
    while (pos_ < text_.size() && at_line_end()) skip_line_end();
    if (pos_ >= text_.size()) return false;
    record.line = line_;
    record.fields.clear();
    while (true) {
      record.fields.push_back(read_field(record.fields.size()));
      if (pos_ >= text_.size()) return true;
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      skip_line_end();
      return true;
    }
  }

 private:
  bool at_line_end() const {
    if (text_[pos_] == '\n') return true;
    return text_[pos_] == '\r' && (pos_ + 1 == text_.size() || text_[pos_ + 1] == '\n');
  }

  void skip_line_end() {
    if (text_[pos_] == '\r') ++pos_;
    if (pos_ < text_.size()) ++pos_;
    ++line_;
  }

  std::string column_name(size_t index) const {
    if (header_ && index < header_->size()) return "column '" + (*header_)[index] + "'";
    return "field " + std::to_string(index + 1);
  }

  std::string read_field(size_t index) {
    std::string field;
    if (pos_ < text_.size() && text_[pos_] == '"') {
      const size_t start_line = line_;
      ++pos_;
      while (true) {
        if (pos_ >= text_.size())
          csv_fail(file_.string() + ":" + std::to_string(start_line) + ": unterminated quoted " +
                   column_name(index) + ": no closing '\"' before the end of the file");
        const char c = text_[pos_];
        if (c == '"') {
          if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
            field += '"';
            pos_ += 2;
            continue;
          }
          ++pos_;
          break;
        }
        if (c == '\n') ++line_;
        field += c;
        ++pos_;
      }
      if (pos_ < text_.size() && text_[pos_] != ',' && !at_line_end())
        csv_fail(file_.string() + ":" + std::to_string(line_) + ": " + column_name(index) +
                 ": expected ',' or the end of the line after the closing '\"', got " +
                 show_value(text_.substr(pos_, 1)));
      return field;
    }
    while (pos_ < text_.size() && text_[pos_] != ',' && !at_line_end()) {
      if (text_[pos_] == '"')
        csv_fail(file_.string() + ":" + std::to_string(line_) + ": " + column_name(index) +
                 ": a '\"' inside an unquoted field (quote the whole field and double the '\"')");
      field += text_[pos_++];
    }
    return field;
  }

  std::string_view text_;
  std::filesystem::path file_;
  const std::vector<std::string>* header_ = nullptr;
  size_t pos_ = 0;
  size_t line_ = 1;
};

// A field as written to CSV: quoted (with doubled quotes) only when it holds , " CR or LF.
std::string csv_field(std::string_view value);

// A CSV file with a header row: each record as column -> value. Missing `required` columns and
// records with another field count than the header are errors naming file and line.
std::vector<std::map<std::string, std::string>> read_csv_records(
    const std::filesystem::path& file, const std::vector<std::string>& required);
// Writes header and rows atomically.
void write_csv_atomic(const std::filesystem::path& file, const std::vector<std::string>& header,
                      const std::vector<std::vector<std::string>>& rows);

}  // namespace mlq
