#!/usr/bin/env bash
# Configures and builds into build/ (two jobs: one LibTorch translation unit needs ~1.1 GB).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLQ_BUILD_TESTS="${MLQ_BUILD_TESTS:-ON}" >/dev/null
cmake --build build -j "${MLQ_JOBS:-2}"
