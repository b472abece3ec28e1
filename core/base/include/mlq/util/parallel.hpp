#pragma once
// Independent jobs on a few threads (synthesising a data set, say).
#include <cstddef>
#include <cstdint>
#include <functional>

namespace mlq {

// Runs job(0) ... job(count - 1) on min(workers, count) threads, each taking the next job as it
// finishes one. The first exception stops the threads from taking more and is rethrown here once
// they have all ended. Per-thread state (a synthesiser) can live in a thread_local of the job.
void run_parallel(size_t count, int64_t workers, const std::function<void(size_t job)>& job);

}  // namespace mlq
