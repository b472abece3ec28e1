// .npy files: NpyFile on the bytes written to a file, then every value read.
#include <cstdint>

#include "fuzz_target.hpp"
#include "mlq/audio/npy.hpp"
#include "mlq/util/error.hpp"

MLQ_FUZZ_TARGET(npy) {
  const auto path = mlq::fuzz::write_temp_file(data, size, "input.npy");
  try {
    const mlq::NpyFile file(path);
    const int64_t count = file.size();
    volatile double sum = 0;
    if (file.dtype() == mlq::DType::Float32) {
      const float* values = file.floats();
      for (int64_t i = 0; i < count; ++i) sum = sum + values[i];
    } else {
      const int16_t* values = file.int16s();
      for (int64_t i = 0; i < count; ++i) sum = sum + values[i];
    }
    file.check_intact();
  } catch (const mlq::UserError&) {
  }
}
