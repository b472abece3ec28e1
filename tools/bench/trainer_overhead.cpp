// The Trainer's own cost per step: one model, data set and optimiser trained by a bare loop and by
// the Trainer (callbacks, progress, metric logging into a real run directory and SQLite manifest),
// interleaved, median of 5 each. MLQ_BENCH_THREADS=N (default 2) pins both sides' threads;
// MLQ_BENCH_VERBOSE=1 prints every repeat. The Trainer's work does not grow with the model, so the
// tiny model shows it best; on larger models it is below this machine's run-to-run noise (~5%).
// Usage: build/bin/bench_trainer [steps]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "mlq/train/components.hpp"
#include "mlq/train/trainer.hpp"

namespace {

class RandomData : public mlq::Dataset {
 public:
  RandomData(int64_t n, int64_t dim) : x_(torch::randn({n, dim})), y_(torch::randn({n, 1})) {}
  int64_t size() const override { return x_.size(0); }
  mlq::TensorMap get(int64_t i) const override { return {{"input", x_[i]}, {"target", y_[i]}}; }

 private:
  torch::Tensor x_, y_;
};

class Mlp : public mlq::Model {
 public:
  Mlp(int64_t dim, int64_t width, int64_t depth) {
    int64_t in = dim;
    for (int64_t i = 0; i < depth; ++i, in = width) {
      layers_->push_back(torch::nn::Linear(in, width));
      layers_->push_back(torch::nn::ReLU());
    }
    layers_->push_back(torch::nn::Linear(in, 1));
    register_module("layers", layers_);
  }
  mlq::TensorMap forward(const mlq::TensorMap& batch) override {
    return {{"prediction", layers_->forward(batch.at("input"))}};
  }

 private:
  torch::nn::Sequential layers_;
};

struct BenchTask : mlq::Task {
  BenchTask(int64_t dim, int64_t width, int64_t depth)
      : data(std::make_shared<RandomData>(4096, dim)),
        net(std::make_shared<Mlp>(dim, width, depth)) {}
  void setup(const mlq::Config&, const mlq::Registry&) override {}
  std::shared_ptr<mlq::Model> model() override { return net; }
  std::shared_ptr<mlq::Dataset> dataset(mlq::Split) override { return data; }
  torch::Tensor training_step(const mlq::TensorMap& batch, mlq::Scalars&) override {
    return torch::mse_loss(net->forward(batch).at("prediction"), batch.at("target"));
  }
  void validation_step(const mlq::TensorMap&) override {}
  mlq::Scalars validation_epoch_end() override { return {}; }
  std::shared_ptr<RandomData> data;
  std::shared_ptr<Mlp> net;
};

// Times the steps only: from on_train_start to the end of the last step (excludes setup and the
// final checkpoint, which are once per run, not per step).
struct StepClock : mlq::Callback {
  std::string name() const override { return "step_clock"; }
  void on_train_start(mlq::Trainer&) override { start = std::chrono::steady_clock::now(); }
  void on_train_batch_end(mlq::Trainer&, const mlq::StepInfo&) override {
    end = std::chrono::steady_clock::now();
  }
  std::chrono::steady_clock::time_point start, end;
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double bare_loop(BenchTask& task, int64_t steps, int64_t batch_size) {
  mlq::DataLoader loader(task.data, batch_size, true, 0, true);
  torch::optim::Adam optimizer(task.net->parameters(), torch::optim::AdamOptions(1e-4));
  mlq::Scalars logs;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t step = 0; step < steps; ++step) {
    if (loader.epoch_done()) loader.start_next_epoch();
    optimizer.zero_grad();
    torch::Tensor loss = task.training_step(loader.next(), logs);
    (void)loss.item<double>();
    loss.backward();
    optimizer.step();
  }
  return seconds_since(start) / static_cast<double>(steps);
}

double with_trainer(BenchTask& task, int64_t steps, int64_t batch_size,
                    const std::filesystem::path& dir) {
  const std::string toml = "task = 'bench'\noutput_dir = '" + (dir / "outputs").string() +
                           "'\n[trainer]\nthreads = " + std::to_string(torch::get_num_threads()) +
                           "\nval_every_n_epochs = 0\nbatch_size = " + std::to_string(batch_size) +
                           "\nmax_steps = " + std::to_string(steps) +
                           "\n[trainer.optimizer]\nname = 'adam'\nlr = 1e-4\n";
  const mlq::Config config(toml::parse(toml), {});
  mlq::Manifest manifest(dir / "runs.sqlite");
  mlq::Run run = mlq::Run::create(manifest, config, {}, "{}");
  mlq::Trainer trainer(config, task, &run);
  trainer.add_default_callbacks();
  auto clock = std::make_shared<StepClock>();
  trainer.add_callback(clock);
  trainer.fit();
  return std::chrono::duration<double>(clock->end - clock->start).count() /
         static_cast<double>(steps);
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t steps = argc > 1 ? std::atoll(argv[1]) : 2000;
  const int threads = getenv("MLQ_BENCH_THREADS") ? std::atoi(getenv("MLQ_BENCH_THREADS")) : 2;
  torch::set_num_threads(threads);
  const auto dir = std::filesystem::temp_directory_path() / "mlq-bench-trainer";
  std::filesystem::remove_all(dir);
  struct Case {
    const char* name;
    int64_t dim, width, depth, batch;
  };
  std::freopen("/dev/null", "w", stdout);  // the progress bar's lines; results go to stderr
  std::fprintf(stderr, "%-28s %12s %12s %12s %9s\n", "model", "bare us/step", "trainer", "overhead",
               "share");
  for (const Case& c :
       {Case{"tiny (linear 8->1)", 8, 8, 0, 32}, Case{"mlp 256x256x3, batch 64", 256, 256, 3, 64},
        Case{"mlp 1024x1024x3, batch 128", 1024, 1024, 3, 128}}) {
    std::vector<double> bares, traineds;
    const int64_t n = c.depth == 0 ? steps : steps / 10;
    for (int repeat = 0; repeat < 5; ++repeat) {
      BenchTask task(c.dim, c.width, c.depth);
      traineds.push_back(with_trainer(task, n, c.batch, dir / std::to_string(repeat) / c.name));
      bares.push_back(bare_loop(task, n, c.batch));
      if (getenv("MLQ_BENCH_VERBOSE"))
        std::fprintf(stderr, "  %s repeat %d: bare %.1f trainer %.1f\n", c.name, repeat,
                     bares.back() * 1e6, traineds.back() * 1e6);
    }
    const double bare = median(bares), trained = median(traineds);
    std::fprintf(stderr, "%-28s %12.1f %12.1f %12.1f %8.2f%%\n", c.name, bare * 1e6, trained * 1e6,
                 (trained - bare) * 1e6, 100.0 * (trained - bare) / bare);
  }
  std::filesystem::remove_all(dir);
}
