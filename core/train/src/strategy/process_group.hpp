#pragma once
// The data-parallel process group: PyTorch's c10d TCPStore rendezvous, then Gloo collectives on
// the CPU or NCCL on CUDA (with a LibTorch built with NCCL).
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mlq {

// Broadcast parameters and buffers travel in flattened buckets of about this many bytes.
inline constexpr int64_t kBucketBytes = 25 * 1024 * 1024;

class ProcessGroup {
 public:
  // Rank 0 hosts the TCPStore at master_addr:master_port; every rank connects to it. Tensors
  // given to the collectives live on `device`.
  ProcessGroup(int rank, int world_size, const std::string& master_addr, int master_port,
               const c10::Device& device = c10::Device(c10::kCPU));
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return rank_; }
  int size() const { return world_size_; }
  // Overwrites the tensors, in place, with rank 0's values.
  void broadcast(const std::vector<torch::Tensor>& tensors);
  // Starts summing a flat tensor over the ranks, in place; call the result to wait for it.
  std::function<void()> start_all_reduce_sum(const torch::Tensor& flat);
  // Sums a small tensor over the ranks, in place.
  void all_reduce_sum(torch::Tensor& tensor);
  // Rank 0's `value` for `key` (the others' `value` is ignored); each key is used once.
  std::string share(const std::string& key, const std::string& value);

 private:
  struct State;
  int rank_;
  int world_size_;
  c10::Device device_;
  std::unique_ptr<State> state_;
};

// An order-dependent checksum of the tensors' bytes (to compare ranks' parameters).
uint64_t tensor_checksum(const std::vector<torch::Tensor>& tensors);

}  // namespace mlq
