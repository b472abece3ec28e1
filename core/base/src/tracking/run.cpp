#include "mlq/tracking/run.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "mlq/util/error.hpp"
#include "mlq/util/files.hpp"
#include "mlq/util/log.hpp"
#include "mlq/util/text.hpp"

namespace mlq {
namespace fs = std::filesystem;
namespace {

std::string new_run_id() {
  std::random_device device;
  std::mt19937_64 generator((static_cast<uint64_t>(device()) << 32) ^ device() ^ getpid());
  return fmt::format("{:08x}", static_cast<uint32_t>(generator()));
}

std::string local_time(const char* format) {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char text[32];
  std::strftime(text, sizeof text, format, &local);
  return text;
}

// Output of a short shell command ("" on failure), first line only.
std::string command_output(const char* command) {
  std::string out;
  if (FILE* pipe = popen(command, "r")) {
    std::array<char, 256> buffer{};
    while (fgets(buffer.data(), buffer.size(), pipe)) out += buffer.data();
    if (pclose(pipe) != 0) return "";
  }
  return trim(out.substr(0, out.find('\n')));
}

}  // namespace

Run::Run(Manifest& manifest, std::string id, fs::path dir, std::string task,
         std::string config_toml, std::string best_checkpoint)
    : manifest_(&manifest),
      id_(std::move(id)),
      dir_(std::move(dir)),
      task_(std::move(task)),
      config_toml_(std::move(config_toml)),
      best_checkpoint_(std::move(best_checkpoint)) {}

Run Run::create(Manifest& manifest, const Config& config, const std::vector<std::string>& overrides,
                const std::string& plugin_versions) {
  const std::string task = config.get_string("task");
  const std::string id = new_run_id();
  fs::path dir =
      output_root(config) / task / local_time("%Y-%m-%d") / (local_time("%H-%M-%S") + "-" + id);
  fs::create_directories(dir / "checkpoints");
  write_file_atomic(dir / "config.toml", config.to_toml());
  std::string override_lines;
  for (const auto& text : overrides) override_lines += text + "\n";
  write_file_atomic(dir / "overrides.txt", override_lines);

  RunRecord record;
  record.id = id;
  record.task = task;
  record.start_time = record.heartbeat = now_seconds();
  record.host = host_name();
  record.pid = getpid();
  record.git_commit = command_output("git rev-parse HEAD 2>/dev/null");
  record.git_dirty = !record.git_commit.empty() &&
                     !command_output("git status --porcelain -uno 2>/dev/null").empty();
  record.plugin_versions = plugin_versions;
  record.run_dir = fs::absolute(dir).string();
  record.config_hash = config_hash(config);
  record.config_toml = config.to_toml();
  manifest.create_run(record, config.flatten());
  // [tags] label a run (tags.baseline = "yes"); they are not part of the experiment's identity.
  for (const auto& key : config.keys("tags"))
    manifest.set_tag(id, key,
                     config.table().at_path("tags." + key).is_string()
                         ? config.get_string("tags." + key)
                         : toml_literal(*config.table().at_path("tags." + key).node()));
  return Run(manifest, id, fs::absolute(dir), task, record.config_toml, "");
}

std::optional<Run> Run::reopen(Manifest& manifest, const RunRecord& record) {
  if (!manifest.reopen_run(record.id, getpid())) return std::nullopt;
  return Run(manifest, record.id, record.run_dir, record.task, record.config_toml,
             record.best_checkpoint);
}

void Run::record(std::function<void(Manifest&)> write) {
  waiting_.push_back(std::move(write));
  write_waiting(false);
}

void Run::write_waiting(bool now) {
  const auto clock = std::chrono::steady_clock::now();
  if (!now && clock < retry_at_) return;
  size_t written = 0;
  try {
    for (; !waiting_.empty(); ++written) {
      waiting_.front()(*manifest_);
      waiting_.pop_front();
    }
  } catch (const ManifestConnectionLost& e) {
    if (retry_delay_.count() == 0)
      log::warn(
          "{}; the run goes on, its metrics are in {} and reach the manifest once the "
          "server is back",
          e.what(), (dir_ / "metrics.csv").string());
    retry_delay_ =
        std::min(std::max(retry_delay_ * 2, std::chrono::seconds(1)), std::chrono::seconds(60));
    retry_at_ = clock + retry_delay_;
    return;
  }
  if (retry_delay_.count() > 0)
    log::info("run manifest {} is back: {} waiting writes done", manifest_->location(), written);
  retry_delay_ = std::chrono::seconds(0);
}

void Run::set_best_checkpoint(const std::string& path) {
  best_checkpoint_ = path;
  record([id = id_, path](Manifest& m) { m.set_best_checkpoint(id, path); });
}

void Run::finish(const std::string& status, const std::string& multi_line_error) {
  std::string error = multi_line_error;
  std::replace(error.begin(), error.end(), '\n', ' ');
  record([id = id_, status, error](Manifest& m) { m.set_status(id, status, error); });
  write_waiting(true);
  nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
  if (waiting_.empty()) {
    for (const auto& [key, value] : manifest_->last_metrics(id_)) metrics[key] = value;
  } else {  // the last value of each key, from the run directory
    std::map<std::string, std::pair<int64_t, double>> last;
    for (const MetricPoint& p : read_metrics_csv(dir_ / "metrics.csv")) {
      auto [it, added] = last.emplace(p.key, std::make_pair(p.step, p.value));
      if (!added && p.step >= it->second.first) it->second = {p.step, p.value};
    }
    for (const auto& [key, point] : last) metrics[key] = point.second;
  }
  const nlohmann::ordered_json summary{{"id", id_},
                                       {"task", task_},
                                       {"status", status},
                                       {"error", error},
                                       {"run_dir", dir_.string()},
                                       {"model_path", best_checkpoint_},
                                       {"metrics", metrics},
                                       {"config", config_toml_}};
  const std::string json =
      summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  write_file_atomic(dir_ / "manifest.json", json);
  register_artifacts();
  if (!waiting_.empty())
    log::warn(
        "run manifest {} is still unreachable: once it is back, bring it up to date with "
        "`runner runs sync {}`",
        manifest_->location(), dir_.string());
}

void Run::register_artifacts() {
  record(
      [id = id_, artifacts = run_artifacts(dir_)](Manifest& m) { m.set_artifacts(id, artifacts); });
}

std::vector<Artifact> run_artifacts(const fs::path& dir) {
  std::vector<Artifact> artifacts;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const fs::path relative = fs::relative(it->path(), dir);
    if (relative.filename().string().find(".tmp-") != std::string::npos)
      continue;  // a file being written (write_file_atomic's temporary)
    const std::string kind = artifact_kind(relative);
    artifacts.push_back({relative.string(), kind, kind == "log" ? "" : file_checksum(it->path())});
  }
  if (ec)
    throw UserError(
        fmt::format("{}: cannot list the run directory: {}", dir.string(), ec.message()));
  std::sort(artifacts.begin(), artifacts.end(),
            [](const Artifact& a, const Artifact& b) { return a.path < b.path; });
  return artifacts;
}

