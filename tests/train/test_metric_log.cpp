#include <doctest/doctest.h>

#include "loggers/metric_log.hpp"

namespace {

// Records what it receives; fails the writes it is told to.
struct RecordingLogger : mlq::Logger {
  std::vector<std::string>* events;
  std::string name;
  int failures_left = 0;
  bool media_for_validation = false;
  RecordingLogger(std::vector<std::string>* e, std::string n) : events(e), name(std::move(n)) {}
  void write(const std::vector<mlq::MetricPoint>& points) override {
    if (failures_left > 0) {
      --failures_left;
      throw std::runtime_error(name + " failed");
    }
    for (const auto& p : points)
      events->push_back(name + " " + p.key + "@" + std::to_string(p.step));
  }
  void heartbeat() override { events->push_back(name + " heartbeat"); }
  bool wants_media(mlq::Split split) const override {
    return split == mlq::Split::Test || media_for_validation;
  }
  void log_media(const std::string& prefix, const mlq::EvaluationMedia& media, int64_t step,
                 mlq::Split) override {
    events->push_back(name + " media " + prefix + media.images.at(0).tag + "@" +
                      std::to_string(step));
  }
  void truncate_after(int64_t step) override {
    events->push_back(name + " truncate " + std::to_string(step));
  }
  void run_end(bool success) override { events->push_back(name + (success ? " ok" : " failed")); }
};

}  // namespace

TEST_CASE("the metric log hands batches to every logger in order, and a failed write again") {
  std::vector<std::string> events;
  auto first = std::make_unique<RecordingLogger>(&events, "first");
  auto second = std::make_unique<RecordingLogger>(&events, "second");
  second->failures_left = 1;
  RecordingLogger* second_ptr = second.get();
  std::vector<std::unique_ptr<mlq::Logger>> loggers;
  loggers.push_back(std::move(first));
  loggers.push_back(std::move(second));
  mlq::MetricLog log(std::move(loggers));

  log.flush();  // nothing pending: a heartbeat
  CHECK(events == std::vector<std::string>{"first heartbeat", "second heartbeat"});
  events.clear();

  log.add("loss", 1, 0.5);
  log.add("loss", 2, 0.25);
  CHECK(events.empty());  // batched
  CHECK_THROWS_WITH(log.flush(), "second failed");
  CHECK(events == std::vector<std::string>{"first loss@1", "first loss@2"});
  events.clear();
  log.add("loss", 3, 0.125);
  log.flush();  // the failed batch again, with the new point, to every logger
  CHECK(events == std::vector<std::string>{"first loss@1", "first loss@2", "first loss@3",
                                           "second loss@1", "second loss@2", "second loss@3"});
  CHECK(second_ptr->failures_left == 0);
  events.clear();

  log.add("loss", 4, 1);
  log.truncate_after(3);  // a resumed run: pending points after the checkpoint are dropped
  log.flush();
  CHECK(events == std::vector<std::string>{"first truncate 3", "second truncate 3",
                                           "first heartbeat", "second heartbeat"});
  events.clear();

  mlq::EvaluationMedia media;
  media.images.push_back({"roll", "png bytes", 1, 1});
  CHECK_FALSE(log.wants_media(mlq::Split::Validation));
  second_ptr->media_for_validation = true;
  CHECK(log.wants_media(mlq::Split::Validation));
  log.log_media("val_", media, 7, mlq::Split::Validation);  // only the logger that wants them
  log.log_media("test_", media, 8, mlq::Split::Test);
  log.run_end(true);
  CHECK(events == std::vector<std::string>{"second media val_roll@7", "first media test_roll@8",
                                           "second media test_roll@8", "first ok", "second ok"});
}
