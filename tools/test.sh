#!/usr/bin/env bash
# README command 2: install what is missing, build, run the whole suite through ctest, then the
# regression check of the test task against its committed baseline (tools/regress.sh) and each
# fuzzer for a short time (MLQ_FUZZ_SECONDS, default 10; tools/fuzz.sh 600 is the long run).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/check-format.sh
tools/build.sh
(cd build && ctest --output-on-failure -j 2 --timeout 600)
tools/regress.sh
MLQ_FUZZ_SEED=1 tools/fuzz.sh "${MLQ_FUZZ_SECONDS:-10}"
