#include "eval/note_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace mlq::transcription {
namespace {

constexpr int kKeys = 88;
constexpr int kLowestPitch = 21;

// np.around(x, decimals=4): multiply, rint (ties to even), divide. mir_eval rounds onset and
// offset distances this way so that a distance of exactly 50 ms is not lost to float noise.
double round4(double x) {
  return std::nearbyint(x * 10000.0) / 10000.0;
}

// mir_eval.util.midi_to_hz, then np.log2 as match_notes applies it.
double log2_hz(int pitch) {
  return std::log2(440.0 * std::pow(2.0, (pitch - 69.0) / 12.0));
}

// The hit test of mir_eval.transcription.match_notes, with the same float expressions.
class HitTest {
 public:
  HitTest(const ScoreOptions& options, bool offsets) : options_(options), offsets_(offsets) {}

  bool operator()(const Note& r, double r_log2, const Note& e, double e_log2) const {
    if (!(round4(std::fabs(r.onset - e.onset)) <= options_.onset_tolerance)) return false;
    if (!(std::fabs(1200.0 * (r_log2 - e_log2)) <= options_.pitch_tolerance)) return false;
    if (!offsets_) return true;
    const double tolerance = std::max(options_.offset_ratio * std::fabs(r.offset - r.onset),
                                      options_.offset_min_tolerance);
    return round4(std::fabs(r.offset - e.offset)) <= tolerance;
  }

 private:
  const ScoreOptions& options_;
  bool offsets_;
};

// mir_eval's graph G: estimate vertices in the order np.where meets them (by first reference,
// then estimate index), each with its references in increasing order.
struct Graph {
  std::vector<std::size_t> est_of_vertex;
  std::vector<std::vector<std::size_t>> refs;
};

// Only pairs within the onset window and a plausible pitch distance are tested: estimates are
// bucketed by pitch and sorted by onset, so a piece costs O(n log n) plus the candidates.
Graph hit_graph(const std::vector<Note>& ref, const std::vector<Note>& est, const HitTest& hit,
                const ScoreOptions& options) {
  struct Entry {
    int pitch;
    double onset;
    std::size_t index;
  };
  std::vector<Entry> sorted(est.size());
  for (std::size_t j = 0; j < est.size(); ++j) sorted[j] = {est[j].pitch, est[j].onset, j};
  std::sort(sorted.begin(), sorted.end(), [](const Entry& a, const Entry& b) {
    return a.pitch != b.pitch ? a.pitch < b.pitch : a.onset < b.onset;
  });
  std::vector<double> est_log2(est.size());
  for (std::size_t j = 0; j < est.size(); ++j) est_log2[j] = log2_hz(est[j].pitch);

  // 100 cents per semitone; one extra cent keeps borderline pitch distances for the exact test.
  const double semitones = std::floor((options.pitch_tolerance + 1.0) / 100.0);
  const long long pitch_reach = static_cast<long long>(std::min(std::max(semitones, 0.0), 1e6));
  // Rounding to 4 decimals admits distances up to 0.00005 over the tolerance.
  const double onset_reach = options.onset_tolerance + 1e-3;

  Graph graph;
  std::vector<long long> vertex_of_est(est.size(), -1);
  std::vector<std::size_t> hits;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const Note& r = ref[i];
    const double r_log2 = log2_hz(r.pitch);
    hits.clear();
    auto it = std::lower_bound(sorted.begin(), sorted.end(), r.pitch - pitch_reach,
                               [](const Entry& e, long long p) { return e.pitch < p; });
    while (it != sorted.end() && it->pitch <= r.pitch + pitch_reach) {
      const int pitch = it->pitch;
      auto bucket_end = std::upper_bound(it, sorted.end(), pitch,
                                         [](int p, const Entry& e) { return p < e.pitch; });
      auto first = std::lower_bound(it, bucket_end, r.onset - onset_reach,
                                    [](const Entry& e, double t) { return e.onset < t; });
      for (; first != bucket_end && first->onset <= r.onset + onset_reach; ++first) {
        if (hit(r, r_log2, est[first->index], est_log2[first->index])) hits.push_back(first->index);
      }
      it = bucket_end;
    }
    std::sort(hits.begin(), hits.end());
    for (std::size_t j : hits) {
      if (vertex_of_est[j] < 0) {
        vertex_of_est[j] = static_cast<long long>(graph.est_of_vertex.size());
        graph.est_of_vertex.push_back(j);
        graph.refs.emplace_back();
      }
      graph.refs[static_cast<std::size_t>(vertex_of_est[j])].push_back(i);
    }
  }
  return graph;
}

