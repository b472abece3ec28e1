// Checkpoint files: the ZIP structure check on the bytes.
#include "fuzz_target.hpp"
#include "mlq/tracking/checkpoint_header.hpp"
#include "mlq/util/error.hpp"

MLQ_FUZZ_TARGET(checkpoint) {
  try {
    mlq::check_checkpoint_bytes(mlq::fuzz::bytes(data, size), "fuzz.pt");
  } catch (const mlq::UserError&) {
  }
}
