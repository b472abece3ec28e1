#!/usr/bin/env bash
# Builds the benchmark programs of tools/bench into build/bin (they are left out of the default
# build, which CI and the tests need, to keep a clean build short). Usage: tools/build-benchmarks.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLQ_BUILD_BENCHMARKS=ON >/dev/null
cmake --build build -j "${MLQ_JOBS:-2}" --target bench_trainer bench_loader bench_transcription_step \
  bench_manifest_generate bench_sweep_functions
