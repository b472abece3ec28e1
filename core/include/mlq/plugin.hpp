#pragma once
// Everything a task plugin uses: MLQ_PLUGIN, the registry and every register_*, Task, Model,
// Dataset, Metric, Callback, augmentations, features, metadata parsers and plugin commands.
// docs/plugins.md explains each; tools/new-plugin scaffolds a project around this header.
//
// A complete plugin (build it with mlq_add_plugin(blobs SOURCES blobs.cpp), see docs/plugins.md):
//
//   #include "mlq/plugin.hpp"
//
//   MLQ_PLUGIN("blobs", "0.1.0", "blobs")  // plugin name, its version, the tasks it provides
//
//   namespace {
//   class Points : public mlq::Dataset {  // [data] name = "points"
//    public:
//     Points(const mlq::Config& c, mlq::Split split) {
//       const int64_t n = c.get_int("size", 256, mlq::Range::at_least(1));
//       auto gen = at::detail::createCPUGenerator(static_cast<uint64_t>(split) + 1);
//       labels_ = at::randint(0, 2, {n}, gen);
//       points_ = at::randn({n, 2}, gen) + labels_.unsqueeze(1).to(torch::kFloat) * 3;
//     }
//     int64_t size() const override { return points_.size(0); }
//     mlq::TensorMap get(int64_t i) const override {
//       return {{"input", points_[i]}, {"label", labels_[i]}};
//     }
//    private:
//     torch::Tensor points_, labels_;
//   };
//
//   struct MlpImpl : mlq::Model {  // [model] name = "mlp"
//     explicit MlpImpl(const mlq::Config& c)
//         : net(torch::nn::Linear(2, c.get_int("hidden", 16)), torch::nn::ReLU(),
//               torch::nn::Linear(c.get_int("hidden", 16), 2)) {
//       register_module("net", net);
//     }
//     mlq::TensorMap forward(const mlq::TensorMap& batch) override {
//       return {{"logits", net->forward(batch.at("input"))}};
//     }
//     torch::nn::Sequential net;
//   };
//   }  // namespace
//
//   void mlq_register(mlq::Registry& r) {
//     mlq::register_task(r, "blobs", [] { return std::make_shared<mlq::SupervisedTask>(); });
//     mlq::register_dataset(r, "points", [](const mlq::Config& c, mlq::Split s) {
//       return std::make_shared<Points>(c, s);
//     });
//     mlq::register_model(r, "mlp", [](const mlq::Config& c) {
//       return std::make_shared<MlpImpl>(c);
//     });
//     mlq::register_loss(r, "cross_entropy", [](const mlq::Config&) {
//       return [](const mlq::TensorMap& out, const mlq::TensorMap& batch) {
//         return torch::nn::functional::cross_entropy(out.at("logits"), batch.at("label"));
//       };
//     });
//   }
//
// and a config (configs/exp.toml beside configs/blobs/{data,model,trainer}/*.toml):
//   task = "blobs"
//   [defaults]
//   data = "points"
//   model = "mlp"
//   trainer = "default"
#include <torch/torch.h>

#include "mlq/plugin/api.hpp"
#include "mlq/plugin_base.hpp"
#include "mlq/train/augment.hpp"
#include "mlq/train/callback.hpp"
#include "mlq/train/checkpoint.hpp"
#include "mlq/train/components.hpp"
#include "mlq/train/data_loader.hpp"
#include "mlq/train/features.hpp"
#include "mlq/train/segment_dataset.hpp"
#include "mlq/train/supervised_task.hpp"
#include "mlq/train/task.hpp"
#include "mlq/train/tensor_utils.hpp"
#include "mlq/train/trainer.hpp"
