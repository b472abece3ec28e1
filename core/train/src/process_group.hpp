#pragma once
// The data-parallel process group: PyTorch's c10d TCPStore rendezvous and Gloo collectives (CPU).
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mlq {

// Gradients and parameters travel in flattened buckets of about this many bytes.
inline constexpr int64_t kBucketBytes = 25 * 1024 * 1024;

class ProcessGroup {
 public:
  // Rank 0 hosts the TCPStore at master_addr:master_port; every rank connects to it.
  ProcessGroup(int rank, int world_size, const std::string& master_addr, int master_port);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return rank_; }
  int size() const { return world_size_; }
  // Overwrites the tensors, in place, with rank 0's values.
  void broadcast(const std::vector<torch::Tensor>& tensors);
  // Replaces the tensors, in place, with their mean over the ranks (all buckets in flight at
  // once).
  void all_reduce_mean(const std::vector<torch::Tensor>& tensors);
  // Sums a small tensor over the ranks, in place.
  void all_reduce_sum(torch::Tensor& tensor);
  // Rank 0's `value` for `key` (the others' `value` is ignored); each key is used once.
  std::string share(const std::string& key, const std::string& value);

 private:
  struct State;
  int rank_;
  int world_size_;
  std::unique_ptr<State> state_;
};

// An order-dependent checksum of the tensors' bytes (to compare ranks' parameters).
uint64_t tensor_checksum(const std::vector<torch::Tensor>& tensors);

}  // namespace mlq
