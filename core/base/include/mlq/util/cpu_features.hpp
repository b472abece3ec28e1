#pragma once
// What the CPU running the process can do, where the runner's defaults depend on it.

namespace mlq {

// True when the CPU has bfloat16 dot-product instructions (x86's AVX-512 BF16: AMD Zen 4 on,
// Intel Cooper Lake and Sapphire Rapids on) and the operating system saves AVX-512 registers.
// Without them LibTorch emulates bfloat16 arithmetic, many times slower than float32.
bool cpu_has_native_bfloat16();

}  // namespace mlq
