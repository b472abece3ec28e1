#pragma once
// The LibTorch-free half of mlq/plugin.hpp: configuration, errors, logging, files, text, progress,
// the plugin registry and plugin commands, audio decoding and .npy files, metadata parsers, and
// the PNG/WAV encoders, and the SoundFont synthesiser (its code is in mlq::synth, which a plugin
// that renders notes links). A plugin includes mlq/plugin.hpp; only the parts of a plugin that must
// build without LibTorch (a MIDI parser fuzzed on its own, say) include this one instead.
#include "mlq/audio/audio_io.hpp"
#include "mlq/audio/csv.hpp"
#include "mlq/audio/maestro.hpp"
#include "mlq/audio/metadata.hpp"
#include "mlq/audio/npy.hpp"
#include "mlq/audio/preprocess.hpp"
#include "mlq/audio/resampler.hpp"
#include "mlq/config/compose.hpp"
#include "mlq/config/tree.hpp"
#include "mlq/media/png.hpp"
#include "mlq/media/wav.hpp"
#include "mlq/plugin/command.hpp"
#include "mlq/plugin/registry.hpp"
#include "mlq/synth/performance.hpp"
#include "mlq/synth/soundfont_renderer.hpp"
#include "mlq/synth/synth_command.hpp"
#include "mlq/synth/synth_report.hpp"
#include "mlq/util/batch_failures.hpp"
#include "mlq/util/cli.hpp"
#include "mlq/util/duration.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/files.hpp"
#include "mlq/util/log.hpp"
#include "mlq/util/parallel.hpp"
#include "mlq/util/progress.hpp"
#include "mlq/util/random.hpp"
#include "mlq/util/text.hpp"
