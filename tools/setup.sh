#!/usr/bin/env bash
# Installs what ML-Quickstart needs on Debian 12 (idempotent: skips packages already installed).
set -euo pipefail

packages=(
  build-essential cmake pkg-config git clang-format clang libclang-rt-14-dev
  libtorch-dev libopenblas0-openmp
  # c10d's Gloo process group headers (data-parallel training on CPU).
  libgloo-dev
  libtomlplusplus-dev libcxxopts-dev libboost-dev libfmt-dev
  libsqlite3-dev sqlite3 doctest-dev
  # The shared manifest: libpq, and a PostgreSQL 15 server the tests start themselves.
  libpq-dev postgresql
  # runner sweep --launcher slurm: the tests start a one-node Slurm cluster of their own.
  slurm-wlm munge
  # Run-end notifications (SMTP, webhooks); the tests generate certificates with openssl.
  libcurl4-openssl-dev openssl
  libsox-dev libsox-fmt-all sox nlohmann-json3-dev
  # Resampling: libsoxr is the SoX resampler (sox's `rate` effect) as a library.
  libsoxr-dev
  # The CPU STFT of the features (single-precision FFTW).
  libfftw3-dev
  # File checksums (XXH3); the tests check them against the xxhsum tool.
  libxxhash-dev xxhash
  libfluidsynth-dev fluidsynth
  # Soundfonts: two to train on, one kept for evaluation only.
  timgm6mb-soundfont fluidr3mono-gm-soundfont musescore-general-soundfont-small
  # PNG compression (report and TensorBoard images).
  zlib1g-dev
  # The Python peers of tests and benchmarks; PIL decodes our PNG files in a test.
  python3-numpy python3-torchaudio python3-mido python3-mir-eval python3-soundfile python3-pil
  python3-optuna
  # The HTML report's test loads the page in a headless browser.
  chromium
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi
