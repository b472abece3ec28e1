#include "mlq/audio/preprocess.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "mlq/audio/audio_io.hpp"
#include "mlq/audio/csv.hpp"
#include "mlq/audio/npy.hpp"
#include "mlq/util/files.hpp"
#include "mlq/util/log.hpp"
#include "mlq/util/progress.hpp"
#include "mlq/util/text.hpp"

namespace mlq {
namespace fs = std::filesystem;
namespace {

const std::vector<std::string> kIndexColumns{"id",           "split",    "duration",
                                             "audio",        "label",    "source_audio",
                                             "source_label", "checksum", "sample_rate"};

struct Item {
  std::string id;
  fs::path audio;  // absolute source paths
  fs::path label;
  std::string split;
  std::map<std::string, std::string> fields;
};

// `file` relative to `root`; either may be absolute (a metadata parser may list absolute paths).
fs::path relative_to(const fs::path& file, const fs::path& root) {
  return fs::absolute(file).lexically_normal().lexically_relative(
      fs::absolute(root).lexically_normal());
}

std::string relative_stem(const fs::path& file, const fs::path& root) {
  fs::path relative = relative_to(file, root);
  return (relative.parent_path() / relative.stem()).generic_string();
}

// Files below `root` whose extension is `ext` in any case (".flac" and ".FLAC").
std::vector<fs::path> files_with_extension(const fs::path& root, const std::string& ext) {
  std::vector<fs::path> files;
  const std::string wanted = to_lower("." + ext);
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.is_regular_file() && to_lower(entry.path().extension().string()) == wanted)
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

// Audio and labels pair in sorted order, one label per audio, with the same relative stem.
std::vector<Item> pair_files(const PreprocessOptions& o) {
  std::vector<Item> items;
  for (const auto& audio : files_with_extension(o.source_path, o.audio_ext))
    items.push_back({relative_stem(audio, o.source_path), audio, {}, "", {}});
  if (items.empty())
    throw UserError(fmt::format("{}: no .{} files found (data.preprocess.audio_ext)",
                                o.source_path.string(), o.audio_ext));
  if (o.label_ext.empty()) return items;
  const std::vector<fs::path> labels = files_with_extension(o.source_path, o.label_ext);
  std::vector<std::string> unpaired;
  std::map<std::string, fs::path> by_stem;
  for (const auto& label : labels) by_stem[relative_stem(label, o.source_path)] = label;
  for (auto& item : items) {
    auto it = by_stem.find(item.id);
    if (it == by_stem.end()) {
      unpaired.push_back(item.id + "." + o.audio_ext + " (no ." + o.label_ext + ")");
      continue;
    }
    item.label = it->second;
    by_stem.erase(it);
  }
  for (const auto& [stem, label] : by_stem)
    unpaired.push_back(stem + "." + o.label_ext + " (no ." + o.audio_ext + ")");
  if (!unpaired.empty()) {
    std::string listed;
    for (size_t i = 0; i < unpaired.size() && i < 10; ++i) listed += (i ? ", " : "") + unpaired[i];
    if (unpaired.size() > 10) listed += fmt::format(" and {} more", unpaired.size() - 10);
    throw UserError(
        fmt::format("{}: {} unpaired files: {}", o.source_path.string(), unpaired.size(), listed));
  }
  return items;
}

// Seeded shuffle, then the first split[0] share is train, the next validation, the rest test.
// Only the items without a split take part.
void assign_random_splits(std::vector<Item>& items, const PreprocessOptions& o) {
  std::vector<size_t> order;
  for (size_t i = 0; i < items.size(); ++i)
    if (items[i].split.empty()) order.push_back(i);
  std::mt19937_64 generator(static_cast<uint64_t>(o.seed));
  std::shuffle(order.begin(), order.end(), generator);
  const double total = o.split[0] + o.split[1] + o.split[2];
  const auto n = static_cast<double>(order.size());
  const auto train = static_cast<size_t>(std::llround(n * o.split[0] / total));
  const auto validation = static_cast<size_t>(std::llround(n * o.split[1] / total));
  for (size_t rank = 0; rank < order.size(); ++rank)
    items[order[rank]].split = rank < train                ? "train"
                               : rank < train + validation ? "validation"
                                                           : "test";
}

// Audio extensions tried, after the listed one and audio_ext, for a metadata row whose file is
// not on disk as listed (a FLAC copy of MAESTRO, or a mix of formats).
const char* const kAudioExtensions[] = {".wav",  ".flac", ".mp3", ".ogg", ".opus",
                                        ".aiff", ".aif",  ".m4a", ".wv"};

// The file a metadata row means: with `preferred_ext` (the config's), else as listed, else with
// any of `others`; nullopt when none exists.
std::optional<fs::path> existing_variant(const fs::path& listed, const std::string& preferred_ext,
                                         const std::vector<std::string>& others) {
  std::error_code error;
  fs::path preferred = listed;
  preferred.replace_extension("." + preferred_ext);
  if (fs::is_regular_file(preferred, error)) return preferred;
  if (fs::is_regular_file(listed, error)) return listed;
  for (const std::string& extension : others) {
    fs::path candidate = listed;
    candidate.replace_extension(extension);
    if (fs::is_regular_file(candidate, error)) return candidate;
  }
  return std::nullopt;
}

// The metadata names each pair and its split. Its files are taken with audio_ext (label_ext for
// labels) where that file exists, else as listed, else under another audio extension.
std::vector<Item> items_from_metadata(const PreprocessOptions& o, const MetadataParser& parser) {
  std::vector<Item> items;
  const fs::path metadata = o.source_path / o.metadata;
  const std::vector<std::string> audio_extensions(std::begin(kAudioExtensions),
                                                  std::end(kAudioExtensions));
  auto find = [&](const std::string& listed, const std::string& preferred_ext,
                  const std::vector<std::string>& others) {
    if (auto found = existing_variant(o.source_path / listed, preferred_ext, others)) return *found;
    std::vector<std::string> tried{"." + preferred_ext};
    for (const std::string& other : others)
      if (other != tried.front()) tried.push_back(other);
    throw UserError(fmt::format("{}: lists {}, which does not exist (nor with {})",
                                metadata.string(), listed, fmt::join(tried, ", ")));
  };
  for (const auto& record : parser(metadata)) {
    if (!record.split.empty() && record.split != "train" && record.split != "validation" &&
        record.split != "test")
      throw UserError(fmt::format("{}: {} has split '{}' (expected train, validation or test)",
                                  metadata.string(), record.audio, record.split));
    for (const auto& field : record.fields)
      if (std::find(kIndexColumns.begin(), kIndexColumns.end(), field.first) != kIndexColumns.end())
        throw UserError(
            fmt::format("{}: the {} parser gives {} a field '{}', which is a column "
                        "of the index already",
                        metadata.string(), o.metadata_format, record.audio, field.first));
    const fs::path audio = find(record.audio, o.audio_ext, audio_extensions);
    Item item{relative_stem(audio, o.source_path), audio, {}, record.split, record.fields};
    if (!o.label_ext.empty() && !record.label.empty())
      item.label = find(record.label, o.label_ext, {});
    items.push_back(std::move(item));
  }
  if (items.empty()) throw UserError(metadata.string() + ": no rows");
  return items;
}

// `checksum`: the source's, if already known; otherwise taken while decoding it.
IndexEntry process_item(const Item& item, const PreprocessOptions& o, const std::string& checksum) {
  IndexEntry entry;
  entry.id = item.id;
  entry.split = item.split;
  entry.checksum = checksum;
  entry.sample_rate = o.sample_rate;
  entry.fields = item.fields;
  entry.source_audio = relative_to(item.audio, o.source_path).generic_string();
  entry.audio = item.id + "." + o.processed_ext;
  int64_t samples = 0;
  {
    NpyWriter writer(o.destination_path / entry.audio, DType::Float32);
    decode_audio(
        item.audio, o.sample_rate,
        [&](const float* block, size_t count) {
          writer.append(block, count);
          samples += static_cast<int64_t>(count);
        },
        checksum.empty() ? &entry.checksum : nullptr);
    writer.finish(NpyWriter::Sync::later);  // save_index syncs the batch
  }
  entry.duration = static_cast<double>(samples) / o.sample_rate;
  if (!item.label.empty()) {
    entry.source_label = relative_to(item.label, o.source_path).generic_string();
    entry.label = item.id + item.label.extension().string();
    const fs::path target = o.destination_path / entry.label;
    replace_file_atomic(target, [&](const fs::path& temporary) {
      fs::copy_file(item.label, temporary, fs::copy_options::overwrite_existing);
    });
  }
  return entry;
}

}  // namespace

PreprocessOptions PreprocessOptions::from(const Config& c) {
  c.check_known_keys(
      "", {"source_path", "destination_path", "metadata", "metadata_format", "audio_ext",
           "label_ext", "processed_ext", "sample_rate", "split", "seed", "workers", "on_error"});
  PreprocessOptions o;
  o.source_path = c.get_string("source_path");
  o.destination_path = c.get_string("destination_path");
  // metadata and label_ext take false for "none", as in the seed template.
  auto string_or_false = [&](const char* key, const std::string& fallback) {
    if (c.has(key) && c.table().at_path(key).is_boolean()) {
      if (c.get_bool(key))
        throw ConfigError(
            fmt::format("config key 'data.preprocess.{}' ({}): expected a string or "
                        "false, got true",
                        key, c.origin(key)));
      return std::string();
    }
    return c.get_string(key, fallback);
  };
  o.metadata = string_or_false("metadata", "");
  o.metadata_format = c.get_string("metadata_format", o.metadata_format);
  // Extensions are taken with or without their dot (the seed template writes ".wav").
  auto without_dot = [](std::string ext) { return ext.rfind('.', 0) == 0 ? ext.substr(1) : ext; };
  o.audio_ext = without_dot(c.get_string("audio_ext", o.audio_ext));
  o.label_ext = without_dot(string_or_false("label_ext", ""));
  o.processed_ext = without_dot(c.get_string("processed_ext", o.processed_ext));
  o.sample_rate = c.get_double("sample_rate", o.sample_rate);
  if (c.has("split")) o.split = c.get_doubles("split");
  o.seed = c.get_int("seed", o.seed);
  o.workers = c.get_int("workers", o.workers, Range::at_least(1));
  o.on_error = c.get_string("on_error", o.on_error);
  if (o.split.size() != 3 ||
      std::any_of(o.split.begin(), o.split.end(), [](double r) { return r < 0; }) ||
      o.split[0] + o.split[1] + o.split[2] <= 0)
    throw ConfigError("config key 'data.preprocess.split' (" + c.origin("split") +
                      "): expected three non-negative ratios [train, validation, test]");
  if (o.on_error != "skip" && o.on_error != "stop")
    throw ConfigError("config key 'data.preprocess.on_error' (" + c.origin("on_error") +
                      "): expected \"skip\" or \"stop\"");
  if (o.sample_rate <= 0)
    throw ConfigError("config key 'data.preprocess.sample_rate' (" + c.origin("sample_rate") +
                      "): expected a positive rate in Hz");
  if (o.processed_ext != "npy")
    throw ConfigError("config key 'data.preprocess.processed_ext' (" + c.origin("processed_ext") +
                      "): only \"npy\" is supported");
  if (!fs::is_directory(o.source_path))
    throw ConfigError("config key 'data.preprocess.source_path' (" + c.origin("source_path") +
                      "): folder '" + o.source_path.string() + "' does not exist");
  return o;
}

std::vector<IndexEntry> read_index(const fs::path& index_csv) {
  std::vector<IndexEntry> entries;
  for (const auto& row : read_csv_records(index_csv, kIndexColumns)) {
    IndexEntry e;
    e.id = row.at("id");
    e.split = row.at("split");
    e.duration = std::stod(row.at("duration"));
    e.audio = row.at("audio");
    e.label = row.at("label");
    e.source_audio = row.at("source_audio");
    e.source_label = row.at("source_label");
    e.checksum = row.at("checksum");
    e.sample_rate = std::stod(row.at("sample_rate"));
    for (const auto& [column, value] : row)
      if (std::find(kIndexColumns.begin(), kIndexColumns.end(), column) == kIndexColumns.end())
        e.fields[column] = value;
    entries.push_back(std::move(e));
  }
  return entries;
}

void write_index(const fs::path& index_csv, const std::vector<IndexEntry>& entries) {
  std::set<std::string> extra;  // every entry's further columns, in name order
  for (const auto& e : entries)
    for (const auto& field : e.fields) extra.insert(field.first);
  std::vector<std::string> header = kIndexColumns;
  header.insert(header.end(), extra.begin(), extra.end());
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : entries) {
    rows.push_back({e.id, e.split, fmt::format("{:.6f}", e.duration), e.audio, e.label,
                    e.source_audio, e.source_label, e.checksum, fmt::format("{}", e.sample_rate)});
    for (const std::string& column : extra) {
      const auto found = e.fields.find(column);
      rows.back().push_back(found == e.fields.end() ? "" : found->second);
    }
  }
  write_csv_atomic(index_csv, header, rows);
}

