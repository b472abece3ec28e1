#!/usr/bin/env bash
# README command 1: install what is missing, build, run the default experiment end to end, show it
# in the manifest and write its HTML report (curves, metrics, piano rolls and audio of test pieces).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
# What the default experiment needs: the runner and the transcription plugin (tools/build.sh
# builds the rest: the classification plugin and the tests).
MLQ_BUILD_TESTS=OFF MLQ_TARGETS="runner mlq_transcription" tools/build.sh
# libgomp's threads spin between LibTorch's parallel regions instead of sleeping: about 9 %
# faster training on 2 cores of its own (docs/training.md, Devices and precision).
OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-ACTIVE} build/bin/runner --config=configs/exp.toml "$@"
build/bin/runner runs list --limit 5
build/bin/runner report latest -o outputs/report.html
