// The manifest's sweeps: sweep records, their trials (claimed by workers with one atomic
// statement each) and the values successive halving compares at each rung.
#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "mlq/tracking/manifest.hpp"
#include "mlq/util/error.hpp"
#include "tracking/database.hpp"
#include "tracking/manifest_rows.hpp"

namespace mlq {

using namespace db;

namespace {

constexpr const char* kSweepColumns =
    "id, task, status, start_time, end_time, strategy, space, objective, direction, trials, "
    "settings, error";
constexpr const char* kTrialColumns =
    "sweep_id, number, params, status, attempts, run_id, worker, objective, error";

SweepRecord read_sweep(const Statement& st) {
  SweepRecord s;
  s.id = st.text(0);
  s.task = st.text(1);
  s.status = st.text(2);
  s.start_time = st.real(3);
  s.end_time = st.is_null(4) ? 0 : st.real(4);
  s.strategy = st.text(5);
  s.space = st.text(6);
  s.objective = st.text(7);
  s.direction = st.text(8);
  s.trials = st.integer(9);
  s.settings = st.text(10);
  s.error = st.is_null(11) ? "" : st.text(11);
  return s;
}

SweepTrial read_trial(const Statement& st) {
  SweepTrial t;
  t.sweep_id = st.text(0);
  t.number = st.integer(1);
  t.params = nlohmann::json::parse(st.text(2)).get<std::vector<std::string>>();
  t.status = st.text(3);
  t.attempts = st.integer(4);
  t.run_id = st.is_null(5) ? "" : st.text(5);
  t.worker = st.is_null(6) ? "" : st.text(6);
  if (!st.is_null(7)) t.objective = st.real(7);
  t.error = st.is_null(8) ? "" : st.text(8);
  return t;
}

}  // namespace

void Manifest::create_sweep(const SweepRecord& sweep) {
  Statement st(*db_, fmt::format("INSERT INTO sweeps ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                                 "?9, ?10, ?11, ?12)",
                                 kSweepColumns));
  st.bind(1, sweep.id).bind(2, sweep.task).bind(3, sweep.status).bind(4, sweep.start_time);
  st.bind(5, sweep.end_time > 0 ? std::optional<double>(sweep.end_time) : std::nullopt);
  st.bind(6, sweep.strategy).bind(7, sweep.space).bind(8, sweep.objective);
  st.bind(9, sweep.direction).bind(10, sweep.trials).bind(11, sweep.settings);
  st.bind_or_null(12, sweep.error);
  st.run();
}

std::optional<SweepRecord> Manifest::find_sweep(std::string_view id_or_prefix) const {
  return find_by_id_or_prefix<SweepRecord>(*db_, "sweep", "sweeps", kSweepColumns, id_or_prefix,
                                           read_sweep);
}

std::vector<SweepRecord> Manifest::list_sweeps() const {
  Statement st(*db_,
               fmt::format("SELECT {} FROM sweeps ORDER BY start_time DESC, id", kSweepColumns));
  std::vector<SweepRecord> out;
  while (st.step()) out.push_back(read_sweep(st));
  return out;
}

void Manifest::set_sweep_status(std::string_view sweep_id, std::string_view status,
                                std::string_view error) {
  Statement st(*db_,
               "UPDATE sweeps SET status = ?1, end_time = ?2, "
               "error = CASE WHEN ?3 IS NULL THEN error ELSE ?3 END WHERE id = ?4");
  st.bind(1, status);
  st.bind(2, status == kRunning ? std::nullopt : std::optional<double>(now_seconds()));
  st.bind_or_null(3, error).bind(4, sweep_id);
  st.run();
}

std::vector<SweepTrial> Manifest::sweep_trials(std::string_view sweep_id) const {
  Statement st(*db_, fmt::format("SELECT {} FROM sweep_trials WHERE sweep_id = ?1 ORDER BY number",
                                 kTrialColumns));
  st.bind(1, sweep_id);
  std::vector<SweepTrial> out;
  while (st.step()) out.push_back(read_trial(st));
  return out;
}

bool Manifest::add_trial(const SweepTrial& t) {
  // ON CONFLICT DO NOTHING: a worker that lost the race for this number learns it from changes().
  Statement st(*db_, fmt::format("INSERT INTO sweep_trials ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                                 "?7, ?8, ?9) ON CONFLICT (sweep_id, number) DO NOTHING",
                                 kTrialColumns));
  st.bind(1, t.sweep_id).bind(2, t.number).bind(3, nlohmann::json(t.params).dump());
  st.bind(4, t.status).bind(5, t.attempts).bind_or_null(6, t.run_id).bind_or_null(7, t.worker);
  st.bind(8, t.objective).bind_or_null(9, t.error);
  st.run();
  return db_->changes() == 1;
}

std::optional<SweepTrial> Manifest::claim_trial(std::string_view sweep_id,
                                                std::string_view worker) {
  for (;;) {
    std::optional<int64_t> number;
    {
      Statement st(*db_,
                   "SELECT min(number) FROM sweep_trials WHERE sweep_id = ?1 AND status = ?2");
      st.bind(1, sweep_id).bind(2, kPending);
      if (st.step() && !st.is_null(0)) number = st.integer(0);
    }
    if (!number) return std::nullopt;
    // Only one worker's UPDATE finds the trial still PENDING; the others look again.
    Statement claim(*db_,
                    "UPDATE sweep_trials SET status = ?1, worker = ?2 "
                    "WHERE sweep_id = ?3 AND number = ?4 AND status = ?5");
    claim.bind(1, kRunning).bind(2, worker).bind(3, sweep_id).bind(4, *number).bind(5, kPending);
    claim.run();
    if (db_->changes() == 1)
      for (SweepTrial& t : sweep_trials(sweep_id))
        if (t.number == *number) return t;
  }
}

void Manifest::update_trial(const SweepTrial& t) {
  Statement st(*db_,
               "UPDATE sweep_trials SET status = ?1, attempts = ?2, run_id = ?3, worker = ?4, "
               "objective = ?5, error = ?6 WHERE sweep_id = ?7 AND number = ?8");
  st.bind(1, t.status).bind(2, t.attempts).bind_or_null(3, t.run_id).bind_or_null(4, t.worker);
  st.bind(5, t.objective).bind_or_null(6, t.error).bind(7, t.sweep_id).bind(8, t.number);
  st.run();
}

std::vector<double> Manifest::report_rung(std::string_view sweep_id, int64_t rung, int64_t number,
                                          double value) {
  Transaction tx(*db_);
  Statement insert(*db_,
                   "INSERT INTO sweep_rungs (sweep_id, rung, number, value) VALUES (?1, ?2, ?3, "
                   "?4) ON CONFLICT (sweep_id, rung, number) DO NOTHING");
  insert.bind(1, sweep_id).bind(2, rung).bind(3, number).bind(4, value);
  insert.run();
  Statement st(*db_, "SELECT value FROM sweep_rungs WHERE sweep_id = ?1 AND rung = ?2");
  st.bind(1, sweep_id).bind(2, rung);
  std::vector<double> values;
  while (st.step()) values.push_back(st.is_null(0) ? std::nan("") : st.real(0));
  tx.commit();
  return values;
}

}  // namespace mlq
