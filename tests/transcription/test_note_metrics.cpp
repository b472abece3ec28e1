#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "eval/note_metrics.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using mlq::transcription::Criterion;
using mlq::transcription::match_notes;
using mlq::transcription::Note;
using mlq::transcription::NoteMatch;
using mlq::transcription::NoteScores;
using mlq::transcription::PRF;
using mlq::transcription::score_piece;
using mlq::transcription::ScoreOptions;

namespace {

void check_prf(const PRF& prf, double precision, double recall, double f1) {
  CHECK(prf.precision == doctest::Approx(precision).epsilon(1e-12));
  CHECK(prf.recall == doctest::Approx(recall).epsilon(1e-12));
  CHECK(prf.f1 == doctest::Approx(f1).epsilon(1e-12));
}

// Lets CHECK compare a matching with a braced list.
std::vector<NoteMatch> pairs(std::vector<NoteMatch> list) {
  return list;
}

// ---- Generated cases ----

struct NoteCase {
  std::vector<Note> ref, est;
  ScoreOptions options;
};

struct RollCase {
  std::vector<std::uint8_t> ref, est;
};

class Generator {
 public:
  explicit Generator(std::uint64_t seed) : rng_(seed) {}

  double uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  }
  int integer(int lo, int hi) {  // inclusive
    return lo + static_cast<int>(rng_() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  bool chance(double p) { return uniform(0, 1) < p; }
  template <class T>
  T pick(std::initializer_list<T> options) {
    return options.begin()[integer(0, static_cast<int>(options.size()) - 1)];
  }

  // Onsets on a coarse grid give exact ties and exact 50 ms distances; free ones give neither.
  NoteCase notes_case(int n_ref, double max_span = 3.0) {
    NoteCase c;
    const double span = std::clamp(n_ref * uniform(0.01, 0.3), 0.5, max_span);
    const bool grid = chance(0.5);
    const int pitch_lo = pick({21, 55, 60});
    const int pitch_hi = pitch_lo + pick({0, 2, 5, 87 - (pitch_lo - 21)});
    for (int i = 0; i < n_ref; ++i) {
      Note note;
      note.onset = 0.2 + (grid ? std::round(uniform(0, span) * 100) / 100 : uniform(0, span));
      note.offset = note.onset + pick({0.01, 0.05, 0.1, 0.25, 0.3, 1.0}) * uniform(0.5, 2.0);
      if (grid && chance(0.5)) note.offset = note.onset + integer(1, 40) * 0.01;
      note.pitch = integer(pitch_lo, pitch_hi);
      note.velocity = integer(1, 127);
      c.ref.push_back(note);
      if (chance(0.08)) {  // a duplicate reference note: same onset and pitch
        Note twin = note;
        twin.offset = note.onset + uniform(0.02, 1.0);
        twin.velocity = integer(1, 127);
        c.ref.push_back(twin);
      }
    }
    const double scale = uniform(0.3, 1.5), shift = uniform(-20, 20);
    const int noise = pick({0, 2, 8, 40});
    const bool constant = chance(0.03);
    for (const Note& r : c.ref) {
      if (chance(0.15)) continue;  // missed
      Note e = r;
      e.onset = r.onset + onset_jitter();
      const double tolerance = std::max(0.2 * (r.offset - r.onset), 0.05);
      e.offset = r.offset + offset_jitter(tolerance);
      if (chance(0.08)) e.pitch = r.pitch + pick({-1, 1, 12});
      e.velocity = constant ? 64
                            : std::clamp(static_cast<int>(std::lround(r.velocity * scale + shift)) +
                                             integer(-noise, noise),
                                         1, 127);
      if (e.onset < 0) e.onset = 0;
      if (e.offset <= e.onset) e.offset = e.onset + 0.01;
      e.pitch = std::clamp(e.pitch, 21, 108);
      c.est.push_back(e);
      if (chance(0.1)) {  // a duplicate estimate
        Note twin = e;
        if (chance(0.5)) twin.onset += uniform(-0.03, 0.03);
        if (twin.onset < 0) twin.onset = 0;
        if (twin.offset <= twin.onset) twin.offset = twin.onset + 0.01;
        twin.velocity = std::clamp(e.velocity + integer(-10, 10), 1, 127);
        c.est.push_back(twin);
      }
    }
    const int spurious = chance(0.3) ? integer(0, std::max(1, n_ref / 4)) : 0;
    for (int k = 0; k < spurious; ++k) {
      Note e;
      e.onset = uniform(0, span + 0.4);
      e.offset = e.onset + uniform(0.02, 0.8);
      e.pitch = integer(pitch_lo, pitch_hi);
      e.velocity = integer(1, 127);
      c.est.push_back(e);
    }
    if (chance(0.5)) std::shuffle(c.est.begin(), c.est.end(), rng_);
    if (chance(0.1)) {
      c.options.onset_tolerance = pick({0.02, 0.1});
      c.options.offset_ratio = pick({0.1, 0.5});
      c.options.offset_min_tolerance = pick({0.02, 0.1});
      c.options.velocity_tolerance = pick({0.05, 0.2});
    }
    // mir_eval.multipitch takes 0.2 ms a frame: most cases use a coarse roll.
    c.options.frames_per_second = chance(0.15) ? 100.0 : pick({10.0, 12.5});
    return c;
  }

  RollCase roll_case() {
    const auto random_roll = [&](int frames, double density) {
      std::vector<std::uint8_t> roll(static_cast<std::size_t>(frames) * 88, 0);
      for (auto& cell : roll)
        cell = chance(density) ? static_cast<std::uint8_t>(integer(1, 255)) : 0;
      return roll;
    };
    RollCase c;
    const int frames = integer(2, 60);
    const double density = pick({0.0, 0.01, 0.1, 0.5});
    c.ref = random_roll(frames, density);
    c.est = chance(0.5) ? c.ref : random_roll(frames, density);
    for (auto& cell : c.est) {
      if (chance(0.05)) cell = cell ? 0 : 1;
    }
    if (chance(0.3)) c.est.resize(static_cast<std::size_t>(integer(2, 80)) * 88, 1);
    return c;
  }

 private:
  double onset_jitter() {
    const double sign = chance(0.5) ? 1 : -1;
    switch (integer(0, 7)) {
      case 0:
        return 0;
      case 1:
        return sign * 0.05;
      case 2:
        return sign * (0.05 + pick({-1e-12, 1e-12}));
      case 3:
        return sign * (0.05005 + pick({-1e-9, 0.0, 1e-9}));  // np.around's boundary
      case 4:
        return sign * pick({0.04995, 0.0499, 0.0501});
      default:
        return uniform(-0.07, 0.07);
    }
  }
  double offset_jitter(double tolerance) {
    const double sign = chance(0.5) ? 1 : -1;
    switch (integer(0, 5)) {
      case 0:
        return 0;
      case 1:
        return sign * tolerance;
      case 2:
        return sign * tolerance * (1 + pick({-1e-12, 1e-12, 1e-3}));
      default:
        return uniform(-1.5, 1.5) * tolerance;
    }
  }

  std::mt19937_64 rng_;
};

std::string fmt(double x) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.17g", x);
  return buffer;
}

void write_notes(std::ostringstream& out, const char* name, const std::vector<Note>& notes) {
  out << name << ' ' << notes.size() << '\n';
  for (const Note& n : notes) {
    out << fmt(n.onset) << ' ' << fmt(n.offset) << ' ' << n.pitch << ' ' << n.velocity << '\n';
  }
}

void write_roll(std::ostringstream& out, const char* name, const std::vector<std::uint8_t>& roll) {
  out << name << ' ' << roll.size() / 88 << '\n';
  for (std::size_t f = 0; f < roll.size() / 88; ++f) {
    std::vector<int> keys;
    for (int k = 0; k < 88; ++k) {
      if (roll[f * 88 + k]) keys.push_back(k);
    }
    out << keys.size();
    for (int k : keys) out << ' ' << k;
    out << '\n';
  }
}

bool close(double a, double b) {
  return std::fabs(a - b) <= 1e-9;
}

}  // namespace

