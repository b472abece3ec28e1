#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace mlq {

// One row of the MAESTRO (v1, v2, v3) piano data set metadata.
struct MaestroRecord {
  std::string canonical_composer, canonical_title, split;  // split: train, validation or test
  int year = 0;
  std::string midi_filename, audio_filename;  // relative to the data set root
  double duration = 0;                        // seconds
};

// Reads a MAESTRO metadata file: .csv (RFC 4180, optional UTF-8 BOM, \n or \r\n line ends), or
// .json as a list of records (v1) or an object of columns keyed by row number (v2/v3); the format
// is detected by content. Rows come in file order (JSON v2/v3: by row number). Unknown columns are
// ignored. Throws UserError (one line naming the file and, where it applies, the CSV line or the
// 0-based JSON row, the column and what was expected) on any malformed input.
std::vector<MaestroRecord> read_maestro_metadata(const std::filesystem::path& file);

// Writes a MAESTRO-format CSV (header + rows, \n line ends, RFC 4180 quoting where needed)
// atomically: to `file` + ".tmp-<pid>", then renamed over `file`. Throws UserError, leaving no
// temporary file, if it cannot be written or a record could not be read back (a split other than
// train/validation/test, a negative or non-finite duration).
void write_maestro_csv(const std::filesystem::path& file,
                       const std::vector<MaestroRecord>& records);

}  // namespace mlq
