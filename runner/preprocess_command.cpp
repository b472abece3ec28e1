// runner preprocess --config=F [overrides]: decode, resample and index a data set per
// [data.preprocess]. No LibTorch.
#include <fmt/format.h>
#include <chrono>
#include <cstdio>

#include "commands.hpp"
#include "mlq/audio/preprocess.hpp"
#include "mlq/config/compose.hpp"
#include "mlq/plugin/loader.hpp"
#include "mlq/util/cli.hpp"

namespace mlq {

int preprocess_command(const std::vector<std::string>& args) {
  cxxopts::Options options("runner preprocess",
                           "Decode, resample and index audio per [data.preprocess]");
  add_compose_options(options);
  add_plugin_dir_option(options);  // for a plugin's metadata_format
  options.add_options()("h,help", "this help");
  const cxxopts::ParseResult result = parse_options(options, args);
  if (printed_help(options, result)) return 0;
  const Config config = compose(compose_request(options, result));
  const PreprocessOptions o = PreprocessOptions::from(config.section("data.preprocess"));
  std::printf("preprocess: %s -> %s (%g Hz mono, %lld workers)\n", o.source_path.c_str(),
              o.destination_path.c_str(), o.sample_rate, static_cast<long long>(o.workers));
  const auto start = std::chrono::steady_clock::now();
  // A metadata format other than the built-in one comes from a plugin.
  Registry registry;
  PluginLoader plugins;
  MetadataParser parser;
  if (!o.metadata.empty() && o.metadata_format != "maestro") {
    plugins.load_all(PluginLoader::search_path(plugin_dirs(result)), registry);
    const Registry::TaskScope scope(registry, config.has("task") ? config.get_string("task") : "");
    parser = metadata_parser(registry, o.metadata_format);
  }
  const PreprocessReport report = preprocess(o, parser);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The rate of files processed; a run that found every file unchanged has none.
  const std::string rate = report.processed > 0 && seconds > 0
                               ? fmt::format(" ({:.1f} files/s)", report.processed / seconds)
                               : "";
  std::printf("%s\n", fmt::format("preprocessed {} files, {} unchanged, {} failed in {:.1f} s{}; "
                                  "index: {}",
                                  report.processed, report.unchanged, report.failed.size(), seconds,
                                  rate, (o.destination_path / "index.csv").string())
                          .c_str());
  return report.failed.empty() ? 0 : 1;
}

}  // namespace mlq