TEST_CASE("note metrics are zero for empty reference or estimate lists") {
  const std::vector<Note> notes{{1.0, 2.0, 60, 80}};
  for (const auto& [ref, est] :
       {std::pair{notes, std::vector<Note>{}}, std::pair{std::vector<Note>{}, notes},
        std::pair{std::vector<Note>{}, std::vector<Note>{}}}) {
    const NoteScores s = score_piece(ref, est);
    check_prf(s.onset, 0, 0, 0);
    check_prf(s.onset_offset, 0, 0, 0);
    check_prf(s.onset_offset_velocity, 0, 0, 0);
    check_prf(s.frame, 0, 0, 0);
  }
}

TEST_CASE("a perfect transcription scores one everywhere") {
  const std::vector<Note> notes{
      {0.5, 1.0, 60, 30}, {0.5, 0.7, 64, 90}, {1.2, 2.0, 21, 127}, {1.9, 2.5, 108, 1}};
  const NoteScores s = score_piece(notes, notes);
  check_prf(s.onset, 1, 1, 1);
  check_prf(s.onset_offset, 1, 1, 1);
  check_prf(s.onset_offset_velocity, 1, 1, 1);
  check_prf(s.frame, 1, 1, 1);
}

TEST_CASE("onsets match within 50 ms after rounding the distance to 0.1 ms") {
  const std::vector<Note> ref{{1.0, 2.0, 60, 64}};
  // 1.05 - 1.0 is 0.050000000000000044 in binary: it matches only thanks to the rounding.
  CHECK(match_notes(ref, {{1.05, 2.0, 60, 64}}, Criterion::onset).size() == 1);
  CHECK(match_notes(ref, {{0.95004, 2.0, 60, 64}}, Criterion::onset).size() == 1);
  CHECK(match_notes(ref, {{1.0501, 2.0, 60, 64}}, Criterion::onset).empty());
  CHECK(match_notes(ref, {{1.0, 2.0, 61, 64}}, Criterion::onset).empty());  // 100 cents off
  ScoreOptions wide;
  wide.pitch_tolerance = 150;
  CHECK(match_notes(ref, {{1.0, 2.0, 61, 64}}, Criterion::onset, wide).size() == 1);
  // np.around rounds halves to even: 0.03125 becomes 0.0312.
  ScoreOptions narrow;
  narrow.onset_tolerance = 0.0312;
  CHECK(match_notes(ref, {{1.03125, 2.0, 60, 64}}, Criterion::onset, narrow).size() == 1);
  CHECK(match_notes(ref, {{1.0313, 2.0, 60, 64}}, Criterion::onset, narrow).empty());
}

