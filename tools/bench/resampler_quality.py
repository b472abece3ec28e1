#!/usr/bin/python3
"""Quality and speed of the 44.1 -> 16 kHz resamplers compared in tools/bench/data_pipeline.sh:
`runner preprocess` (libsoxr HQ), the sox tool's `rate -h`, and torchaudio's default and
kaiser_best settings (the Python peer's two choices). For each: time per 30 s of mono audio
(one thread), the worst alias of a tone above 8 kHz (it folds back to 16 kHz - f), and the gain
of tones near the top of the passband. Usage: tools/bench/resampler_quality.py [runner]"""
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import soundfile
import torch
import torchaudio

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "peer"))
from preprocess_peer import RESAMPLERS  # noqa: E402

SOURCE, TARGET, SECONDS = 44100, 16000, 30
ALIAS_TONES, PASSBAND_TONES = (8600, 9000, 10000, 12000), (6000, 7000, 7400, 7600)


def tone(hz):
    t = np.arange(SOURCE * SECONDS) / SOURCE
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def level_db(samples, hz):
    """Peak level of a tone at `hz` in dB relative to amplitude 0.5, the filter edges left out."""
    y = samples[TARGET:-TARGET]
    window = np.hanning(len(y))
    spectrum = np.abs(np.fft.rfft(y * window)) / (window.sum() / 2)
    k = int(round(hz * len(y) / TARGET))
    return 20 * np.log10(spectrum[max(k - 3, 0) : k + 4].max() / 0.5 + 1e-20)


def torchaudio_resampler(options):
    return lambda batch: [
        torchaudio.functional.resample(torch.from_numpy(x), SOURCE, TARGET, **options).numpy()
        for x in batch
    ]


def sox_rate(work):
    def run(batch):
        out = []
        for i, x in enumerate(batch):
            source, target = f"{work}/sox-{i}.wav", f"{work}/sox-{i}.f32"
            soundfile.write(source, x, SOURCE, subtype="FLOAT")
            subprocess.run(["sox", source, "-t", "f32", target, "rate", "-h", str(TARGET)], check=True)
            out.append(np.fromfile(target, dtype=np.float32))
        return out

    return run


def runner_preprocess(runner, work):
    def run(batch):
        raw, processed = f"{work}/raw", f"{work}/processed"
        subprocess.run(["rm", "-rf", raw, processed], check=True)
        os.makedirs(raw)
        for i, x in enumerate(batch):
            soundfile.write(f"{raw}/tone-{i:02d}.wav", x, SOURCE, subtype="FLOAT")
        config = f"{work}/preprocess.toml"
        with open(config, "w") as f:
            f.write(
                f'task = "bench"\n[data.preprocess]\nsource_path = "{raw}"\n'
                f'destination_path = "{processed}"\naudio_ext = "wav"\nlabel_ext = false\n'
                f"sample_rate = {TARGET}\nworkers = 1\nmetadata = false\nsplit = [1.0, 0.0, 0.0]\n"
            )
        subprocess.run([runner, "preprocess", f"--config={config}"], check=True, capture_output=True)
        return [np.load(f"{processed}/tone-{i:02d}.npy") for i in range(len(batch))]

    return run


def main():
    torch.set_num_threads(1)
    runner = sys.argv[1] if len(sys.argv) > 1 else "build/bin/runner"
    with tempfile.TemporaryDirectory() as work:
        resamplers = {
            "runner preprocess (libsoxr HQ)": runner_preprocess(runner, work),
            "sox rate -h (command line)": sox_rate(work),
        }
        for name, options in RESAMPLERS.items():
            resamplers[f"torchaudio {name}"] = torchaudio_resampler(options)
        print(f"{'44.1 -> 16 kHz':32s} {'worst alias':>12s}   gain at 6 / 7 / 7.4 / 7.6 kHz")
        tones = ALIAS_TONES + PASSBAND_TONES
        for name, resample in resamplers.items():
            out = resample([tone(hz) for hz in tones])
            alias = max(level_db(y, TARGET - hz) for y, hz in zip(out, ALIAS_TONES))
            gains = [level_db(y, hz) for y, hz in zip(out[len(ALIAS_TONES) :], PASSBAND_TONES)]
            print(f"{name:32s} {alias:9.1f} dB   " + " / ".join(f"{g:.2f}" for g in gains) + " dB")
        x = tone(1000)
        start = time.perf_counter()
        for _ in range(5):
            torchaudio_resampler(RESAMPLERS["kaiser_best"])([x])
        kaiser = (time.perf_counter() - start) / 5
        start = time.perf_counter()
        for _ in range(5):
            torchaudio_resampler(RESAMPLERS["default"])([x])
        default = (time.perf_counter() - start) / 5
        print(f"torchaudio per 30 s, one thread: default {default * 1e3:.1f} ms, "
              f"kaiser_best {kaiser * 1e3:.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
