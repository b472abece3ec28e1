#include "mlq/audio/resampler.hpp"

#include <soxr.h>

#include <mutex>
#include <utility>

#include "mlq/util/error.hpp"

namespace mlq {

void Resampler::check(soxr_error_t error) const {
  if (error) throw UserError(context_ + ": resampling failed (" + error + ")");
}

Resampler::Resampler(double input_rate, double output_rate, std::string context)
    : context_(std::move(context)) {
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  const soxr_runtime_spec_t runtime = soxr_runtime_spec(1);
  soxr_error_t error = nullptr;
  {
    // libsoxr initialises its shared FFT cache (and that cache's locks) on the first filter
    // design without a lock of its own: two workers' first files must not race there.
    static std::mutex creation;
    std::lock_guard<std::mutex> lock(creation);
    soxr_ = soxr_create(input_rate, output_rate, 1, &error, &io, &quality, &runtime);
  }
  check(error);
  output_.resize(16384);
}

Resampler::~Resampler() {
  soxr_delete(soxr_);
}

void Resampler::process(const float* samples, size_t count, const Sink& sink) {
  while (count > 0) {
    size_t consumed = 0, produced = 0;
    check(
        soxr_process(soxr_, samples, count, &consumed, output_.data(), output_.size(), &produced));
    if (consumed == 0 && produced == 0) throw UserError(context_ + ": resampling stalled");
    if (produced) sink(output_.data(), produced);
    samples += consumed;
    count -= consumed;
  }
}

void Resampler::finish(const Sink& sink) {
  for (;;) {
    size_t produced = 0;
    check(soxr_process(soxr_, nullptr, 0, nullptr, output_.data(), output_.size(), &produced));
    if (produced == 0) return;
    sink(output_.data(), produced);
  }
}

}  // namespace mlq
