#pragma once
// What every task's `runner predict` shares: the options, the checks, the checkpoint's config,
// the threads, and the audio files and folders to go through.
#include <filesystem>
#include <string>
#include <vector>

#include "mlq/audio/audio_io.hpp"
#include "mlq/config/tree.hpp"
#include "mlq/util/cli.hpp"

namespace mlq {

// --task, --checkpoint, -o/--output (`output_help`), --threads, the positional files, -h.
void add_predict_options(cxxopts::Options& options, const std::string& task,
                         const std::string& output_help);

struct PredictRun {
  std::filesystem::path checkpoint;
  std::string output;
  Config config;  // the checkpoint's
  std::vector<AudioInput> inputs;
};

// Checks that the checkpoint, the output and some files are given and that the checkpoint is of
// `task` (one-line UserErrors), sets the intra-op threads (--threads, else the checkpoint's
// trainer.threads) and denormal flushing (quiet audio makes denormal floats, many times slower),
// and lists the files the arguments name (folders recursively). `streaming`: the output and the
// files are optional (audio may come on standard input) and are not listed.
PredictRun start_predict(const cxxopts::ParseResult& result, const std::string& task,
                         bool streaming = false);

}  // namespace mlq