std::vector<MetricPoint> read_metrics_csv(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw UserError(fmt::format("{}: cannot read the run's metrics", file.string()));
  std::vector<MetricPoint> points;
  std::string line;
  std::getline(in, line);  // header
  for (size_t number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const size_t a = line.find(','), c = line.rfind(',');
    const size_t b = a == std::string::npos ? a : line.rfind(',', c - 1);
    std::optional<int64_t> step;
    if (a != std::string::npos && b != std::string::npos && a < b && b < c)
      step = parse_integer(line.substr(0, a));
    char* value_end = nullptr;
    char* time_end = nullptr;
    MetricPoint p;
    if (step) {
      const std::string value = line.substr(b + 1, c - b - 1), time = line.substr(c + 1);
      p.value = std::strtod(value.c_str(), &value_end);
      p.time = std::strtod(time.c_str(), &time_end);
      if (*value_end || *time_end || value.empty() || time.empty()) step.reset();
    }
    if (!step)
      throw UserError(fmt::format("{}:{}: expected step,key,value,time, not '{}'", file.string(),
                                  number, line));
    p.step = *step;
    p.key = line.substr(a + 1, b - a - 1);
    points.push_back(std::move(p));
  }
  return points;
}

std::string artifact_kind(const fs::path& relative_path) {
  const std::string top = relative_path.begin()->string();
  const std::string name = relative_path.filename().string();
  const std::string ext = relative_path.extension().string();
  if (top == "checkpoints") return "checkpoint";
  if (top == "tb") return "tensorboard";
  if (ext == ".png" || ext == ".svg" || ext == ".jpg") return "image";
  if (ext == ".wav" || ext == ".flac" || ext == ".ogg" || ext == ".mp3") return "audio";
  if (ext == ".mid" || ext == ".midi") return "midi";
  if (name == "metrics.csv") return "metrics";
  if (name == "run.log") return "log";
  if (name == "config.toml" || name == "overrides.txt") return "config";
  if (name == "manifest.json") return "summary";
  return "other";
}

fs::path output_root(const Config& config) {
  return config.get_string("output_dir", "outputs");
}

std::string manifest_location(const Config& config) {
  if (config.has("manifest.db")) return config.get_string("manifest.db");
  if (const char* env = std::getenv("MLQ_DB")) return env;
  return (output_root(config) / "runs.sqlite").string();
}

std::string manifest_location(const std::string& db_flag) {
  if (!db_flag.empty()) return db_flag;
  if (const char* env = std::getenv("MLQ_DB")) return env;
  return (fs::path("outputs") / "runs.sqlite").string();
}

fs::path trash_folder(const std::string& manifest, const RunRecord& run) {
  if (is_manifest_server(manifest))
    return fs::path(run.run_dir).parent_path().parent_path().parent_path() / "trash";
  const fs::path file(manifest);
  return (file.has_parent_path() ? file.parent_path() : fs::path(".")) / "trash";
}

std::string config_hash(const Config& config) {
  std::string text;
  for (const auto& [key, value] : config.flatten())
    if (key != "trainer.resume" && key.rfind("tags.", 0) != 0) text += key + "=" + value + "\n";
  return hash_hex(text);
}

}  // namespace mlq
