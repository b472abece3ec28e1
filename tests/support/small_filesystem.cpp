#include "support/small_filesystem.hpp"

#include <sys/mount.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

namespace mlq::test {

SmallFilesystem::SmallFilesystem(size_t bytes) {
  const std::string options = "size=" + std::to_string(bytes) + ",mode=0777";
  if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, options.c_str()) == 0)
    mounted_ = true;
  else
    skip_reason_ = std::string("cannot mount a small tmpfs here (") + std::strerror(errno) +
                   "); this test needs root";
}

SmallFilesystem::~SmallFilesystem() {
  if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
}

size_t SmallFilesystem::available() const {
  struct statvfs info {};
  if (::statvfs(dir_.path().c_str(), &info) != 0) return 0;
  return static_cast<size_t>(info.f_bavail) * info.f_frsize;
}

}  // namespace mlq::test