// A line-by-line port of mir_eval.util._bipartite_match (Eppstein's Hopcroft-Karp), keeping
// its iteration orders (Python dicts iterate in insertion order) so that the same maximum
// matching comes out, not just one of the same size. Returns the vertex matched to each
// reference, or -1.
class HopcroftKarp {
 public:
  HopcroftKarp(const Graph& graph, std::size_t n_ref)
      : graph_(graph),
        match_(n_ref, -1),
        pred_(graph.refs.size()),
        preds_(n_ref),
        in_preds_(n_ref, 0),
        layer_lists_(n_ref),
        in_layer_(n_ref, 0) {}

  std::vector<long long> run() {
    const std::size_t n_vertices = graph_.refs.size();
    for (std::size_t u = 0; u < n_vertices; ++u) {  // greedy start
      for (std::size_t v : graph_.refs[u]) {
        if (match_[v] < 0) {
          match_[v] = static_cast<long long>(u);
          break;
        }
      }
    }
    std::vector<std::size_t> layer, new_layer_order;
    while (true) {
      std::fill(in_preds_.begin(), in_preds_.end(), 0);
      unmatched_.clear();
      std::fill(pred_.begin(), pred_.end(), kFirstLayer);
      for (long long u : match_) {
        if (u >= 0) pred_[static_cast<std::size_t>(u)] = kNone;
      }
      layer.clear();
      for (std::size_t u = 0; u < n_vertices; ++u) {
        if (pred_[u] == kFirstLayer) layer.push_back(u);
      }
      while (!layer.empty() && unmatched_.empty()) {
        new_layer_order.clear();
        for (std::size_t u : layer) {
          for (std::size_t v : graph_.refs[u]) {
            if (in_preds_[v]) continue;
            if (!in_layer_[v]) {
              in_layer_[v] = 1;
              new_layer_order.push_back(v);
              layer_lists_[v].clear();
            }
            layer_lists_[v].push_back(u);
          }
        }
        layer.clear();
        for (std::size_t v : new_layer_order) {
          in_layer_[v] = 0;
          preds_[v].swap(layer_lists_[v]);
          in_preds_[v] = 1;
          if (match_[v] >= 0) {
            const auto u = static_cast<std::size_t>(match_[v]);
            layer.push_back(u);
            pred_[u] = static_cast<long long>(v);
          } else {
            unmatched_.push_back(v);
          }
        }
      }
      if (unmatched_.empty()) return match_;
      for (std::size_t v : unmatched_) augment(v);
    }
  }

 private:
  static constexpr long long kNone = -2;        // not in pred
  static constexpr long long kFirstLayer = -1;  // pred[u] is the `unmatched` flag

  // mir_eval's recursive search for an augmenting path ending at v, with an explicit stack:
  // a path can be as long as the piece (Python would give up at 1000 levels, C++ would crash).
  void augment(std::size_t root) {
    struct Frame {
      std::size_t v;
      std::vector<std::size_t> list;  // preds[v], tried in order
      std::size_t next = 0;
      std::size_t u = 0;  // the vertex being tried
    };
    std::vector<Frame> stack;
    const auto enter = [&](std::size_t v) {
      if (!in_preds_[v]) return false;  // recurse(v) returns False at once
      in_preds_[v] = 0;
      stack.push_back({v, std::move(preds_[v])});
      preds_[v].clear();
      return true;
    };
    if (!enter(root)) return;
    bool found = false;  // what the frame that just returned answered
    bool returned = false;
    while (!stack.empty()) {
      Frame& f = stack.back();
      if (!(returned && found)) {
        returned = false;
        bool descended = false;
        while (!found && f.next < f.list.size()) {
          const std::size_t u = f.list[f.next++];
          if (pred_[u] == kNone) continue;
          const long long pu = pred_[u];
          pred_[u] = kNone;
          f.u = u;
          if (pu == kFirstLayer) {
            found = true;
          } else if (enter(static_cast<std::size_t>(pu))) {
            descended = true;  // f dangles now; the loop resumes with the new top
            break;
          }
        }
        if (descended) continue;
      }
      if (found) match_[f.v] = static_cast<long long>(f.u);
      stack.pop_back();
      returned = true;
    }
  }

