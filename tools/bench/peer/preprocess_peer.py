#!/usr/bin/python3
"""Python peer of `runner preprocess` for tools/bench/data_pipeline.sh: decode (soundfile), mix
to mono, resample (torchaudio), write float32 .npy; files spread over a torch DataLoader's
worker processes. Prints one line: files, seconds, files/s.

--resampler default: torchaudio's default windowed sinc (Hann, 6 zero crossings, rolloff 0.99);
  fast, but what lies just above the new Nyquist frequency aliases only about 18 dB down.
--resampler kaiser_best: torchaudio's documented high-quality setting (Kaiser, 64 zero crossings,
  rolloff 0.9476), about 138 dB of alias rejection: the quality of sox's `rate -h`, which
  `runner preprocess` uses (tools/bench/resampler_quality.py measures all of them)."""
import argparse
import os
import sys
import time

import numpy as np
import soundfile
import torch
import torchaudio


RESAMPLERS = {
    "default": {},
    "kaiser_best": dict(
        lowpass_filter_width=64,
        rolloff=0.9475937167399596,
        resampling_method="kaiser_window",
        beta=14.769656459379492,
    ),
}


class Files(torch.utils.data.Dataset):
    def __init__(self, sources, source_root, destination, sample_rate, resampler):
        self.sources, self.root = sources, source_root
        self.destination, self.sample_rate = destination, sample_rate
        self.resampler = RESAMPLERS[resampler]

    def __len__(self):
        return len(self.sources)

    def __getitem__(self, index):
        source = self.sources[index]
        audio, rate = soundfile.read(source, dtype="float32", always_2d=True)
        mono = torch.from_numpy(audio.mean(axis=1))
        if rate != self.sample_rate:
            mono = torchaudio.functional.resample(mono, rate, self.sample_rate, **self.resampler)
        relative = os.path.relpath(os.path.splitext(source)[0], self.root) + ".npy"
        target = os.path.join(self.destination, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        np.save(target, mono.numpy())
        return mono.shape[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("destination")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample-rate", type=int, default=16000)
    parser.add_argument("--resampler", choices=sorted(RESAMPLERS), default="default")
    args = parser.parse_args()
    torch.set_num_threads(1)
    sources = sorted(
        os.path.join(folder, name)
        for folder, _, names in os.walk(args.source)
        for name in names
        if name.endswith((".wav", ".flac"))
    )
    loader = torch.utils.data.DataLoader(
        Files(sources, args.source, args.destination, args.sample_rate, args.resampler),
        batch_size=None,
        num_workers=args.workers,
    )
    start = time.perf_counter()
    count = sum(1 for _ in loader)
    seconds = time.perf_counter() - start
    print(f"{count} files {seconds:.2f} s {count / seconds:.2f} files/s")


if __name__ == "__main__":
    sys.exit(main())
