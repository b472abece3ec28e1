#pragma once
// One fuzz harness per parser of outside bytes. A harness is written once:
//
//   MLQ_FUZZ_TARGET(midi) { ... parse data[0..size) ... }
//
// Built for libFuzzer (tests/fuzz/CMakeLists.txt defines MLQ_LIBFUZZER), the body becomes
// LLVMFuzzerTestOneInput. Otherwise it is registered under its name in targets(), so every
// harness links into one test executable (test_fuzz_corpus) that replays the seed corpus and the
// saved regressions. A body catches only the errors the parser promises (mlq::UserError and its
// subclasses, ...); anything else escaping it, a crash or a sanitizer report is a finding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace mlq::fuzz {

using Target = void (*)(const uint8_t* data, size_t size);

inline std::map<std::string, Target>& targets() {
  static std::map<std::string, Target> table;
  return table;
}

struct Registrar {
  Registrar(const char* name, Target target) { targets()[name] = target; }
};

inline std::string_view bytes(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Writes the input to a file of this process (the same path every run, so nothing piles up) for
// the parsers that take a path; `name` is the file name, extension included.
inline std::filesystem::path write_temp_file(const uint8_t* data, size_t size,
                                             const std::string& name) {
  // Removed with everything in it when the process exits normally.
  struct Dir {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("mlq-fuzz-" + std::to_string(getpid()));
    Dir() { std::filesystem::create_directories(path); }
    ~Dir() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static const Dir dir;
  const std::filesystem::path path = dir.path / name;
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file || (size > 0 && std::fwrite(data, 1, size, file) != size) || std::fclose(file) != 0) {
    std::perror(path.c_str());
    std::abort();  // not a finding of the parser, but nothing can be tested either
  }
  return path;
}

}  // namespace mlq::fuzz

#define MLQ_FUZZ_BODY_NAME(name) mlq_fuzz_body_##name

#ifdef MLQ_LIBFUZZER
#define MLQ_FUZZ_TARGET(name)                                               \
  static void MLQ_FUZZ_BODY_NAME(name)(const uint8_t* data, size_t size);   \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { \
    MLQ_FUZZ_BODY_NAME(name)(data, size);                                   \
    return 0;                                                               \
  }                                                                         \
  static void MLQ_FUZZ_BODY_NAME(name)(const uint8_t* data, size_t size)
#else
#define MLQ_FUZZ_TARGET(name)                                                                     \
  static void MLQ_FUZZ_BODY_NAME(name)(const uint8_t* data, size_t size);                         \
  static const ::mlq::fuzz::Registrar mlq_fuzz_registrar_##name(#name, MLQ_FUZZ_BODY_NAME(name)); \
  static void MLQ_FUZZ_BODY_NAME(name)(const uint8_t* data, size_t size)
#endif
