#pragma once
// Independent jobs on a few threads (synthesising a data set, say).
#include <cstddef>
#include <cstdint>
#include <functional>

namespace mlq {

// Runs job(0) ... job(count - 1) on W = min(workers, count) threads: thread t runs jobs t, t + W,
// t + 2W, ... in that order. The first exception stops the threads from taking more and is
// rethrown here once they have all ended. Per-thread state (a synthesiser) can live in a
// thread_local of the job; since which jobs a thread runs does not depend on timing, that state
// has seen the same jobs on every run with the same `workers` (a synthesiser's output depends a
// little on what it rendered before: output then repeats bit for bit).
void run_parallel(size_t count, int64_t workers, const std::function<void(size_t job)>& job);

}  // namespace mlq
