#!/usr/bin/env bash
# README command 1: install what is missing, build, run the default experiment end to end, show it
# in the manifest and write its HTML report (curves, metrics, piano rolls and audio of test pieces).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
MLQ_BUILD_TESTS=OFF tools/build.sh
build/bin/runner --config=configs/exp.toml "$@"
build/bin/runner runs list --limit 5
build/bin/runner report latest -o outputs/report.html
