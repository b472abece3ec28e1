#!/usr/bin/env bash
# README command 2: install what is missing, build, run the whole suite through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
cd build && ctest --output-on-failure -j 2 --timeout 600