TEST_CASE("offsets match within max of 20 percent of the reference duration and 50 ms") {
  const std::vector<Note> ref{{1.0, 2.0, 60, 64}, {3.0, 3.1, 62, 64}};
  // Tolerances: 0.2 s for the first note, 0.05 s (the minimum) for the second.
  const std::vector<Note> est{{1.0, 2.2, 60, 64}, {3.0, 3.15, 62, 64}};
  CHECK(match_notes(ref, est, Criterion::onset_offset).size() == 2);
  const std::vector<Note> late{{1.0, 2.21, 60, 64}, {3.0, 3.16, 62, 64}};
  CHECK(match_notes(ref, late, Criterion::onset).size() == 2);
  CHECK(match_notes(ref, late, Criterion::onset_offset).empty());
  const NoteScores s = score_piece(ref, {{1.0, 2.2, 60, 64}, {3.0, 3.16, 62, 64}, {5, 6, 70, 9}});
  check_prf(s.onset, 2.0 / 3, 1, 0.8);
  check_prf(s.onset_offset, 1.0 / 3, 0.5, 0.4);
}

TEST_CASE("matching is maximum where a greedy one is not") {
  // The first estimate is near both references and greedily takes the first; the second is
  // near the first reference only, so the maximum matching swaps them.
  const std::vector<Note> ref{{1.0, 2.0, 60, 64}, {1.06, 2.0, 60, 64}};
  const std::vector<Note> est{{1.03, 2.0, 60, 64}, {0.96, 2.0, 60, 64}};
  CHECK(match_notes(ref, est, Criterion::onset) == pairs({{0, 1}, {1, 0}}));
  const std::vector<Note> swapped{est[1], est[0]};
  CHECK(match_notes(ref, swapped, Criterion::onset) == pairs({{0, 0}, {1, 1}}));
}

TEST_CASE("an augmenting path through the whole piece does not exhaust the stack") {
  // Estimate i lies between references i and i + 1 and greedily takes reference i; the last
  // estimate hits reference 0 only, so the one augmenting path shifts every pair.
  const int n = 200000;
  std::vector<Note> ref, est;
  for (int i = 0; i <= n; ++i) ref.push_back({1 + 0.04 * i, 1 + 0.04 * i + 0.5, 60, 64});
  for (int i = 0; i < n; ++i) est.push_back({1 + 0.04 * i + 0.02, 1 + 0.04 * i + 0.5, 60, 64});
  est.push_back({1 - 0.015, 1.5, 60, 64});
  const auto matching = match_notes(ref, est, Criterion::onset);
  REQUIRE(matching.size() == ref.size());
  CHECK(matching.front() == NoteMatch{0, n});
  CHECK(matching.back() == NoteMatch{n, n - 1});
}

