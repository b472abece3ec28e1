// Loader throughput for tools/bench/data_pipeline.sh: 10 s segments of a preprocessed data set
// (memory-mapped .npy), seeded shuffling, collate, and log-mel features made in the loader's
// worker threads. The same pipeline as tools/bench/peer/loader_peer.py.
// With `augment`, the full [augment] chain runs too (waveform members before the features, masks
// after), in the same worker threads.
// Usage: bench_loader ROOT [workers=2] [batch=8] [batches=40] [augment]
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "mlq/train/augment.hpp"
#include "mlq/train/data_loader.hpp"
#include "mlq/train/features.hpp"
#include "mlq/train/segment_dataset.hpp"
#include "mlq/util/allocator.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_loader ROOT [workers] [batch] [batches]\n");
    return 2;
  }
  const std::filesystem::path root = argv[1];
  const int64_t workers = argc > 2 ? std::stoll(argv[2]) : 2;
  const int64_t batch = argc > 3 ? std::stoll(argv[3]) : 8;
  const int64_t batches = argc > 4 ? std::stoll(argv[4]) : 40;
  const bool augment = argc > 5 && std::string(argv[5]) == "augment";
  torch::set_num_threads(1);           // the workers are the parallelism, as in the peer
  mlq::tune_allocator_for_training();  // as the runner does before any command

  auto data = std::make_shared<mlq::SegmentDataset>(root / "index.csv", "train",
                                                    mlq::SegmentOptions{10.0, 10.0});
  const mlq::MelFeatures mel{mlq::FeatureOptions{}};
  const mlq::Registry registry;
  const auto config = [](const char* text) { return mlq::Config(toml::parse(text), {}); };
  const mlq::BatchAugmentation waveform(config(R"(
    chain = ["pitch_shift", "equalizer", "gain", "noise"]
    [pitch_shift]
    probability = 0.5
    [equalizer]
    probability = 0.5
  )"),
                                        registry);
  const mlq::BatchAugmentation spectrogram(config(R"(chain = ["time_mask", "freq_mask"])"),
                                           registry);
  // Declared after the augmentations it uses: its workers stop before they are destroyed.
  mlq::DataLoader loader(data, batch, /*shuffle=*/true, /*seed=*/0, /*drop_last=*/true, workers,
                         /*prefetch=*/4);
  loader.set_transform([&](mlq::TensorMap& b, uint64_t seed) {
    if (augment) waveform.apply(b, seed);
    b["features"] = mel(b.at("audio"));
    if (augment) spectrogram.apply(b, seed + 1);
  });
  auto next = [&] {
    if (loader.epoch_done()) loader.start_next_epoch();
    return loader.next();
  };
  next();  // thread start-up is not throughput
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < batches; ++i) next();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int64_t segments = batches * batch;
  std::printf("%lld segments %.2f s %.2f segments/s\n", static_cast<long long>(segments), seconds,
              segments / seconds);
  return 0;
}
