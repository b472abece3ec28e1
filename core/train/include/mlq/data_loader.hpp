#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "mlq/task.hpp"

namespace mlq {

// Where a loader stands: the epoch and how many batches of it were already handed out. Stored
// in checkpoints so a resumed run sees exactly the batches an uninterrupted one would.
struct LoaderPosition {
  int64_t epoch = 0;
  int64_t batch = 0;
};

// Batches a Dataset: seeded per-epoch shuffling (the order of epoch e depends only on the seed
// and e), drop_last, and collation by stacking each named tensor.
class DataLoader {
 public:
  DataLoader(std::shared_ptr<Dataset> dataset, int64_t batch_size, bool shuffle, uint64_t seed,
             bool drop_last);

  int64_t batches_per_epoch() const;
  // True once every batch of the current epoch was handed out.
  bool epoch_done() const { return position_.batch >= batches_per_epoch(); }
  void start_next_epoch() { position_ = {position_.epoch + 1, 0}; }
  // The next batch of the current epoch (requires !epoch_done()).
  TensorMap next();
  const LoaderPosition& position() const { return position_; }
  void seek(const LoaderPosition& position);

 private:
  std::vector<int64_t> epoch_order(int64_t epoch) const;

  std::shared_ptr<Dataset> dataset_;
  int64_t batch_size_;
  bool shuffle_;
  uint64_t seed_;
  bool drop_last_;
  LoaderPosition position_;
  std::vector<int64_t> order_;
  int64_t order_epoch_ = -1;
};

// Stacks examples key by key.
TensorMap collate(const std::vector<TensorMap>& examples);

}  // namespace mlq