TEST_CASE("velocities are compared after the least squares rescaling") {
  // Reference velocities 20..100 scale to 0..1; estimates 0.5 v + 10 fit the line exactly.
  const std::vector<Note> ref{
      {1, 2, 60, 20}, {2, 3, 60, 40}, {3, 4, 60, 60}, {4, 5, 60, 80}, {5, 6, 60, 100}};
  std::vector<Note> est = ref;
  for (Note& n : est) n.velocity = n.velocity / 2 + 10;
  CHECK(match_notes(ref, est, Criterion::onset_offset_velocity).size() == 5);
  // An outlier drags the line: points (20, 0) (30, .25) (40, .5) (50, .75) (30, 1), means 34
  // and 0.5, slope 10 / 520; errors .23, .17, .115, .058, .58: only the fourth stays.
  est[4].velocity = 30;
  CHECK(match_notes(ref, est, Criterion::onset_offset_velocity) == pairs({{3, 3}}));
  const NoteScores s = score_piece(ref, est);
  check_prf(s.onset_offset_velocity, 0.2, 0.2, 0.2);
  // Equal estimate velocities: the fitted values are the mean of the matched references.
  for (Note& n : est) n.velocity = 64;
  CHECK(match_notes(ref, est, Criterion::onset_offset_velocity) == pairs({{2, 2}}));
}

TEST_CASE("frame scores count active cells of the 100 fps roll") {
  using mlq::transcription::frame_roll_length;
  using mlq::transcription::frame_scores;
  using mlq::transcription::notes_to_frame_roll;
  // Frames round(onset x 100) .. round(offset x 100): 0.004 -> 0, 0.026 -> 3: frames 0..3.
  const std::vector<Note> ref{{0.004, 0.026, 60, 64}};
  CHECK(frame_roll_length(ref, 100) == 4);
  const auto roll = notes_to_frame_roll(ref, 100, 6);
  REQUIRE(roll.size() == 6 * 88);
  for (std::size_t f = 0; f < 6; ++f) CHECK(roll[f * 88 + 39] == (f <= 3 ? 1 : 0));
  const std::vector<Note> est{{0.02, 0.05, 60, 64}, {0.0, 0.01, 50, 64}};  // frames 2..5 and 0..1
  const NoteScores s = score_piece(ref, est);
  check_prf(s.frame, 2.0 / 6, 2.0 / 4, 0.4);
  // Estimate frames past the reference's end do not count; missing ones are silent.
  std::vector<std::uint8_t> r(2 * 88, 0), e(3 * 88, 0);
  r[5] = r[88 + 5] = e[5] = e[2 * 88 + 7] = 1;
  check_prf(frame_scores(r, e), 1, 0.5, 2.0 / 3);
  check_prf(frame_scores(r, std::vector<std::uint8_t>(88, 1)), 1.0 / 88, 0.5, 1.0 / 45);
  CHECK_THROWS(frame_scores(r, std::vector<std::uint8_t>(87, 0)));
}

TEST_CASE("mean scores average each number over pieces") {
  NoteScores a, b;
  a.onset = {1, 0.5, 0.6};
  b.onset = {0, 0.25, 0.2};
  b.frame = {0.5, 0.5, 0.5};
  const NoteScores m = mlq::transcription::mean_scores({a, b});
  check_prf(m.onset, 0.5, 0.375, 0.4);
  check_prf(m.frame, 0.25, 0.25, 0.25);
  check_prf(mlq::transcription::mean_scores({}).onset, 0, 0, 0);
}

TEST_CASE("thousands of notes are scored in near-linear time") {
  Generator gen(7);
  const NoteCase c = gen.notes_case(20000, 2000.0);
  const auto start = std::chrono::steady_clock::now();
  const NoteScores s = score_piece(c.ref, c.est);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(s.onset.f1 > 0.5);
  CHECK(s.onset.f1 <= 1.0);
  // About 0.05 s here; matching all pairs (20,000 squared) would take seconds. The bound leaves
  // room for a loaded machine and catches only that kind of change.
  CHECK(seconds < 3.0);
}

