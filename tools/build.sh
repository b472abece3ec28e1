#!/usr/bin/env bash
# Configures and builds into build/ (two jobs: one LibTorch translation unit needs ~1.1 GB).
# MLQ_BUILD_TESTS=OFF leaves the tests out; MLQ_TARGETS="runner mlq_transcription" builds only
# those targets (and what they need).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLQ_BUILD_TESTS="${MLQ_BUILD_TESTS:-ON}" >/dev/null
targets=()
for target in ${MLQ_TARGETS:-}; do targets+=(--target "$target"); done
cmake --build build -j "${MLQ_JOBS:-2}" "${targets[@]}"
