#include <doctest/doctest.h>
#include <torch/torch.h>

#include "mlq/train/data_loader.hpp"
#include "mlq/train/optim.hpp"
#include "mlq/util/error.hpp"
#include "train/toy_task.hpp"

using mlq::test::config_from;

TEST_CASE("step schedule decays by gamma every step_size steps") {
  mlq::LrSchedule s(config_from("name='step'\nstep_size=10\ngamma=0.5"), 0.1, 100);
  CHECK(s.at(0) == doctest::Approx(0.1));
  CHECK(s.at(9) == doctest::Approx(0.1));
  CHECK(s.at(10) == doctest::Approx(0.05));
  CHECK(s.at(25) == doctest::Approx(0.025));
}

TEST_CASE("exponential, cosine and warm-up schedules") {
  mlq::LrSchedule exponential(config_from("name='exponential'\ngamma=0.9"), 1.0, 100);
  CHECK(exponential.at(2) == doctest::Approx(0.81));
  mlq::LrSchedule cosine(config_from("name='cosine'\nmin_lr=0.0"), 1.0, 100);
  CHECK(cosine.at(0) == doctest::Approx(1.0));
  CHECK(cosine.at(50) == doctest::Approx(0.5));
  CHECK(cosine.at(100) == doctest::Approx(0.0));
  mlq::LrSchedule warmup(config_from("name='none'\nwarmup_steps=4"), 1.0, 100);
  CHECK(warmup.at(0) == doctest::Approx(0.25));
  CHECK(warmup.at(3) == doctest::Approx(1.0));
  CHECK(warmup.at(10) == doctest::Approx(1.0));
}

TEST_CASE("schedule and optimizer configs are checked") {
  CHECK_THROWS_WITH_AS(mlq::LrSchedule(config_from("name='cosin'"), 1.0, 10),
                       doctest::Contains("unknown schedule 'cosin'"), mlq::ConfigError);
  CHECK_THROWS_WITH_AS(mlq::LrSchedule(config_from("name='step'\nstep_sise=3"), 1.0, 10),
                       doctest::Contains("did you mean 'step_size'"), mlq::ConfigError);
  auto p = torch::zeros({2}, torch::requires_grad());
  CHECK_THROWS_WITH_AS(mlq::make_optimizer(config_from("name='adamm'"), {p}),
                       doctest::Contains("did you mean 'adam'"), mlq::ConfigError);
  CHECK_THROWS_WITH_AS(mlq::make_optimizer(config_from("name='adam'\nbetas=[0.9]"), {p}),
                       doctest::Contains("betas"), mlq::ConfigError);
}

TEST_CASE("optimizers are built with their options") {
  auto p = torch::zeros({2}, torch::requires_grad());
  auto adam = mlq::make_optimizer(config_from("name='adam'\nlr=0.01\namsgrad=true"), {p});
  auto& options = static_cast<torch::optim::AdamOptions&>(adam->param_groups()[0].options());
  CHECK(options.amsgrad());
  CHECK(options.lr() == doctest::Approx(0.01));
  auto sgd = mlq::make_optimizer(config_from("name='sgd'\nlr=0.5\nmomentum=0.9"), {p});
  CHECK(dynamic_cast<torch::optim::SGD*>(sgd.get()) != nullptr);
  auto adamw = mlq::make_optimizer(config_from("name='adamw'"), {p});
  CHECK(dynamic_cast<torch::optim::AdamW*>(adamw.get()) != nullptr);
  mlq::set_learning_rate(*sgd, 0.125);
  CHECK(sgd->param_groups()[0].options().get_lr() == 0.125);
}