TEST_CASE("scores agree with python3-mir-eval on generated cases") {
  const int kCases = 500;
  std::vector<NoteCase> note_cases;
  std::vector<RollCase> roll_cases;
  Generator gen(20240611);
  for (int k = 0; k < kCases; ++k) {
    const int size = gen.pick({0, 1, 2, 3, 4, 6, 10, 20, 40, 80});
    note_cases.push_back(gen.notes_case(size));
  }
  note_cases.push_back(gen.notes_case(1500, 30.0));
  for (int k = 0; k < 60; ++k) roll_cases.push_back(gen.roll_case());

  std::ostringstream text;
  for (std::size_t k = 0; k < note_cases.size(); ++k) {
    const ScoreOptions& o = note_cases[k].options;
    text << "notes " << k << ' ' << fmt(o.onset_tolerance) << ' ' << fmt(o.pitch_tolerance) << ' '
         << fmt(o.offset_ratio) << ' ' << fmt(o.offset_min_tolerance) << ' '
         << fmt(o.velocity_tolerance) << ' ' << fmt(o.frames_per_second) << '\n';
    write_notes(text, "ref", note_cases[k].ref);
    write_notes(text, "est", note_cases[k].est);
  }
  for (std::size_t k = 0; k < roll_cases.size(); ++k) {
    text << "roll " << k << " 100\n";
    write_roll(text, "ref", roll_cases[k].ref);
    write_roll(text, "est", roll_cases[k].est);
  }
  mlq::test::TempDir dir;
  mlq::test::write_file(dir / "cases.txt", text.str());
  const auto result = mlq::test::run_process(
      {"/usr/bin/python3",
       std::string(MLQ_SOURCE_DIR) + "/tests/transcription/mir_eval_reference.py",
       (dir / "cases.txt").string()});
  REQUIRE_MESSAGE(result.exit_code == 0, result.out.substr(0, 2000));

  std::istringstream lines(result.out);
  std::string line;
  std::size_t notes_seen = 0, rolls_seen = 0;
  std::vector<std::string> failures;
  while (std::getline(lines, line)) {
    std::istringstream in(line);
    std::string kind;
    std::size_t id = 0;
    in >> kind >> id;
    if (kind == "notes" && id < note_cases.size()) {
      const NoteCase& c = note_cases[id];
      const NoteScores s = score_piece(c.ref, c.est, c.options);
      const PRF* mine[] = {&s.onset, &s.onset_offset, &s.onset_offset_velocity, &s.frame};
      bool same = true;
      for (const PRF* prf : mine) {
        double p = NAN, r = NAN, f = NAN;
        in >> p >> r >> f;
        same = same && close(prf->precision, p) && close(prf->recall, r) && close(prf->f1, f);
      }
      std::size_t n_pairs = 0;
      in >> n_pairs;
      std::vector<NoteMatch> expected(n_pairs);
      for (auto& [i, j] : expected) in >> i >> j;
      same = same && !in.fail() &&
             match_notes(c.ref, c.est, Criterion::onset_offset, c.options) == expected;
      if (!same) {
        std::string ours;
        for (const PRF* prf : mine) {
          ours += ' ' + fmt(prf->precision) + ' ' + fmt(prf->recall) + ' ' + fmt(prf->f1);
        }
        failures.push_back("case " + std::to_string(id) + ", ours:" + ours + "\nmir_eval: " + line);
      }
      ++notes_seen;
    } else if (kind == "roll" && id < roll_cases.size()) {
      const PRF prf = mlq::transcription::frame_scores(roll_cases[id].ref, roll_cases[id].est);
      double p = NAN, r = NAN, f = NAN;
      in >> p >> r >> f;
      if (in.fail() || !close(prf.precision, p) || !close(prf.recall, r) || !close(prf.f1, f)) {
        failures.push_back("roll case " + std::to_string(id) + ", ours: " + fmt(prf.precision) +
                           ' ' + fmt(prf.recall) + ' ' + fmt(prf.f1) + "\nmir_eval: " + line);
      }
      ++rolls_seen;
    }
  }
  CHECK(notes_seen == note_cases.size());
  CHECK(rolls_seen == roll_cases.size());
  for (std::size_t k = 0; k < std::min<std::size_t>(failures.size(), 5); ++k) {
    FAIL_CHECK(failures[k].substr(0, 1000));
  }
  CHECK(failures.size() == 0);
}
