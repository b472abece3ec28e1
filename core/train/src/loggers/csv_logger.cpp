// <run dir>/metrics.csv: step,key,value,time, appended in batches.
#include <fmt/format.h>

#include <fstream>

#include "loggers/logger.hpp"
#include "mlq/tracking/run.hpp"
#include "mlq/util/files.hpp"

namespace mlq {
namespace {

class CsvLogger : public Logger {
 public:
  explicit CsvLogger(Run& run) : path_(run.dir() / "metrics.csv") {
    if (!std::filesystem::exists(path_)) write_file_atomic(path_, "step,key,value,time\n");
  }
  void write(const std::vector<MetricPoint>& points) override {
    std::string lines;
    for (const auto& point : points)
      lines += fmt::format("{},{},{},{:.3f}\n", point.step, point.key, point.value, point.time);
    append_file(path_, lines);
  }
  void truncate_after(int64_t step) override {
    std::ifstream in(path_);
    std::string line, kept;
    std::getline(in, line);
    kept = line + "\n";
    while (std::getline(in, line))
      if (!line.empty() && std::stoll(line.substr(0, line.find(','))) <= step) kept += line + "\n";
    write_file_atomic(path_, kept);
  }

 private:
  std::filesystem::path path_;
};

}  // namespace

std::unique_ptr<Logger> make_csv_logger(Run& run) {
  return std::make_unique<CsvLogger>(run);
}

}  // namespace mlq
