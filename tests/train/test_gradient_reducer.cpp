#include <torch/torch.h>

#include <doctest/doctest.h>

#include <array>
#include <future>

#include "mlq/launch/local_launcher.hpp"
#include "strategy/gradient_reducer.hpp"
#include "strategy/process_group.hpp"

namespace {

using Gradients = std::vector<torch::Tensor>;

// Parameters over several buckets; `only_rank1` takes part in rank 1's loss only, `unused` in
// none.
struct Net : torch::nn::Module {
  Net() {
    a = register_module("a", torch::nn::Linear(6, 32));
    b = register_module("b", torch::nn::Linear(32, 4));
    only_rank1 = register_parameter("only_rank1", torch::ones({3}));
    unused = register_parameter("unused", torch::ones({2}));
    torch::NoGradGuard no_grad;  // the same weights on every thread, without the global RNG
    for (auto& parameter : parameters())
      parameter.copy_(torch::linspace(-1, 1, parameter.numel()).reshape(parameter.sizes()));
  }
  torch::nn::Linear a{nullptr}, b{nullptr};
  torch::Tensor only_rank1, unused;
};

torch::Tensor loss_of(Net& net, int rank, int micro) {
  const auto x = torch::arange(24, torch::kFloat).reshape({4, 6}).add(rank * 7 + micro * 3).sin();
  torch::Tensor loss = net.b(torch::tanh(net.a(x))).pow(2).mean();
  return rank == 1 ? loss + net.only_rank1.pow(2).sum() * (micro + 1) : loss;
}

Gradients gradients_of(Net& net) {
  Gradients out;
  for (const auto& parameter : net.parameters())
    out.push_back(parameter.grad().defined() ? parameter.grad().clone() : torch::Tensor());
  return out;
}

// One rank's gradients summed over micro-batches first..last-1, with no communication.
Gradients local_gradients(int rank, int first, int last) {
  Net net;
  for (int micro = first; micro < last; ++micro) loss_of(net, rank, micro).backward();
  return gradients_of(net);
}

// Both ranks' gradients after the reducer, two threads on loopback Gloo.
std::array<Gradients, 2> reduce_on_two_ranks(bool overlap, int64_t bucket_bytes, int micro_batches,
                                             size_t* buckets = nullptr) {
  const int port = mlq::free_port();
  auto rank_main = [&](int rank) {
    Net net;
    mlq::ProcessGroup group(rank, 2, "127.0.0.1", port);
    mlq::GradientReducer reducer(group, net.parameters(), bucket_bytes, overlap);
    if (buckets) *buckets = reducer.bucket_count();
    for (int micro = 0; micro < micro_batches; ++micro) {
      if (micro + 1 == micro_batches) reducer.arm();
      loss_of(net, rank, micro).backward();
    }
    reducer.finish();
    return gradients_of(net);
  };
  auto rank1 = std::async(std::launch::async, rank_main, 1);
  Gradients rank0 = rank_main(0);
  return {rank0, rank1.get()};
}

// Both ranks hold the mean of the two ranks' local gradients of micro-batches first..last-1.
void check_mean(const std::array<Gradients, 2>& reduced, int first_micro, int last_micro) {
  const Gradients first = local_gradients(0, first_micro, last_micro);
  const Gradients second = local_gradients(1, first_micro, last_micro);
  REQUIRE(first.size() == 6);
  for (size_t i = 0; i < first.size(); ++i) {
    CAPTURE(i);
    if (!first[i].defined() && !second[i].defined()) {  // `unused`: no rank has a gradient
      CHECK_FALSE(reduced[0][i].defined());
      CHECK_FALSE(reduced[1][i].defined());
      continue;
    }
    const torch::Tensor expected =
        ((first[i].defined() ? first[i] : torch::zeros_like(second[i])) +
         (second[i].defined() ? second[i] : torch::zeros_like(first[i]))) /
        2;
    for (const auto& rank : reduced) {
      REQUIRE(rank[i].defined());
      CHECK(torch::allclose(rank[i], expected, 1e-6, 1e-7));
    }
  }
}

}  // namespace

TEST_CASE("gradient reducer leaves the mean gradient of two ranks on both") {
  for (const bool overlap : {true, false}) {
    for (const int64_t bucket_bytes : {int64_t{64}, int64_t{25} << 20}) {
      for (const int micro_batches : {1, 3}) {
        CAPTURE(overlap);
        CAPTURE(bucket_bytes);
        CAPTURE(micro_batches);
        size_t buckets = 0;
        check_mean(reduce_on_two_ranks(overlap, bucket_bytes, micro_batches, &buckets), 0,
                   micro_batches);
        CHECK(buckets == (bucket_bytes == 64 ? 4u : 1u));
      }
    }
  }
}

TEST_CASE("gradient reducer serves step after step") {
  const int port = mlq::free_port();
  auto rank_main = [&](int rank) {
    Net net;
    mlq::ProcessGroup group(rank, 2, "127.0.0.1", port);
    mlq::GradientReducer reducer(group, net.parameters(), 64, /*overlap=*/true);
    std::vector<Gradients> steps;
    for (int step = 0; step < 3; ++step) {
      net.zero_grad();
      reducer.arm();
      loss_of(net, rank, step).backward();
      reducer.finish();
      steps.push_back(gradients_of(net));
    }
    return steps;
  };
  auto rank1 = std::async(std::launch::async, rank_main, 1);
  const std::vector<Gradients> rank0 = rank_main(0);
  const std::vector<Gradients> other = rank1.get();
  for (size_t step = 0; step < rank0.size(); ++step) {
    CAPTURE(step);
    const int micro = static_cast<int>(step);  // step s trains on micro-batch s alone
    check_mean({rank0[step], other[step]}, micro, micro + 1);
  }
}
