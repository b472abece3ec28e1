#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlq {

// `text` in double quotes, escaped as a JSON string (invalid UTF-8 replaced), for messages.
// JSON documents themselves are written with nlohmann::json.
std::string in_quotes(std::string_view text);
// 64-bit FNV-1a over `bytes`, continuing from `hash` (pass the previous result to hash in chunks).
inline constexpr uint64_t kFnv1aOffset = 14695981039346656037ull;
uint64_t fnv1a(std::string_view bytes, uint64_t hash = kFnv1aOffset);

// The whole of `text` as a decimal integer (an optional sign, digits); nullopt for anything else
// or a value out of range.
std::optional<long long> parse_integer(std::string_view text);
// Splits on `separator`, keeping empty fields.
std::vector<std::string> split(std::string_view text, char separator);
std::string trim(std::string_view text);
// ASCII letters in lower or upper case.
std::string to_lower(std::string_view text);
std::string to_upper(std::string_view text);
// `text` with line breaks turned into spaces, so a message stays one line.
std::string one_line(std::string_view text);
// 64-bit FNV-1a of a string, as 16 hex digits (config hashes, run identity).
std::string hash_hex(std::string_view text);
// The candidate closest to `word` by edit distance, or "" when none is close enough to suggest.
std::string nearest(std::string_view word, const std::vector<std::string>& candidates);
// Standard base64 (RFC 4648) with padding.
std::string base64_encode(std::string_view bytes);

}  // namespace mlq