TEST_CASE("loader: seeded per-epoch order, drop_last, exact seek") {
  auto data = std::make_shared<mlq::test::LineData>(10, -1);
  auto order = [](mlq::DataLoader& loader) {
    std::vector<float> xs;
    while (!loader.epoch_done()) {
      auto batch = loader.next();
      for (int64_t i = 0; i < batch.at("input").size(0); ++i)
        xs.push_back(batch.at("input")[i][0].item<float>());
    }
    return xs;
  };
  mlq::DataLoader a(data, 3, true, 7, true), b(data, 3, true, 7, true);
  CHECK(a.batches_per_epoch() == 3);
  auto first = order(a);
  CHECK(first.size() == 9);
  CHECK(first == order(b));
  a.start_next_epoch();
  CHECK(order(a) != first);

  mlq::DataLoader whole(data, 3, true, 7, false);
  CHECK(whole.batches_per_epoch() == 4);
  mlq::DataLoader resumed(data, 3, true, 7, true);
  resumed.seek({1, 1});
  mlq::DataLoader reference(data, 3, true, 7, true);
  reference.seek({1, 0});
  reference.next();
  CHECK(resumed.next().at("input").equal(reference.next().at("input")));
}

TEST_CASE("loader: ranks take disjoint slices of the global batch a single process sees") {
  auto data = std::make_shared<mlq::test::LineData>(13, -1);
  mlq::DataLoader single(data, 4, true, 7, true), rank0(data, 2, true, 7, true),
      rank1(data, 2, true, 7, true);
  rank0.shard(0, 2);
  rank1.shard(1, 2);
  CHECK(rank0.batches_per_epoch() == 3);
  CHECK(rank1.batches_per_epoch() == single.batches_per_epoch());
  for (int epoch = 0; epoch < 2; ++epoch) {
    while (!single.epoch_done()) {
      const torch::Tensor parts = torch::cat({rank0.next().at("input"), rank1.next().at("input")});
      CHECK(parts.equal(single.next().at("input")));
    }
    CHECK(rank0.epoch_done());
    single.start_next_epoch();
    rank0.start_next_epoch();
    rank1.start_next_epoch();
  }
  mlq::DataLoader too_few(data, 7, true, 7, true);
  CHECK_THROWS_WITH_AS(too_few.shard(1, 2),
                       "the data set has 13 examples, fewer than one global batch of 7 x 2 ranks "
                       "(drop_last)",
                       mlq::UserError);
}

TEST_CASE("collate stacks each named tensor") {
  auto batch = mlq::collate({{{"a", torch::ones({2})}}, {{"a", torch::zeros({2})}}});
  CHECK(batch.at("a").sizes() == torch::IntArrayRef({2, 2}));
  CHECK(batch.at("a")[0][0].item<float>() == 1.0f);
}

namespace {

// Every batch's inputs, epoch by epoch, as plain numbers.
std::vector<float> drain(mlq::DataLoader& loader, int epochs) {
  std::vector<float> xs;
  for (int e = 0; e < epochs; ++e) {
    while (!loader.epoch_done()) {
      auto batch = loader.next().at("input");
      for (int64_t i = 0; i < batch.size(0); ++i) xs.push_back(batch[i][0].item<float>());
    }
    loader.start_next_epoch();
  }
  return xs;
}

struct FailingData : mlq::test::LineData {
  FailingData() : LineData(20, -1) {}
  mlq::TensorMap get(int64_t i) const override {
    if (i == 13) throw mlq::UserError("example 13 is unreadable");
    return LineData::get(i);
  }
};

}  // namespace

TEST_CASE("loader workers change nothing but speed: same batches, same order, exact seek") {
  auto data = std::make_shared<mlq::test::LineData>(50, -1);
  mlq::DataLoader serial(data, 4, true, 11, false);
  mlq::DataLoader threaded(data, 4, true, 11, false, /*workers=*/3, /*prefetch=*/2);
  CHECK(drain(serial, 3) == drain(threaded, 3));

  mlq::DataLoader reference(data, 4, true, 11, false);
  reference.seek({1, 5});
  mlq::DataLoader resumed(data, 4, true, 11, false, 2, 4);
  resumed.next();  // workers already running on epoch 0
  resumed.seek({1, 5});
  CHECK(resumed.next().at("input").equal(reference.next().at("input")));
}

TEST_CASE("a dataset error in a loader worker reaches the caller") {
  mlq::DataLoader loader(std::make_shared<FailingData>(), 4, false, 0, false, 2, 2);
  loader.next();
  loader.next();
  loader.next();
  CHECK_THROWS_WITH_AS(loader.next(), "example 13 is unreadable", mlq::UserError);
}
