#include "real_fft.hpp"

#include <fftw3.h>

#include <mutex>
#include <new>
#include <stdexcept>
#include <string>

namespace mlq {
namespace {

// FFTW's planner is not thread-safe (executing a plan is).
std::mutex& planner_mutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace

RealFft::Buffers::Buffers(int64_t size)
    : input_(fftwf_alloc_real(static_cast<size_t>(size))),
      output_(reinterpret_cast<std::complex<float>*>(
          fftwf_alloc_complex(static_cast<size_t>(size / 2 + 1)))) {
  if (!input_ || !output_) {
    fftwf_free(input_);
    fftwf_free(output_);
    throw std::bad_alloc();
  }
}

RealFft::Buffers::~Buffers() {
  fftwf_free(input_);
  fftwf_free(output_);
}

RealFft::RealFft(int64_t size) : size_(size) {
  Buffers buffers(size);
  std::lock_guard<std::mutex> lock(planner_mutex());
  // FFTW_ESTIMATE plans in about 2 ms; measuring (160 ms) found nothing faster for these sizes.
  plan_ = fftwf_plan_dft_r2c_1d(static_cast<int>(size), buffers.input_,
                                reinterpret_cast<fftwf_complex*>(buffers.output_), FFTW_ESTIMATE);
  if (!plan_)
    throw std::runtime_error("FFTW cannot plan a real FFT of size " + std::to_string(size));
}

RealFft::~RealFft() {
  std::lock_guard<std::mutex> lock(planner_mutex());
  fftwf_destroy_plan(plan_);
}

void RealFft::forward(Buffers& buffers) const {
  fftwf_execute_dft_r2c(plan_, buffers.input_, reinterpret_cast<fftwf_complex*>(buffers.output_));
}

}  // namespace mlq
