#pragma once
// Everything a task plugin uses: MLQ_PLUGIN, the registry and every register_*, Task, Model,
// Dataset, Metric, Callback, augmentations, features, metadata parsers and plugin commands.
// docs/plugins.md explains each; tools/new-plugin scaffolds a project around this header.
//
// A complete plugin: the three files below (tests/integration/installed_sdk.sh builds them from
// this comment against an installed SDK and trains the task). With the plugin on MLQ_PLUGIN_PATH,
// `runner --config=configs/exp.toml` trains it.
//
//   ---- CMakeLists.txt ----
//   cmake_minimum_required(VERSION 3.18)
//   project(hello LANGUAGES CXX)
//   find_package(mlq REQUIRED)  # -DCMAKE_PREFIX_PATH=<prefix of ML-Quickstart>
//   mlq_add_plugin(hello SOURCES hello.cpp)  # -> build/plugins/libmlq_hello.so
//
//   ---- hello.cpp ----
//   #include "mlq/plugin.hpp"
//
//   MLQ_PLUGIN("hello", "0.1.0", "hello")  // plugin name, its version, the tasks it provides
//
//   namespace {
//   // Two Gaussian blobs: label 0 around the origin, label 1 around (3, 3).
//   class Blobs : public mlq::Dataset {
//    public:
//     Blobs(const mlq::Config& c, mlq::Split split) {
//       const int64_t n = c.get_int("size", 256, mlq::Range::at_least(1));
//       auto gen = at::detail::createCPUGenerator(static_cast<uint64_t>(split) + 1);
//       labels_ = at::randint(0, 2, {n}, gen);
//       points_ = at::randn({n, 2}, gen) + labels_.unsqueeze(1).to(torch::kFloat) * 3;
//     }
//     int64_t size() const override { return points_.size(0); }
//     mlq::TensorMap get(int64_t i) const override {
//       return {{"input", points_[i]}, {"label", labels_[i]}};
//     }
//
//    private:
//     torch::Tensor points_, labels_;
//   };
//
//   class Linear : public mlq::Model {
//    public:
//     explicit Linear(const mlq::Config&) { register_module("layer", layer_); }
//     mlq::TensorMap forward(const mlq::TensorMap& batch) override {
//       return {{"logits", layer_->forward(batch.at("input"))}};
//     }
//
//    private:
//     torch::nn::Linear layer_{2, 2};
//   };
//   }  // namespace
//
//   void mlq_register(mlq::Registry& r) {
//     mlq::register_task(r, "hello", [] { return std::make_shared<mlq::SupervisedTask>(); });
//     mlq::register_dataset(r, "blobs", [](const mlq::Config& c, mlq::Split split) {
//       return std::make_shared<Blobs>(c, split);
//     });
//     mlq::register_model(r, "linear", [](const mlq::Config& c) {
//       return std::make_shared<Linear>(c);
//     });
//     mlq::register_loss(r, "cross_entropy", [](const mlq::Config&) -> mlq::LossFn {
//       return [](const mlq::TensorMap& outputs, const mlq::TensorMap& batch) {
//         return torch::cross_entropy_loss(outputs.at("logits"), batch.at("label"));
//       };
//     });
//   }
//
//   ---- configs/exp.toml ----
//   task = "hello"
//   [data]
//   name = "blobs"
//   [model]
//   name = "linear"
//   [loss]
//   name = "cross_entropy"
//   [trainer]
//   max_steps = 100
//   ---- end ----
#include <torch/torch.h>

#include "mlq/plugin/api.hpp"
#include "mlq/plugin_base.hpp"
#include "mlq/train/augment.hpp"
#include "mlq/train/callback.hpp"
#include "mlq/train/checkpoint.hpp"
#include "mlq/train/components.hpp"
#include "mlq/train/data_loader.hpp"
#include "mlq/train/features.hpp"
#include "mlq/train/predict.hpp"
#include "mlq/train/segment_dataset.hpp"
#include "mlq/train/supervised_task.hpp"
#include "mlq/train/task.hpp"
#include "mlq/train/tensor_utils.hpp"
#include "mlq/train/trainer.hpp"
