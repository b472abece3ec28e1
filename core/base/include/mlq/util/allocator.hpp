#pragma once

namespace mlq {

// Tunes glibc's malloc for training and inference: one arena, every allocation from the heap (no
// mmap, whatever its size; glibc still maps when the heap cannot grow), and freed memory kept
// rather than handed back to the system. By default every step's activations are fresh pages
// from the kernel (LibTorch's intra-op threads allocate from arenas of their own that glibc trims
// on free, and blocks over 32 MB are always mapped and unmapped): on 2 cores that was 2.4 M page
// faults per 25 steps of harmonic_cnn and 40 % of the step time, and more system time than user
// time in `runner predict` (docs/training.md, Memory). Must run before other threads start;
// does nothing outside glibc; MLQ_MALLOC_DEFAULTS=1 keeps glibc's defaults.
void tune_allocator_for_training();

}  // namespace mlq
