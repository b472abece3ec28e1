#include "data/clip_dataset.hpp"

#include <fmt/format.h>

#include <set>

namespace mlq::classification {
namespace fs = std::filesystem;
namespace {

// The index with its splits made from folds: fold k test, the validation fold validation, the
// rest train. Written beside the index (index-fold-<k>.csv) so the audio paths stay valid.
fs::path fold_index(const fs::path& root, int64_t fold, int64_t validation_fold) {
  std::vector<IndexEntry> entries = read_index(root / "index.csv");
  std::set<int64_t> folds;
  for (const IndexEntry& entry : entries) {
    const auto found = entry.fields.find("fold");
    if (found == entry.fields.end() || found->second.empty())
      throw UserError(
          fmt::format("{}: '{}' has no fold (data.fold needs a metadata CSV with a "
                      "fold column)",
                      (root / "index.csv").string(), entry.id));
    folds.insert(std::stoll(found->second));
  }
  if (!folds.count(fold))
    throw ConfigError(fmt::format("config key 'data.fold': fold {} is not in {} (folds: {})", fold,
                                  (root / "index.csv").string(), fmt::join(folds, ", ")));
  if (validation_fold == 0) {  // the next fold, cyclically
    auto next = folds.upper_bound(fold);
    validation_fold = next == folds.end() ? *folds.begin() : *next;
  }
  if (validation_fold == fold || !folds.count(validation_fold))
    throw ConfigError(fmt::format(
        "config key 'data.validation_fold': expected a fold of {} other than data.fold = {}",
        fmt::join(folds, ", "), fold));
  for (IndexEntry& entry : entries) {
    const int64_t k = std::stoll(entry.fields.at("fold"));
    entry.split = k == fold ? "test" : k == validation_fold ? "validation" : "train";
  }
  const fs::path index = root / fmt::format("index-fold-{}.csv", fold);
  write_index(index, entries);
  return index;
}

}  // namespace

ClipDataOptions ClipDataOptions::from(const Config& c) {
  c.check_known_keys("", {"root", "clip_seconds", "hop_seconds", "fold", "validation_fold",
                          "unseen_roots", "synth", "preprocess"});
  ClipDataOptions o;
  o.root = c.get_string("root");
  o.clip_seconds = c.get_double("clip_seconds", o.clip_seconds, Range::above(0));
  o.hop_seconds = c.get_double("hop_seconds", o.clip_seconds / 2, Range::above(0));
  o.fold = c.get_int("fold", 0, Range::at_least(0));
  o.validation_fold = c.get_int("validation_fold", 0, Range::at_least(0));
  if (c.has("unseen_roots"))
    for (const std::string& root : c.get_strings("unseen_roots")) o.unseen_roots.push_back(root);
  return o;
}

std::string clip_label(const IndexEntry& entry) {
  const auto found = entry.fields.find("class");
  if (found != entry.fields.end() && !found->second.empty()) return found->second;
  return fs::path(entry.source_audio).parent_path().filename().string();
}

std::vector<std::string> index_classes(const fs::path& index_csv) {
  std::set<std::string> names;
  for (const IndexEntry& entry : read_index(index_csv)) {
    const std::string label = clip_label(entry);
    if (label.empty())
      throw UserError(fmt::format("{}: '{}' has no class (a label column, or a folder per class)",
                                  index_csv.string(), entry.id));
    names.insert(label);
  }
  if (names.size() < 2)
    throw UserError(fmt::format("{}: {} class{} found; classification needs at least two",
                                index_csv.string(), names.size(), names.size() == 1 ? "" : "es"));
  return {names.begin(), names.end()};
}

ClipDataset::ClipDataset(const ClipDataOptions& options, Split split,
                         std::vector<std::string> classes)
    : options_(options), classes_(std::move(classes)) {
  add_root(options.root, split);
  if (split == Split::Test)
    for (const auto& root : options.unseen_roots) add_root(root, split);
}

void ClipDataset::add_root(const fs::path& root, Split split) {
  const fs::path index = root != options_.root || options_.fold == 0
                             ? root / "index.csv"
                             : fold_index(root, options_.fold, options_.validation_fold);
  std::map<std::string, int64_t> clip_of;  // by index id
  for (const IndexEntry& entry : read_index(index)) {
    if (entry.split != split_name(split)) continue;
    const std::string label = clip_label(entry);
    const auto found = std::lower_bound(classes_.begin(), classes_.end(), label);
    if (found == classes_.end() || *found != label)
      throw UserError(fmt::format("{}: '{}' has class '{}', which the model does not know ({})",
                                  index.string(), entry.id, label, fmt::join(classes_, ", ")));
    clip_of[entry.id] = static_cast<int64_t>(clips_.size());
    clips_.push_back({found - classes_.begin(), roots_.size(), root / entry.audio});
  }
  const double hop = split == Split::Train ? options_.hop_seconds : options_.clip_seconds;
  const auto classes = static_cast<int64_t>(classes_.size());
  const bool unseen = !roots_.empty();
  roots_.push_back(std::make_unique<SegmentDataset>(
      index, split_name(split), SegmentOptions{options_.clip_seconds, hop},
      [this, clip_of, classes, unseen](const IndexEntry& entry, double, double) {
        const int64_t clip = clip_of.at(entry.id);
        const int64_t label = clips_[clip].label;
        return TensorMap{
            {"label", torch::tensor(label, torch::kInt64)},
            {"target", torch::one_hot(torch::tensor(label), classes).to(torch::kFloat)},
            {"clip", torch::tensor(clip, torch::kInt64)},
            {"unseen", torch::tensor(unseen)}};
      }));
  size_ += roots_.back()->size();
}

TensorMap ClipDataset::get(int64_t index) const {
  for (const auto& root : roots_) {
    if (index < root->size()) return root->get(index);
    index -= root->size();
  }
  throw std::out_of_range(fmt::format("clip data set: no example {}", index));
}

}  // namespace mlq::classification
