#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "mlq/train/task.hpp"

namespace mlq {

// Where a loader stands: the epoch and how many batches of it were already handed out. Stored
// in checkpoints so a resumed run sees exactly the batches an uninterrupted one would.
struct LoaderPosition {
  int64_t epoch = 0;
  int64_t batch = 0;
};

// Batches a Dataset: seeded per-epoch shuffling (the order of epoch e depends only on the seed
// and e), drop_last, and collation by stacking each named tensor. With workers > 0, that many
// threads assemble the next batches ahead (at most `prefetch` waiting); batches still come out
// in order and their content depends only on (seed, epoch, index), so resuming stays exact.
class DataLoader {
 public:
  DataLoader(std::shared_ptr<Dataset> dataset, int64_t batch_size, bool shuffle, uint64_t seed,
             bool drop_last, int64_t workers = 0, int64_t prefetch = 4);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Applied to every batch as it is made (in the workers when there are any); set it before
  // the first next().
  void set_transform(BatchTransform transform) { transform_ = std::move(transform); }

  // Data-parallel training: this rank takes batch slice `rank` of every global batch of
  // batch_size x world_size examples of the epoch's order (requires drop_last; call before the
  // first next()). With batch 2B on 1 rank and B on 2 ranks, the union is the same batch.
  void shard(int rank, int world_size);

  int64_t batches_per_epoch() const;
  // True once every batch of the current epoch was handed out.
  bool epoch_done() const { return position_.batch >= batches_per_epoch(); }
  void start_next_epoch();
  // The next batch of the current epoch (requires !epoch_done()).
  TensorMap next();
  const LoaderPosition& position() const { return position_; }
  void seek(const LoaderPosition& position);

 private:
  std::vector<int64_t> epoch_order(int64_t epoch) const;
  TensorMap make_batch(int64_t batch) const;
  void start_workers();
  void stop_workers();
  void work();

  std::shared_ptr<Dataset> dataset_;
  int64_t batch_size_;
  bool shuffle_;
  uint64_t seed_;
  bool drop_last_;
  int64_t rank_ = 0;
  int64_t world_size_ = 1;
  LoaderPosition position_;
  std::vector<int64_t> order_;
  int64_t order_epoch_ = -1;
  BatchTransform transform_;

  int64_t workers_;
  int64_t prefetch_;
  struct Prefetch;
  std::unique_ptr<Prefetch> prefetch_state_;
};

// Stacks examples key by key.
TensorMap collate(const std::vector<TensorMap>& examples);

}  // namespace mlq
