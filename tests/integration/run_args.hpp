#pragma once
// Arguments for short, deterministic runs of the regression test task.
#include <string>
#include <vector>

namespace mlq::test {

inline std::vector<std::string> short_run_args(std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--config=" MLQ_SOURCE_DIR "/configs/regression.toml",
                                "trainer.threads=1",
                                "trainer.progress_bar=false",
                                "trainer.log_every_n_steps=1",
                                "trainer.early_stopping.enabled=false",
                                "data.num_train=256",
                                "data.num_validation=32",
                                "data.num_test=32"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace mlq::test
