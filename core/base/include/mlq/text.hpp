#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace mlq {

// A JSON string literal (quotes included) for `text`.
std::string json_quote(std::string_view text);
// Splits on `separator`, keeping empty fields.
std::vector<std::string> split(std::string_view text, char separator);
std::string trim(std::string_view text);

}  // namespace mlq
