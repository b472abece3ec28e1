#!/usr/bin/env bash
# installed_sdk.sh BUILD PREFIX WORK: uses ML-Quickstart from PREFIX alone, as a user of the
# installed files would. test_install.cpp runs it in a private mount namespace after hiding BUILD
# (the build tree) under an empty tmpfs, so nothing below can reach the build tree.
set -euo pipefail
build=$1 prefix=$2 work=$3
mount -t tmpfs -o size=1m mlq-hidden-build "$build"
[ -z "$(ls -A "$build")" ] || { echo "the build tree is still visible" >&2; exit 1; }
cd "$work"
quiet() { "$@" >"$work/step.log" 2>&1 || { cat "$work/step.log" >&2; exit 1; }; }

echo "== the example plugin, trained from the installed runner, plugins and configs"
"$prefix/bin/runner" plugins
"$prefix/bin/runner" --config=configs/regression.toml trainer.max_steps=40 \
  trainer.progress_bar=false

echo "== a scaffolded plugin built against the installed SDK"
"$prefix/bin/mlq-new-plugin" blobs "$work/blobs"
quiet cmake -S blobs -B blobs/build -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release
quiet cmake --build blobs/build -j2
quiet cmake --install blobs/build --prefix "$prefix"
"$prefix/bin/runner" --config=blobs/configs/exp.toml trainer.max_steps=60 \
  trainer.progress_bar=false

echo "== the plugin that opens mlq/plugin.hpp, built from that comment"
mkdir -p hello
awk '/^\/\/   ---- end ----/ { exit }
     /^\/\/   ---- .* ----$/ { file = "hello/" $3; system("mkdir -p $(dirname " file ")"); next }
     file && /^\/\// { line = $0; if (!sub(/^\/\/   /, "", line)) line = ""; print line > file }' \
  "$prefix/include/mlq/plugin.hpp"
quiet cmake -S hello -B hello/build -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release
quiet cmake --build hello/build -j2
MLQ_PLUGIN_PATH=$work/hello/build/plugins "$prefix/bin/runner" --config=hello/configs/exp.toml
echo "installed SDK: every step passed"
