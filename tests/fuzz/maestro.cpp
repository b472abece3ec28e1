// MAESTRO metadata: the bytes as a metadata file (CSV or JSON, told apart by content) through
// read_maestro_metadata(); what it reads must survive write_maestro_csv() and read back the same.
#include <cstdlib>
#include <vector>

#include "fuzz_target.hpp"
#include "mlq/audio/maestro.hpp"
#include "mlq/util/error.hpp"

MLQ_FUZZ_TARGET(maestro) {
  const auto path = mlq::fuzz::write_temp_file(data, size, "maestro-v3.0.0.csv");
  std::vector<mlq::MaestroRecord> records;
  try {
    records = mlq::read_maestro_metadata(path);
  } catch (const mlq::UserError&) {
    return;
  }
  const auto copy = path.parent_path() / "copy.csv";
  mlq::write_maestro_csv(copy, records);  // a record that was read can be written
  const auto again = mlq::read_maestro_metadata(copy);
  if (again.size() != records.size()) std::abort();
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& a = records[i];
    const auto& b = again[i];
    if (a.canonical_composer != b.canonical_composer || a.canonical_title != b.canonical_title ||
        a.split != b.split || a.year != b.year || a.midi_filename != b.midi_filename ||
        a.audio_filename != b.audio_filename || a.duration != b.duration)
      std::abort();
  }
}
