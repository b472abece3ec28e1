#include "strategy/process_group.hpp"

#include <torch/torch.h>
#include <torch/version.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL  // defined by a CUDA LibTorch's CMake package
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <cstdlib>

#include "mlq/util/error.hpp"

namespace mlq {
namespace {

// The collectives' common base class: c10d::ProcessGroup in LibTorch 1.x, c10d::Backend since 2.0.
#if TORCH_VERSION_MAJOR >= 2
using Collectives = ::c10d::Backend;
#else
using Collectives = ::c10d::ProcessGroup;
#endif

constexpr std::chrono::minutes kTimeout{5};

std::shared_ptr<::gloo::transport::Device> make_device(const std::string& master_addr) {
  if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"); interface && *interface)
    return ::c10d::ProcessGroupGloo::createDeviceForInterface(interface);
  if (master_addr == "127.0.0.1" || master_addr == "localhost")
    return ::c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return ::c10d::ProcessGroupGloo::createDefaultDevice();
}

// Groups consecutive tensors of one dtype into buckets of about kBucketBytes.
std::vector<std::vector<torch::Tensor>> buckets(const std::vector<torch::Tensor>& tensors) {
  std::vector<std::vector<torch::Tensor>> out;
  int64_t bytes = 0;
  for (const auto& tensor : tensors) {
    if (out.empty() || bytes >= kBucketBytes ||
        out.back().front().scalar_type() != tensor.scalar_type()) {
      out.emplace_back();
      bytes = 0;
    }
    out.back().push_back(tensor);
    bytes += tensor.numel() * static_cast<int64_t>(tensor.element_size());
  }
  return out;
}

torch::Tensor flatten(const std::vector<torch::Tensor>& bucket) {
  std::vector<torch::Tensor> flat;
  flat.reserve(bucket.size());
  for (const auto& tensor : bucket) flat.push_back(tensor.detach().reshape({-1}));
  return torch::cat(flat);
}

void unflatten(const torch::Tensor& flat, const std::vector<torch::Tensor>& bucket) {
  int64_t offset = 0;
  for (const auto& tensor : bucket) {
    const int64_t n = tensor.numel();
    tensor.detach().copy_(flat.narrow(0, offset, n).view(tensor.sizes()));
    offset += n;
  }
}

// Waits for a collective; a peer that died or hung becomes a one-line error.
void wait(const c10::intrusive_ptr<::c10d::Work>& work) {
  try {
    work->wait();
  } catch (const std::exception& e) {
    const auto* torch_error = dynamic_cast<const c10::Error*>(&e);
    std::string message = torch_error ? torch_error->what_without_backtrace() : e.what();
    throw std::runtime_error("process group: another rank stopped (" +
                             message.substr(0, message.find('\n')) + ")");
  }
}

}  // namespace

struct ProcessGroup::State {
  c10::intrusive_ptr<::c10d::Store> store;
  c10::intrusive_ptr<Collectives> group;
};

namespace {

c10::intrusive_ptr<Collectives> make_gloo(const c10::intrusive_ptr<::c10d::Store>& store, int rank,
                                          int world_size, const std::string& master_addr) {
  auto options = ::c10d::ProcessGroupGloo::Options::create(kTimeout);
  options->devices.push_back(make_device(master_addr));
  options->threads = 2;
  return c10::make_intrusive<::c10d::ProcessGroupGloo>(store, rank, world_size, options);
}

c10::intrusive_ptr<Collectives> make_nccl(const c10::intrusive_ptr<::c10d::Store>& store, int rank,
                                          int world_size) {
#ifdef USE_C10D_NCCL
  auto options = ::c10d::ProcessGroupNCCL::Options::create();
  options->timeout = kTimeout;
  return c10::make_intrusive<::c10d::ProcessGroupNCCL>(store, rank, world_size, options);
#else
  (void)store, (void)rank, (void)world_size;
  throw UserError(
      "config key 'trainer.device' = \"cuda\" with several processes needs NCCL, and this "
      "LibTorch was built without it (USE_C10D_NCCL); use a CUDA LibTorch with NCCL");
#endif
}

}  // namespace

ProcessGroup::ProcessGroup(int rank, int world_size, const std::string& master_addr,
                           int master_port, const c10::Device& device)
    : rank_(rank), world_size_(world_size), device_(device), state_(std::make_unique<State>()) {
  ::c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<std::uint16_t>(master_port);
  store_options.isServer = rank == 0;
  store_options.numWorkers = static_cast<std::size_t>(world_size);
  store_options.waitWorkers = true;
  store_options.timeout = kTimeout;
  state_->store = c10::make_intrusive<::c10d::TCPStore>(master_addr, store_options);
  state_->group = device.is_cuda() ? make_nccl(state_->store, rank, world_size)
                                   : make_gloo(state_->store, rank, world_size, master_addr);
}

ProcessGroup::~ProcessGroup() = default;

void ProcessGroup::broadcast(const std::vector<torch::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  for (const auto& bucket : buckets(tensors)) {
    std::vector<torch::Tensor> flat{flatten(bucket)};
    wait(state_->group->broadcast(flat));
    unflatten(flat[0], bucket);
  }
}

std::function<void()> ProcessGroup::start_all_reduce_sum(const torch::Tensor& flat) {
  std::vector<torch::Tensor> tensors{flat};
  c10::intrusive_ptr<::c10d::Work> work = state_->group->allreduce(tensors);
  return [work] { wait(work); };
}

void ProcessGroup::all_reduce_sum(torch::Tensor& tensor) {
  std::vector<torch::Tensor> tensors{tensor.to(device_)};  // NCCL reduces CUDA tensors only
  wait(state_->group->allreduce(tensors));
  if (!tensors[0].is_same(tensor)) tensor.copy_(tensors[0]);
}

std::string ProcessGroup::share(const std::string& key, const std::string& value) {
  if (rank_ == 0) state_->store->set(key, std::vector<uint8_t>(value.begin(), value.end()));
  const std::vector<uint8_t> shared = state_->store->get(key);
  return std::string(shared.begin(), shared.end());
}

uint64_t tensor_checksum(const std::vector<torch::Tensor>& tensors) {
  uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a
  for (const auto& tensor : tensors) {
    const torch::Tensor data = tensor.detach().cpu().contiguous();
    const auto* bytes = static_cast<const uint8_t*>(data.data_ptr());
    const size_t n = static_cast<size_t>(data.numel()) * data.element_size();
    for (size_t i = 0; i < n; ++i) hash = (hash ^ bytes[i]) * 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace mlq
