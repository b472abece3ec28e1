#include "mlq/train/predict.hpp"

#include <torch/torch.h>

#include "mlq/train/checkpoint.hpp"
#include "mlq/util/error.hpp"

namespace mlq {

void add_predict_options(cxxopts::Options& options, const std::string& task,
                         const std::string& output_help) {
  options.add_options()("task", task, cxxopts::value<std::string>())(
      "checkpoint", "a checkpoint of a " + task + " run (its config travels inside)",
      cxxopts::value<std::string>())("o,output", output_help, cxxopts::value<std::string>())(
      "threads", "intra-op threads (0: the checkpoint's trainer.threads)",
      cxxopts::value<int64_t>()->default_value("0"))(
      "files", "audio files, or folders of them (recursively: every format libsox reads)",
      cxxopts::value<std::vector<std::string>>())("h,help", "this help");
  options.parse_positional({"files"});
  options.positional_help("AUDIO_OR_FOLDER...");
}

PredictRun start_predict(const cxxopts::ParseResult& result, const std::string& task,
                         bool streaming) {
  if (!result.count("checkpoint"))
    throw UserError("missing --checkpoint=CKPT (see runner predict --help)");
  if (!streaming && !result.count("output"))
    throw UserError("missing -o OUTPUT (see runner predict --help)");
  if (!streaming && !result.count("files"))
    throw UserError("no AUDIO files given (see runner predict --help)");
  PredictRun run;
  run.checkpoint = result["checkpoint"].as<std::string>();
  if (result.count("output")) run.output = result["output"].as<std::string>();
  run.config = checkpoint_config(run.checkpoint);
  const std::string trained = run.config.get_string("task", "");
  if (trained != task)
    throw UserError(run.checkpoint.string() + ": a checkpoint of task '" + trained + "', not " +
                    task);
  int64_t threads = result["threads"].as<int64_t>();
  if (threads <= 0) threads = run.config.get_int("trainer.threads", 0);
  if (threads > 0) torch::set_num_threads(static_cast<int>(threads));
  at::globalContext().setFlushDenormal(true);
  if (streaming) return run;
  run.inputs = expand_audio_inputs(result["files"].as<std::vector<std::string>>());
  if (run.inputs.empty()) throw UserError("no audio files in the folders given");
  return run;
}

}  // namespace mlq
