// run_parallel: every job once, each thread a fixed stripe of the jobs in order (so per-thread
// state sees the same jobs on every run), and the first exception rethrown.
#include <doctest/doctest.h>

#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "mlq/util/parallel.hpp"

TEST_CASE("run_parallel gives each thread the jobs t, t + W, t + 2W, ... in order") {
  for (int64_t workers : {1, 3}) {
    std::mutex mutex;
    std::map<std::thread::id, std::vector<size_t>> ran;
    mlq::run_parallel(20, workers, [&](size_t job) {
      std::lock_guard<std::mutex> lock(mutex);
      ran[std::this_thread::get_id()].push_back(job);
    });
    REQUIRE(ran.size() == static_cast<size_t>(workers));
    std::vector<int> seen(20, 0);
    for (const auto& [thread, jobs] : ran) {
      for (size_t i = 0; i < jobs.size(); ++i) {
        ++seen[jobs[i]];
        CHECK(jobs[i] == jobs[0] + i * static_cast<size_t>(workers));
      }
    }
    for (int count : seen) CHECK(count == 1);
  }
  int calls = 0;
  mlq::run_parallel(0, 4, [&](size_t) { ++calls; });
  mlq::run_parallel(2, 8, [&](size_t) { ++calls; });  // as many threads as jobs, at most
  CHECK(calls == 2);
}

TEST_CASE("run_parallel rethrows the first exception once every thread has ended") {
  CHECK_THROWS_WITH_AS(mlq::run_parallel(10, 2,
                                         [](size_t job) {
                                           if (job == 3) throw std::runtime_error("job 3 failed");
                                         }),
                       "job 3 failed", std::runtime_error);
}