MetadataParser metadata_parser(const Registry& registry, const std::string& format) {
  if (format == "maestro" && !registry.contains("metadata_parsers", format)) return {};
  return registry.factory<MetadataParser>("metadata_parsers", format);
}

void preprocess_or_fail(const PreprocessOptions& options, const MetadataParser& parser) {
  const PreprocessReport report = preprocess(options, parser);
  if (report.processed > 0)
    log::info("preprocess: {} files into {}", report.processed, options.destination_path.string());
  if (!report.failed.empty())
    throw UserError(fmt::format("preprocessing failed for {} files, first: {}",
                                report.failed.size(), report.failed.front()));
}

PreprocessReport preprocess(const PreprocessOptions& o, const MetadataParser& parser) {
  std::vector<Item> items;
  if (o.metadata.empty())
    items = pair_files(o);
  else if (parser)
    items = items_from_metadata(o, parser);
  else if (o.metadata_format == "maestro")
    items = items_from_metadata(o, maestro_metadata_items);
  else
    throw UserError(
        fmt::format("data.preprocess.metadata_format: no metadata parser named '{}' "
                    "(built in: maestro; plugins add others)",
                    o.metadata_format));
  assign_random_splits(items, o);
  fs::create_directories(o.destination_path);
  const fs::path index_path = o.destination_path / "index.csv";

  std::map<std::string, IndexEntry> done;  // by id: what a previous run already produced
  if (fs::exists(index_path))
    for (auto& entry : read_index(index_path)) done[entry.id] = std::move(entry);

  PreprocessReport report;
  std::mutex mutex;
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::atomic<int64_t> finished{0};
  std::string first_error;
  std::condition_variable workers_done;
  int running = 0;  // worker threads still working (under `mutex`)
  ProgressLine progress;
  std::set<std::string> current;
  for (const auto& item : items) current.insert(item.id);
  // The main thread rewrites the index once a second while files finish (and once at the end):
  // an interrupted run redoes at most a second of work, large data sets avoid a rewrite per file,
  // and the workers never wait for the disk. Processed files skip their own fsync; one syncfs
  // before each rewrite makes every file the index lists durable, so after a crash the index
  // never names a file that did not reach disk.
  int64_t unsaved = 0;  // files processed since the last snapshot (under `mutex`)
  auto save_index = [&] {
    std::vector<IndexEntry> entries;  // files no longer in the source drop out
    bool sync = false;
    {
      std::lock_guard<std::mutex> lock(mutex);
      sync = unsaved > 0;
      unsaved = 0;
      for (const auto& [id, entry] : done)
        if (current.count(id)) entries.push_back(entry);
    }
    if (sync) sync_filesystem(o.destination_path);
    write_index(index_path, entries);
  };

  auto work = [&] {
    for (size_t i; !stop && (i = next++) < items.size();) {
      const Item& item = items[i];
      std::string line;
      try {
        // A file a previous run did is hashed first, to skip it if unchanged; a new one is
        // hashed in the same pass that decodes it.
        bool seen = false;
        {
          std::lock_guard<std::mutex> lock(mutex);
          seen = done.count(item.id) > 0;
        }
        std::string checksum;
        bool unchanged = false;
        if (seen) {
          checksum = file_checksum(item.audio);
          std::lock_guard<std::mutex> lock(mutex);
          auto it = done.find(item.id);
          unchanged = it != done.end() && it->second.checksum == checksum &&
                      it->second.sample_rate == o.sample_rate && it->second.split == item.split &&
                      fs::exists(o.destination_path / it->second.audio) &&
                      (item.label.empty() || fs::exists(o.destination_path / it->second.label));
          if (unchanged) {
            it->second.fields = item.fields;  // relabelled in the metadata: no need to decode
            ++report.unchanged;
          }
        }
        if (!unchanged) {
          IndexEntry entry = process_item(item, o, checksum);
          std::lock_guard<std::mutex> lock(mutex);
          done[entry.id] = std::move(entry);
          ++report.processed;
          ++unsaved;
        }
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mutex);
        report.failed.push_back(e.what());
        if (first_error.empty()) first_error = e.what();
        if (o.on_error == "stop") stop = true;
        line = std::string("skipped ") + e.what();
      }
      if (!line.empty()) progress.print(line);
      progress.update("preprocess", ++finished, static_cast<int64_t>(items.size()), "files");
    }
    std::lock_guard<std::mutex> lock(mutex);
    --running;
    workers_done.notify_all();
  };
  const int workers =
      static_cast<int>(std::min<int64_t>(o.workers, static_cast<int64_t>(items.size())));
  running = workers;
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) threads.emplace_back(work);
  // A save that fails (disk full, say) stops the run with that error.
  std::string index_error;
  for (std::unique_lock<std::mutex> lock(mutex);
       !workers_done.wait_for(lock, std::chrono::seconds(1), [&] { return running == 0; });) {
    if (unsaved == 0 || !index_error.empty()) continue;
    lock.unlock();
    try {
      save_index();
    } catch (const std::exception& e) {
      index_error = e.what();
      stop = true;
    }
    lock.lock();
  }
  for (auto& thread : threads) thread.join();
  progress.finish();
  if (!index_error.empty()) throw UserError(index_error);
  save_index();
  if (stop)
    throw UserError(first_error +
                    " (data.preprocess.on_error = \"stop\"; finished files are kept)");
  return report;
}

}  // namespace mlq
