// --launcher slurm: one `sbatch --array` job whose tasks are sweep workers (runner sweep --work
// ID), pulling trials from the manifest as local workers do, one trial at a time each.
#include <fmt/format.h>
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <thread>

#include "mlq/util/error.hpp"
#include "mlq/util/files.hpp"
#include "mlq/util/log.hpp"
#include "mlq/util/text.hpp"
#include "sweep/sweep.hpp"

namespace mlq::sweep {
namespace fs = std::filesystem;

namespace {

// A word for a shell script, in single quotes.
std::string quoted(const std::string& word) {
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string slurm_script(const SlurmOptions& options, const std::string& manifest,
                         const std::string& sweep_id, const fs::path& folder) {
  std::string script = "#!/bin/bash\n";
  script += fmt::format("#SBATCH --job-name=mlq-sweep-{}\n", sweep_id);
  script += fmt::format("#SBATCH --array=0-{}\n", options.tasks - 1);
  script += fmt::format("#SBATCH --output={}\n", (folder / "worker-%a.log").string());
  if (!options.partition.empty()) script += "#SBATCH --partition=" + options.partition + "\n";
  if (!options.time.empty()) script += "#SBATCH --time=" + options.time + "\n";
  if (options.gpus_per_task > 0)
    script += fmt::format("#SBATCH --gpus-per-task={}\n", options.gpus_per_task);
  for (const std::string& line : options.extra_lines)
    script += (line.rfind("#SBATCH", 0) == 0 ? line : "#SBATCH " + line) + "\n";
  script += "# Each array task is a worker: it claims trials until none is left.\n";
  script +=
      fmt::format("exec {} sweep --work {} --db {}\n",
                  quoted(fs::read_symlink("/proc/self/exe").string()), sweep_id, quoted(manifest));
  return script;
}

namespace {

// The output of a command run through the shell, and its exit status.
std::pair<int, std::string> shell(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) throw UserError("runner sweep: cannot run " + command);
  std::string output;
  std::array<char, 512> buffer{};
  while (fgets(buffer.data(), static_cast<int>(buffer.size()), pipe)) output += buffer.data();
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 1, output};
}

}  // namespace

int submit_to_slurm(const SlurmOptions& options, const std::string& manifest,
                    const std::string& sweep_id, const fs::path& folder) {
  fs::create_directories(folder);
  const fs::path script = folder / "sweep.sbatch";
  write_file_atomic(script, slurm_script(options, manifest, sweep_id, folder));
  const auto [code, output] = shell("sbatch --parsable " + quoted(script.string()));
  const std::string job = trim(output.substr(0, output.find(';')));
  if (code != 0 || !parse_integer(job))
    throw UserError(
        one_line(fmt::format("runner sweep: sbatch {} failed: {}", script.string(), trim(output))));
  log::info("sweep {}: Slurm job {} ({} workers; script and logs in {})", sweep_id, job,
            options.tasks, folder.string());
  if (!options.wait) return 0;
  // squeue every half second (sbatch --wait's own polling backs off to 32 s).
  for (;;) {
    const auto [status, queued] = shell("squeue -h -j " + job + " -o %i");
    if (status != 0 || trim(queued).empty()) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

}  // namespace mlq::sweep
