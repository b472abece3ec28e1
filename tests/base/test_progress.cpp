#include <doctest/doctest.h>

#include <string>

#include "mlq/util/progress.hpp"
#include "support/captured_output.hpp"
#include "support/temp_dir.hpp"

namespace {

int count_lines(const std::string& text, const std::string& prefix) {
  int lines = 0;
  for (size_t at = 0; (at = text.find(prefix, at)) != std::string::npos; at += prefix.size())
    lines += at == 0 || text[at - 1] == '\n';
  return lines;
}

}  // namespace

TEST_CASE("progress written to a file is a line at each tenth, whatever the total") {
  mlq::test::TempDir scratch;
  for (const int total : {3, 25, 3300}) {
    CAPTURE(total);
    const std::string out = mlq::test::output_of(1, scratch / "stdout.txt", [&] {
      mlq::ProgressLine progress;  // standard output is the file: plain lines
      for (int done = 1; done <= total; ++done) progress.update("files", done, total, "files");
      progress.finish();
    });
    CHECK(count_lines(out, "files ") == std::min(total, 10));
    CHECK(out.find("files " + std::to_string(total) + "/" + std::to_string(total) + " |") !=
          std::string::npos);
    CHECK(out.find('\r') == std::string::npos);
  }
}

TEST_CASE("a line printed between updates keeps both readable") {
  mlq::test::TempDir scratch;
  const std::string out = mlq::test::output_of(1, scratch / "stdout.txt", [&] {
    mlq::ProgressLine progress;
    progress.update("files", 1, 2, "files");
    progress.print("skipped a.wav: not audio");
    progress.update("files", 2, 2, "files");
    progress.finish();
  });
  CHECK(count_lines(out, "files ") == 2);
  CHECK(count_lines(out, "skipped a.wav: not audio\n") == 1);
}