  const Graph& graph_;
  std::vector<long long> match_;  // reference -> vertex
  std::vector<long long> pred_;   // vertex -> reference of the previous layer, or a flag
  std::vector<std::vector<std::size_t>> preds_;  // reference -> vertices of the previous layer
  std::vector<char> in_preds_;
  std::vector<std::vector<std::size_t>> layer_lists_;
  std::vector<char> in_layer_;
  std::vector<std::size_t> unmatched_;
};

std::vector<NoteMatch> match_pitch_time(const std::vector<Note>& ref, const std::vector<Note>& est,
                                        bool offsets, const ScoreOptions& options) {
  const HitTest hit(options, offsets);
  const Graph graph = hit_graph(ref, est, hit, options);
  const std::vector<long long> match = HopcroftKarp(graph, ref.size()).run();
  std::vector<NoteMatch> pairs;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    if (match[i] >= 0)
      pairs.emplace_back(i, graph.est_of_vertex[static_cast<std::size_t>(match[i])]);
  }
  return pairs;
}

// mir_eval.transcription_velocity.match_notes: reference velocities scaled to [0, 1] by their
// range (at least 1), estimate velocities mapped by the least-squares line fitted on the
// matched pairs, pairs kept whose scaled velocities differ by less than the tolerance.
std::vector<NoteMatch> keep_velocity_matches(const std::vector<Note>& ref,
                                             const std::vector<Note>& est,
                                             std::vector<NoteMatch> pairs, double tolerance) {
  if (pairs.empty()) return pairs;
  auto [lowest, highest] = std::minmax_element(
      ref.begin(), ref.end(), [](const Note& a, const Note& b) { return a.velocity < b.velocity; });
  const double min_velocity = lowest->velocity;
  const double range = std::max(1.0, static_cast<double>(highest->velocity) - min_velocity);
  const std::size_t n = pairs.size();
  std::vector<double> x(n), y(n);
  double mean_x = 0, mean_y = 0;
  for (std::size_t k = 0; k < n; ++k) {
    x[k] = est[pairs[k].second].velocity;
    y[k] = (ref[pairs[k].first].velocity - min_velocity) / range;
    mean_x += x[k];
    mean_y += y[k];
  }
  mean_x /= static_cast<double>(n);
  mean_y /= static_cast<double>(n);
  double sxx = 0, sxy = 0;
  for (std::size_t k = 0; k < n; ++k) {
    sxx += (x[k] - mean_x) * (x[k] - mean_x);
    sxy += (x[k] - mean_x) * (y[k] - mean_y);
  }
  // The closed form gives lstsq's fitted values up to rounding. With all estimate velocities
  // equal the exact answer is the mean of y; LAPACK's gelsd (rcond = eps) then sometimes keeps
  // a noise singular value and returns an arbitrary line, e.g. for many notes of velocity <= 16.
  const double slope = sxx > 0 ? sxy / sxx : 0.0;
  const double intercept = mean_y - slope * mean_x;
  std::vector<NoteMatch> kept;
  for (std::size_t k = 0; k < n; ++k) {
    const double fitted = slope * x[k] + intercept;
    if (std::fabs(fitted - y[k]) < tolerance) kept.push_back(pairs[k]);
  }
  return kept;
}

PRF count_scores(std::size_t matches, std::size_t n_ref, std::size_t n_est) {
  PRF prf;
  prf.precision = static_cast<double>(matches) / static_cast<double>(n_est);
  prf.recall = static_cast<double>(matches) / static_cast<double>(n_ref);
  prf.f1 = f_measure(prf.precision, prf.recall);
  return prf;
}

}  // namespace

double f_measure(double precision, double recall) {
  if (precision == 0 && recall == 0) return 0.0;
  return 2.0 * precision * recall / (precision + recall);
}

std::vector<NoteMatch> match_notes(const std::vector<Note>& ref, const std::vector<Note>& est,
                                   Criterion criterion, const ScoreOptions& options) {
  std::vector<NoteMatch> pairs = match_pitch_time(ref, est, criterion != Criterion::onset, options);
  if (criterion != Criterion::onset_offset_velocity) return pairs;
  return keep_velocity_matches(ref, est, std::move(pairs), options.velocity_tolerance);
}

PRF note_scores(const std::vector<Note>& ref, const std::vector<Note>& est, Criterion criterion,
                const ScoreOptions& options) {
  if (ref.empty() || est.empty()) return {};  // mir_eval warns and returns zeros
  return count_scores(match_notes(ref, est, criterion, options).size(), ref.size(), est.size());
}

