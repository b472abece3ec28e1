// The runs query language: the bytes as a --where expression and as an --order-by field.
#include "fuzz_target.hpp"
#include "mlq/tracking/query.hpp"
#include "mlq/util/error.hpp"

MLQ_FUZZ_TARGET(run_query) {
  const auto text = mlq::fuzz::bytes(data, size);
  try {
    mlq::compile_run_filter(text, 1.7e9);
  } catch (const mlq::UserError&) {
  }
  try {
    mlq::compile_run_field(text, 1.7e9);
  } catch (const mlq::UserError&) {
  }
  try {
    mlq::summary_column(text);
  } catch (const mlq::UserError&) {
  }
}
