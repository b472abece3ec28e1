#pragma once

namespace mlq {

// Tunes glibc's malloc for training: one arena, allocations up to 32 MB from the heap, and freed
// memory kept rather than handed back to the system. By default every step's activations are
// fresh pages from the kernel (LibTorch's intra-op threads allocate from arenas of their own that
// glibc trims on free): on 2 cores that was 2.4 M page faults per 25 steps of harmonic_cnn and
// 40 % of the step time (tools/bench/transcription_models.sh). Must run before other threads
// start; does nothing outside glibc.
void tune_allocator_for_training();

}  // namespace mlq
