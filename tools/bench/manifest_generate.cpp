// Writes a large run manifest for tools/bench/manifest_queries.sh: N runs (default 100,000), each
// with ~50 params, 2 tags, and 20 metrics of 100 steps (200 M metric points at the default size).
// The schema comes from mlq::Manifest; rows are bulk-loaded with SQLite's journal off (a per-run
// log_metrics() would take hours at this size), then a sample of runs is checked against the
// Manifest's own reading of the history, so the file is one the runner could have written.
// Usage: build/bin/bench_manifest_generate OUT.sqlite [runs] [metrics] [steps]
#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "mlq/tracking/manifest.hpp"
#include "mlq/util/progress.hpp"

namespace {

[[noreturn]] void die(sqlite3* db, const std::string& what) {
  std::fprintf(stderr, "bench_manifest_generate: %s: %s\n", what.c_str(),
               db ? sqlite3_errmsg(db) : "");
  std::exit(1);
}

void exec(sqlite3* db, const std::string& sql) {
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) die(db, sql);
}

sqlite3_stmt* prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) die(db, sql);
  return st;
}

void bind(sqlite3_stmt* st, int i, const std::string& text) {
  sqlite3_bind_text(st, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

void finish_row(sqlite3* db, sqlite3_stmt* st) {
  if (sqlite3_step(st) != SQLITE_DONE) die(db, sqlite3_sql(st));
  sqlite3_reset(st);
}

struct Param {
  std::string key, literal;
  double number;  // NaN: not a number
};

// A plausible flattened config: a few settings vary between runs, most are shared.
std::vector<Param> make_params(std::mt19937_64& rng, int64_t index) {
  std::uniform_real_distribution<double> unit(0, 1);
  const double lr = std::pow(10.0, -4 + 2 * unit(rng));
  const int64_t batch = int64_t{8} << (rng() % 4);
  const char* models[] = {"harmonic_cnn", "crnn_highres", "crnn_small"};
  const char* optimizers[] = {"adamw", "adam", "sgd"};
  std::vector<Param> params = {
      {"optimizer.lr", fmt::format("{:.6g}", lr), lr},
      {"optimizer.name", fmt::format("\"{}\"", optimizers[rng() % 3]), NAN},
      {"optimizer.weight_decay", "0.01", 0.01},
      {"data.batch_size", std::to_string(batch), static_cast<double>(batch)},
      {"model.name", fmt::format("\"{}\"", models[rng() % 3]), NAN},
      {"trainer.max_steps", "1000", 1000},
      {"trainer.seed", std::to_string(index % 5), static_cast<double>(index % 5)},
  };
  for (int i = static_cast<int>(params.size()); i < 50; ++i)
    params.push_back({fmt::format("group{}.setting_{:02d}", i % 6, i), std::to_string(i * 3),
                      static_cast<double>(i * 3)});
  return params;
}

std::string config_text(const std::vector<Param>& params) {
  std::string text;
  for (const Param& p : params) text += p.key + " = " + p.literal + "\n";
  return text;
}

std::string metric_name(int k) {
  const char* named[] = {"train_loss", "val_loss", "val_acc", "lr", "val_onset_f1", "val_frame_f1"};
  return k < 6 ? named[k] : fmt::format("val_metric_{:02d}", k);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT.sqlite [runs] [metrics] [steps]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path out = argv[1];
  const int64_t runs = argc > 2 ? std::stoll(argv[2]) : 100000;
  const int metrics = argc > 3 ? std::stoi(argv[3]) : 20;
  const int steps = argc > 4 ? std::stoi(argv[4]) : 100;
  const std::filesystem::path tmp = out.string() + ".tmp";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(tmp.string() + suffix);
  { mlq::Manifest schema(tmp); }

  sqlite3* db = nullptr;
  if (sqlite3_open(tmp.c_str(), &db) != SQLITE_OK) die(db, "open " + tmp.string());
  exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000;");
  // The history's index is built once at the end: far faster than keeping it up to date.
  exec(db, "DROP INDEX metrics_run_key_step");
  sqlite3_stmt* run_st =
      prepare(db,
              "INSERT INTO runs (id, task, status, start_time, end_time, "
              "heartbeat, host, pid, git_commit, git_dirty, plugin_versions, "
              "run_dir, config_hash, config, error) VALUES "
              "(?1, ?2, ?3, ?4, ?5, ?5, 'bench', 1, ?6, 0, '{}', ?7, ?8, ?9, ?10)");
  sqlite3_stmt* param_st =
      prepare(db, "INSERT INTO params (run_id, key, value, value_num) VALUES (?1, ?2, ?3, ?4)");
  sqlite3_stmt* tag_st = prepare(db, "INSERT INTO tags (run_id, key, value) VALUES (?1, ?2, ?3)");
  sqlite3_stmt* point_st = prepare(
      db, "INSERT INTO metrics (run_id, key, step, value, time) VALUES (?1, ?2, ?3, ?4, ?5)");
  sqlite3_stmt* summary_st = prepare(db,
                                     "INSERT INTO metric_summary (run_id, key, last_step, "
                                     "last_value, min_value, max_value) VALUES (?1, ?2, ?3, ?4, "
                                     "?5, ?6)");

  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> unit(0, 1);
  std::set<std::string> ids;
  mlq::ProgressLine progress;
  const double first_start = 1.7e9;
  exec(db, "BEGIN");
  for (int64_t r = 0; r < runs; ++r) {
    std::string id;
    do id = fmt::format("{:08x}", static_cast<uint32_t>(rng()));
    while (!ids.insert(id).second);
    const double start = first_start + static_cast<double>(r) * 300 + unit(rng) * 60;
    const double roll = unit(rng);
    const char* status = roll < 0.9 ? "FINISHED" : roll < 0.97 ? "FAILED" : "KILLED";
    const std::vector<Param> params = make_params(rng, r);
    bind(run_st, 1, id);
    bind(run_st, 2, unit(rng) < 0.7 ? "transcription" : "regression");
    bind(run_st, 3, status);
    sqlite3_bind_double(run_st, 4, start);
    sqlite3_bind_double(run_st, 5, start + 300 + unit(rng) * 3300);
    bind(run_st, 6, fmt::format("{:040x}", r));
    bind(run_st, 7, "outputs/bench/" + id);
    bind(run_st, 8, fmt::format("{:016x}", rng()));
    bind(run_st, 9, config_text(params));
    if (std::string(status) == "FAILED")
      bind(run_st, 10, "RuntimeError: loss is NaN");
    else
      sqlite3_bind_null(run_st, 10);
    finish_row(db, run_st);
    for (const Param& p : params) {
      bind(param_st, 1, id);
      bind(param_st, 2, p.key);
      bind(param_st, 3, p.literal);
      if (std::isnan(p.number))
        sqlite3_bind_null(param_st, 4);
      else
        sqlite3_bind_double(param_st, 4, p.number);
      finish_row(db, param_st);
    }
    const char* teams[] = {"audio", "speech", "music"};
    for (const auto& [key, value] : {std::pair<std::string, std::string>{"team", teams[rng() % 3]},
                                     {"purpose", unit(rng) < 0.1 ? "baseline" : "sweep"}}) {
      bind(tag_st, 1, id);
      bind(tag_st, 2, key);
      bind(tag_st, 3, value);
      finish_row(db, tag_st);
    }
    const double quality = unit(rng);  // how good this run gets
    for (int k = 0; k < metrics; ++k) {
      const std::string key = metric_name(k);
      const bool rising = key.find("loss") == std::string::npos && key != "lr";
      double last = 0, low = INFINITY, high = -INFINITY;
      for (int s = 0; s < steps; ++s) {
        const double progress_fraction = (s + 1.0) / steps;
        const double trend = (1 - std::exp(-4 * progress_fraction)) * (0.5 + 0.5 * quality);
        double value = rising ? trend : 1.5 - trend;
        value += (unit(rng) - 0.5) * 0.05;
        if (key == "lr") value = 1e-3 * (1 - 0.9 * progress_fraction);
        bind(point_st, 1, id);
        bind(point_st, 2, key);
        sqlite3_bind_int64(point_st, 3, (s + 1) * 10);
        sqlite3_bind_double(point_st, 4, value);
        sqlite3_bind_double(point_st, 5, start + s * 10.0);
        finish_row(db, point_st);
        last = value;
        low = std::min(low, value);
        high = std::max(high, value);
      }
      bind(summary_st, 1, id);
      bind(summary_st, 2, key);
      sqlite3_bind_int64(summary_st, 3, int64_t{steps} * 10);
      sqlite3_bind_double(summary_st, 4, last);
      sqlite3_bind_double(summary_st, 5, low);
      sqlite3_bind_double(summary_st, 6, high);
      finish_row(db, summary_st);
    }
    if ((r + 1) % 1000 == 0) exec(db, "COMMIT; BEGIN");
    progress.update("runs", r + 1, runs, "runs");
  }
  exec(db, "COMMIT");
  progress.finish();
  for (sqlite3_stmt* st : {run_st, param_st, tag_st, point_st, summary_st}) sqlite3_finalize(st);
  std::fprintf(stderr, "indexing the metric history...\n");
  exec(db, "CREATE INDEX metrics_run_key_step ON metrics(run_id, key, step)");
  sqlite3_close(db);

  {  // The summary must be what the Manifest itself reads from the history.
    mlq::Manifest manifest(tmp);
    std::vector<std::string> sample(ids.begin(), ids.end());
    std::shuffle(sample.begin(), sample.end(), rng);
    sample.resize(std::min<size_t>(sample.size(), 50));
    for (const std::string& id : sample) {
      const auto last = manifest.last_metrics(id);
      if (static_cast<int>(last.size()) != metrics) die(nullptr, "summary of " + id + " is short");
      for (const auto& [key, value] : last) {
        const auto history = manifest.metrics(id, key);
        if (history.empty() || history.back().value != value)
          die(nullptr, "summary of " + id + "/" + key + " disagrees with its history");
      }
    }
  }
  std::filesystem::rename(tmp, out);
  std::fprintf(stderr, "wrote %s: %lld runs, %d metrics x %d steps each\n", out.c_str(),
               static_cast<long long>(runs), metrics, steps);
  return 0;
}
