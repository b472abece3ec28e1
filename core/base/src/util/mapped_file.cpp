#include "mlq/util/mapped_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>

#include "mlq/util/error.hpp"
#include "mlq/util/log.hpp"

namespace mlq {
namespace {

// Pages are released in steps this large: one madvise call per step, not per read.
constexpr size_t kReleaseStep = size_t{4} << 20;

// Reading a page of a mapping beyond the end of a file that shrank raises SIGBUS. The guard keeps
// a table of live mappings; its handler puts a zero page over a faulting page that lies in one of
// them, marks that mapping truncated, and returns, so the read goes on and its reader reports the
// file (MappedFile::check_intact). A fault anywhere else still ends the process as before.
struct GuardSlot {
  std::atomic<uintptr_t> begin{0};  // 0: free; 1: being claimed
  std::atomic<size_t> length{0};
  std::atomic<bool> truncated{false};
};
// Mappings beyond this many at once go unguarded (as every mapping was before), with a warning.
constexpr size_t kGuardSlots = 65536;
GuardSlot guard_slots[kGuardSlots];
std::atomic<size_t> next_slot{0};  // where the search for a free slot starts
struct sigaction previous_sigbus;
uintptr_t page_size = 4096;  // read once, before the handler is installed

extern "C" void on_sigbus(int signal_number, siginfo_t* info, void* context) {
  // BUS_ADRERR: a page past the end of a mapped file. Other causes (an I/O error under the
  // mapping, misalignment, a signal sent by kill) are not ours.
  if (info->si_code == BUS_ADRERR) {
    const auto address = reinterpret_cast<uintptr_t>(info->si_addr);
    for (GuardSlot& slot : guard_slots) {
      const uintptr_t begin = slot.begin.load(std::memory_order_acquire);
      if (begin <= 1 || address < begin || address >= begin + slot.length.load()) continue;
      void* page = reinterpret_cast<void*>(address / page_size * page_size);
      if (mmap(page, page_size, PROT_READ, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0) ==
          MAP_FAILED)
        break;
      slot.truncated.store(true);
      return;  // the read runs again and finds zeros
    }
  }
  if ((previous_sigbus.sa_flags & SA_SIGINFO) && previous_sigbus.sa_sigaction) {
    previous_sigbus.sa_sigaction(signal_number, info, context);
    return;
  }
  if (!(previous_sigbus.sa_flags & SA_SIGINFO) && previous_sigbus.sa_handler != SIG_IGN &&
      previous_sigbus.sa_handler != SIG_DFL) {
    previous_sigbus.sa_handler(signal_number);
    return;
  }
  // The default action: a fault happens again when the handler returns and ends the process
  // with its own details; a signal that was sent is sent again.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigaction(SIGBUS, &default_action, nullptr);
  if (info->si_code <= 0) raise(SIGBUS);
}

int guard(const void* data, size_t length) {
  static const bool installed = [] {
    page_size = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    struct sigaction action {};
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    return sigaction(SIGBUS, &action, &previous_sigbus) == 0;
  }();
  if (!installed) return -1;
  const size_t start = next_slot.load(std::memory_order_relaxed);
  for (size_t n = 0; n < kGuardSlots; ++n) {
    const size_t i = (start + n) % kGuardSlots;
    uintptr_t free = 0;
    GuardSlot& slot = guard_slots[i];
    if (!slot.begin.compare_exchange_strong(free, 1)) continue;
    slot.truncated.store(false);
    slot.length.store(length);
    slot.begin.store(reinterpret_cast<uintptr_t>(data), std::memory_order_release);
    next_slot.store(i + 1, std::memory_order_relaxed);
    return static_cast<int>(i);
  }
  static std::once_flag warned;
  std::call_once(warned, [] {
    log::warn(
        "more than {} files are mapped at once: the others are read without the guard "
        "against files shrinking under their reader",
        kGuardSlots);
  });
  return -1;
}

void unguard(int slot) {
  if (slot < 0) return;
  guard_slots[slot].length.store(0);
  guard_slots[slot].begin.store(0, std::memory_order_release);
}

}  // namespace

MappedFile::MappedFile(const std::filesystem::path& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw UserError(path.string() + ": cannot read: " + std::strerror(errno));
  struct stat info {};
  if (fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    throw UserError(path.string() + ": cannot read: " + std::strerror(error));
  }
  size_ = static_cast<size_t>(info.st_size);
  if (size_ > 0) {
    void* map = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map != MAP_FAILED) {
      data_ = static_cast<unsigned char*>(map);
      guard_ = guard(data_, size_);
    } else {
      map_error_ = errno;
    }
  }
  ::close(fd);  // the mapping keeps the file; many open NpyFiles must not use up descriptors
}

MappedFile::~MappedFile() {
  unguard(guard_);
  if (data_) munmap(data_, size_);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)),
      data_(other.data_),
      size_(other.size_),
      guard_(other.guard_),
      released_(other.released_),
      map_error_(other.map_error_) {
  other.data_ = nullptr;
  other.guard_ = -1;
}

bool MappedFile::truncated() const {
  return guard_ >= 0 && guard_slots[guard_].truncated.load();
}

void MappedFile::check_intact() const {
  if (truncated())
    throw UserError(path_.string() + ": the file shrank while it was being read (" +
                    std::to_string(size_) + " bytes when opened); was it being rewritten?");
}

void MappedFile::expect_sequential() const {
  if (data_) madvise(data_, size_, MADV_SEQUENTIAL);
}

void MappedFile::release_before(size_t offset) {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t end = std::min(offset, size_) / page * page;
  if (!data_ || end < released_ + kReleaseStep) return;
  madvise(data_ + released_, end - released_, MADV_DONTNEED);
  released_ = end;
}

}  // namespace mlq
