#include "mlq/util/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace mlq {

void run_parallel(size_t count, int64_t workers, const std::function<void(size_t job)>& job) {
  std::atomic<bool> failed{false};
  std::mutex mutex;
  std::exception_ptr failure;
  if (count == 0) return;
  const auto threads_wanted =
      static_cast<size_t>(std::clamp<int64_t>(workers, 1, static_cast<int64_t>(count)));
  auto work = [&](size_t first) {
    try {
      for (size_t i = first; i < count && !failed; i += threads_wanted) job(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!failure) failure = std::current_exception();
      failed = true;
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 0; t < threads_wanted; ++t) threads.emplace_back(work, t);
  for (auto& thread : threads) thread.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace mlq