std::size_t frame_roll_length(const std::vector<Note>& notes, double frames_per_second) {
  std::size_t frames = 0;
  for (const Note& note : notes) {
    if (note.pitch < kLowestPitch || note.pitch >= kLowestPitch + kKeys) continue;
    const double last = std::nearbyint(note.offset * frames_per_second);
    if (last >= 0) frames = std::max(frames, static_cast<std::size_t>(last) + 1);
  }
  return frames;
}

std::vector<std::uint8_t> notes_to_frame_roll(const std::vector<Note>& notes,
                                              double frames_per_second, std::size_t frames) {
  std::vector<std::uint8_t> roll(frames * kKeys, 0);
  for (const Note& note : notes) {
    if (note.pitch < kLowestPitch || note.pitch >= kLowestPitch + kKeys) continue;
    const double first = std::max(0.0, std::nearbyint(note.onset * frames_per_second));
    const double last = std::min(static_cast<double>(frames) - 1.0,
                                 std::nearbyint(note.offset * frames_per_second));
    for (double f = first; f <= last; ++f) {
      roll[static_cast<std::size_t>(f) * kKeys +
           static_cast<std::size_t>(note.pitch - kLowestPitch)] = 1;
    }
  }
  return roll;
}

PRF frame_scores(const std::vector<std::uint8_t>& ref_roll,
                 const std::vector<std::uint8_t>& est_roll) {
  if (ref_roll.size() % kKeys != 0 || est_roll.size() % kKeys != 0) {
    throw std::invalid_argument("frame_scores: roll sizes must be multiples of 88 keys");
  }
  const std::size_t cells = std::min(ref_roll.size(), est_roll.size());
  std::size_t n_ref = 0, n_est = 0, hits = 0;
  for (std::size_t c = 0; c < ref_roll.size(); ++c) n_ref += ref_roll[c] != 0;
  for (std::size_t c = 0; c < cells; ++c) {
    n_est += est_roll[c] != 0;
    hits += ref_roll[c] != 0 && est_roll[c] != 0;
  }
  PRF prf;
  if (n_est > 0) prf.precision = static_cast<double>(hits) / static_cast<double>(n_est);
  if (n_ref > 0) prf.recall = static_cast<double>(hits) / static_cast<double>(n_ref);
  prf.f1 = f_measure(prf.precision, prf.recall);
  return prf;
}

NoteScores score_piece(const std::vector<Note>& ref, const std::vector<Note>& est,
                       const ScoreOptions& options) {
  NoteScores scores;
  scores.onset = note_scores(ref, est, Criterion::onset, options);
  if (!ref.empty() && !est.empty()) {
    // One matching serves both the offset and the velocity criteria.
    const std::vector<NoteMatch> pairs = match_notes(ref, est, Criterion::onset_offset, options);
    const std::size_t with_velocity =
        keep_velocity_matches(ref, est, pairs, options.velocity_tolerance).size();
    scores.onset_offset = count_scores(pairs.size(), ref.size(), est.size());
    scores.onset_offset_velocity = count_scores(with_velocity, ref.size(), est.size());
  }
  const double fps = options.frames_per_second;
  const std::size_t frames = std::max(frame_roll_length(ref, fps), frame_roll_length(est, fps));
  scores.frame =
      frame_scores(notes_to_frame_roll(ref, fps, frames), notes_to_frame_roll(est, fps, frames));
  return scores;
}

NoteScores mean_scores(const std::vector<NoteScores>& pieces) {
  NoteScores mean;
  if (pieces.empty()) return mean;
  const auto add = [](PRF& sum, const PRF& x) {
    sum.precision += x.precision;
    sum.recall += x.recall;
    sum.f1 += x.f1;
  };
  for (const NoteScores& piece : pieces) {
    add(mean.onset, piece.onset);
    add(mean.onset_offset, piece.onset_offset);
    add(mean.onset_offset_velocity, piece.onset_offset_velocity);
    add(mean.frame, piece.frame);
  }
  const double n = static_cast<double>(pieces.size());
  for (PRF* prf : {&mean.onset, &mean.onset_offset, &mean.onset_offset_velocity, &mean.frame}) {
    prf->precision /= n;
    prf->recall /= n;
    prf->f1 /= n;
  }
  return mean;
}

}  // namespace mlq::transcription
