#pragma once
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "support/temp_dir.hpp"

namespace mlq::test {

// What `body` writes to file descriptor `fd` (1: standard output, 2: standard error), captured
// through a file in `capture`.
template <class Body>
std::string output_of(int fd, const std::filesystem::path& capture, Body&& body) {
  std::fflush(fd == 1 ? stdout : stderr);
  const int saved = dup(fd);
  std::FILE* file = std::fopen(capture.c_str(), "w");
  REQUIRE(file);
  dup2(fileno(file), fd);
  body();
  std::fflush(fd == 1 ? stdout : stderr);
  dup2(saved, fd);
  close(saved);
  std::fclose(file);
  return read_file(capture);
}

}  // namespace mlq::test
