#pragma once
// Wall time by stage of a pipeline (decode, features, model, ...), for `runner predict --timings`.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace mlq::transcription {

class StageTimes {
 public:
  // Runs `work`, adding its wall time to `stage`.
  template <class Work>
  decltype(auto) time(const std::string& stage, Work&& work) {
    struct Add {
      StageTimes* times;
      const std::string& stage;
      std::chrono::steady_clock::time_point start;
      ~Add() {
        times->add(stage,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
    } add{this, stage, std::chrono::steady_clock::now()};
    return std::forward<Work>(work)();
  }
  void add(const std::string& stage, double seconds);
  double seconds(const std::string& stage) const;
  // "decode 1.20 s (rtf 0.0005, 12 %), features ..." in the order the stages were first timed,
  // each as a real-time factor of `audio_seconds` and a share of `total_seconds`, then what the
  // stages leave of the total as "other".
  std::string breakdown(double audio_seconds, double total_seconds) const;

 private:
  std::vector<std::pair<std::string, double>> stages_;
};

}  // namespace mlq::transcription
