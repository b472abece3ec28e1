#include "mlq/util/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace mlq {

void run_parallel(size_t count, int64_t workers, const std::function<void(size_t job)>& job) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  std::exception_ptr failure;
  auto work = [&] {
    try {
      for (size_t i = next++; i < count && !failed; i = next++) job(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!failure) failure = std::current_exception();
      failed = true;
    }
  };
  const auto threads_wanted =
      static_cast<size_t>(std::clamp<int64_t>(workers, 1, static_cast<int64_t>(count)));
  std::vector<std::thread> threads;
  for (size_t t = 0; count > 0 && t < threads_wanted; ++t) threads.emplace_back(work);
  for (auto& thread : threads) thread.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace mlq
