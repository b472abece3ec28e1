#pragma once
// `runner preprocess`: decode a folder of audio (any format libsox reads) to mono float32 .npy at
// one sample rate, pair each file with its label, assign splits, and write an index.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "mlq/audio/metadata.hpp"
#include "mlq/config/tree.hpp"

namespace mlq {

// [data.preprocess], the seed template's keys plus split ratios, seed, workers and on_error.
struct PreprocessOptions {
  std::filesystem::path source_path;
  std::filesystem::path destination_path;
  std::string metadata;  // file under source_path ("" or false: seeded random split)
  std::string metadata_format = "maestro";  // the metadata parser's name
  std::string audio_ext = "wav";
  std::string label_ext;  // "" (label_ext = false): a label-less data set
  std::string processed_ext = "npy";
  double sample_rate = 16000;
  std::vector<double> split{0.8, 0.1, 0.1};
  int64_t seed = 0;
  int64_t workers = 2;
  std::string on_error = "skip";  // "skip": report the file and go on; "stop": end the run

  static PreprocessOptions from(const Config& preprocess_config);
};

// One row of the index (destination_path/index.csv); paths relative to destination_path.
struct IndexEntry {
  std::string id;  // the source's relative path without extension
  std::string split;
  double duration = 0;
  std::string audio;
  std::string label;  // "" for label-less data
  std::string source_audio;
  std::string source_label;
  std::string checksum;  // of the source audio
  double sample_rate = 0;
  // The metadata's further values (MetadataItem::fields), after the columns above.
  std::map<std::string, std::string> fields;
};

struct PreprocessReport {
  int64_t processed = 0;
  int64_t unchanged = 0;  // skipped: same source checksum and parameters as the index says
  std::vector<std::string> failed;  // one line each
};

// `parser` reads the metadata file; empty: the built-in one named by metadata_format.
PreprocessReport preprocess(const PreprocessOptions& options, const MetadataParser& parser = {});

// For a task that preprocesses its data on first use: preprocess, a log line of what was done, and
// a UserError naming the first file that failed (a task does not train on part of its data).
void preprocess_or_fail(const PreprocessOptions& options, const MetadataParser& parser = {});

std::vector<IndexEntry> read_index(const std::filesystem::path& index_csv);
void write_index(const std::filesystem::path& index_csv, const std::vector<IndexEntry>& entries);

}  // namespace mlq
