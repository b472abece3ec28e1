#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace mlq {

// A JSON string literal (quotes included) for `text`.
std::string json_quote(std::string_view text);
// A JSON number, or null for NaN and infinities (which JSON cannot hold).
std::string json_number(double value);
// Splits on `separator`, keeping empty fields.
std::vector<std::string> split(std::string_view text, char separator);
std::string trim(std::string_view text);

}  // namespace mlq
