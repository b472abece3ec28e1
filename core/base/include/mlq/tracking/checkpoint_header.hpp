#pragma once
// A cheap, LibTorch-free sanity check of a checkpoint file before LibTorch reads it. A LibTorch
// checkpoint is a ZIP archive; the check looks only at the ZIP structure: the local file header
// magic at offset 0, the End Of Central Directory record (searched back from the end over at most
// the longest possible comment), the central directory it points to (inside the file, starting
// with a central directory header) and, for ZIP64 archives, the ZIP64 EOCD record that the
// locator just before the EOCD points to. It reads no member, so a damaged member still passes.
#include <filesystem>
#include <string>
#include <string_view>

namespace mlq {

// Throws UserError "<name>: not a readable checkpoint (<what is wrong>)".
void check_checkpoint_bytes(std::string_view bytes, const std::string& name);
// The same for a file (its path is the name); an unreadable file is a UserError too.
void check_checkpoint_header(const std::filesystem::path& path);

}  // namespace mlq
