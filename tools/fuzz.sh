#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz) with clang, ASan and UBSan into build-fuzz/ and runs
# each for SECONDS (default 600) on a scratch copy of its seed corpus. Exits 1 if a fuzzer found a
# crash; the crashing input is left in build-fuzz/artifacts/. Installs nothing: run tools/setup.sh
# first (it installs clang and libclang-rt-14-dev).
#   tools/fuzz.sh [SECONDS]          MLQ_JOBS=N for the build, MLQ_FUZZERS="midi npy" for a subset,
#                                    MLQ_FUZZ_SEED=N for libFuzzer's seed (CI fixes it)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-600}
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds == 0)); then
  echo "usage: tools/fuzz.sh [SECONDS]   (seconds per fuzzer, default 600)" >&2
  exit 2
fi

missing=()
command -v clang++ >/dev/null || missing+=(clang)
dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q "install ok installed" ||
  missing+=(libclang-rt-14-dev)
if ((${#missing[@]})); then
  echo "fuzz: missing ${missing[*]}: run tools/setup.sh (it installs them)" >&2
  exit 2
fi

cmake -S tests/fuzz -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build build-fuzz -j"${MLQ_JOBS:-2}"

fuzzers=${MLQ_FUZZERS:-checkpoint config maestro midi npy run_query wav}
mkdir -p build-fuzz/artifacts build-fuzz/logs
crashed=()
for name in $fuzzers; do
  corpus=build-fuzz/corpus/$name
  mkdir -p "$corpus"
  cp -n tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
  # Known crashers run first: a fixed one must not crash again.
  if compgen -G "tests/fuzz/regressions/$name/*" >/dev/null; then
    cp -n tests/fuzz/regressions/"$name"/* "$corpus"/ 2>/dev/null || true
    rm -f "$corpus/.gitkeep"
  fi
  log=build-fuzz/logs/$name.log
  rm -f build-fuzz/artifacts/"$name"-*
  set +e
  build-fuzz/fuzz_"$name" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -max_len=65536 -artifact_prefix=build-fuzz/artifacts/"$name"- -print_final_stats=1 \
    ${MLQ_FUZZ_SEED:+-seed="$MLQ_FUZZ_SEED"} \
    >"$log" 2>&1
  status=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  per_second=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || true)
  new_units=$(grep -o 'stat::new_units_added: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  artifact=$(ls build-fuzz/artifacts/"$name"-* 2>/dev/null | head -1 || true)
  if [ -n "$artifact" ] || ((status != 0)); then
    crashed+=("$name")
    echo "fuzz: $name: CRASH after ${runs:-?} runs (exit $status): ${artifact:-no artifact}; log $log"
  else
    echo "fuzz: $name: ok, ${runs:-?} runs in ${seconds}s (${per_second:-?}/s), coverage ${coverage:-?} edges, ${new_units:-?} new inputs"
  fi
done

if ((${#crashed[@]})); then
  echo "fuzz: crashes in ${crashed[*]}: fix the parser, then copy each artifact into" \
    "tests/fuzz/regressions/<name>/ (test_fuzz_corpus replays it from then on)" >&2
  exit 1
fi
echo "fuzz: no crashes"
