#!/usr/bin/python3
"""The classification plugin's default model in python3-torch, for tools/bench/classification.sh.

The same BC-ResNet (width 3: 53,095 parameters for 40 mel bands and 11 classes), the same
log-mel front end (torchaudio: n_fft 512, window 400, hop 320, 40 Slaney mel bands 50-8000 Hz,
10 log10 with a 1e-10 floor), the same examples (1 s windows every 0.5 s of the 2 s clips), loss
(cross-entropy with label smoothing 0.1) and optimiser (AdamW 5e-3, weight decay 1e-3), fed by
torch's DataLoader from the preprocessed .npy clips (index.csv of `runner preprocess`). Prints
one JSON line: training samples/s over --steps steps of --batch windows after --warmup, and
inference clips/s over the given WAV files (decode, features, the model on each clip's two 1 s
windows, softmax averaged; 32 clips a batch), as `runner predict` does.

usage: classification_peer.py --index DIR --files LIST --steps N --batch B --threads T
(LIST: a file naming the WAV files to classify, one a line)
"""
import argparse
import csv
import json
import os
import time

import numpy as np
import soundfile
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchaudio

SAMPLE_RATE = 16000
WINDOW = SAMPLE_RATE      # 1 s
CLIP = 2 * SAMPLE_RATE    # the synthetic clips' length: windows at 0, 0.5 and 1 s


class SubSpectralNorm(nn.Module):
    def __init__(self, channels, groups, bands):
        super().__init__()
        self.groups = groups if bands % groups == 0 else 1
        self.norm = nn.BatchNorm2d(channels * self.groups)

    def forward(self, x):
        b, c, f, t = x.shape
        return self.norm(x.reshape(b, c * self.groups, f // self.groups, t)).reshape(b, c, f, t)


class BcBlock(nn.Module):
    def __init__(self, cin, cout, stride, dilation, bands, sub_bands, dropout):
        super().__init__()
        self.transition = cin != cout
        if self.transition:
            self.transition_layer = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False),
                                                  nn.BatchNorm2d(cout), nn.ReLU())
        self.frequency = nn.Conv2d(cout, cout, (3, 1), stride=(stride, 1), padding=(1, 0),
                                   groups=cout, bias=False)
        self.norm = SubSpectralNorm(cout, sub_bands, bands // stride)
        self.temporal = nn.Sequential(
            nn.Conv2d(cout, cout, (1, 3), padding=(0, dilation), dilation=(1, dilation),
                      groups=cout, bias=False),
            nn.BatchNorm2d(cout), nn.SiLU(), nn.Conv2d(cout, cout, 1, bias=False),
            nn.Dropout2d(dropout))

    def forward(self, x):
        identity = x
        if self.transition:
            x = self.transition_layer(x)
        frequency = self.norm(self.frequency(x))
        out = frequency + self.temporal(frequency.mean(2, keepdim=True))
        if not self.transition:
            out = out + identity
        return F.relu(out)


class BcResNet(nn.Module):
    def __init__(self, classes=11, bands=40, w=3, dropout=0.0, sub_bands=4):
        super().__init__()
        self.input_norm = nn.BatchNorm2d(bands)
        self.stem = nn.Sequential(nn.Conv2d(1, 16 * w, 5, stride=(2, 1), padding=2),
                                  nn.BatchNorm2d(16 * w), nn.ReLU())
        bands = (bands + 1) // 2
        blocks, cin = [], 16 * w
        for channels, count, first_stride, dilation in ((8 * w, 2, 1, 1), (12 * w, 2, 2, 2),
                                                         (16 * w, 4, 2, 4), (20 * w, 4, 1, 8)):
            for i in range(count):
                stride = first_stride if i == 0 else 1
                blocks.append(BcBlock(cin, channels, stride, dilation, bands, sub_bands, dropout))
                bands = (bands + stride - 1) // stride
                cin = channels
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(
            nn.Conv2d(cin, cin, (min(5, bands), 5), padding=(0, 2), groups=cin, bias=False),
            nn.Conv2d(cin, 32 * w, 1, bias=False), nn.BatchNorm2d(32 * w), nn.ReLU())
        self.classifier = nn.Linear(32 * w, classes)

    def forward(self, features):  # [B, T, F]
        x = self.input_norm(features.transpose(1, 2).unsqueeze(3)).squeeze(3)  # [B, F, T]
        x = self.head(self.blocks(self.stem(x.unsqueeze(1))))
        return self.classifier(x.mean((2, 3)))


class LogMel(nn.Module):
    def __init__(self):
        super().__init__()
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=SAMPLE_RATE, n_fft=512, win_length=400, hop_length=320, f_min=50.0,
            f_max=8000.0, n_mels=40, power=2.0, norm="slaney", mel_scale="slaney")

    def forward(self, audio):  # [B, samples] -> [B, frames, bands]
        return (10 * torch.log10(self.mel(audio).clamp_min(1e-10))).transpose(1, 2)


class Clips(torch.utils.data.Dataset):
    def __init__(self, root, split):
        with open(os.path.join(root, "index.csv")) as f:
            rows = [r for r in csv.DictReader(f) if r["split"] == split]
        labels = sorted({r["class"] for r in rows})
        self.items = [(os.path.join(root, r["audio"]), start, labels.index(r["class"]))
                      for r in rows for start in (0, WINDOW // 2, WINDOW)]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, start, label = self.items[i]
        audio = np.load(path, mmap_mode="r")[start:start + WINDOW]
        audio = np.pad(audio, (0, WINDOW - len(audio)))
        return torch.from_numpy(np.array(audio, dtype=np.float32)), label


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--index", required=True)
    p.add_argument("--files", required=True)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model, features = BcResNet(), LogMel()
    optimiser = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=1e-3)
    loader = torch.utils.data.DataLoader(Clips(a.index, "train"), batch_size=a.batch,
                                         shuffle=True, num_workers=1, drop_last=True,
                                         persistent_workers=True)
    done, start = 0, None
    while done < a.steps + a.warmup:
        for audio, label in loader:
            if done == a.warmup:
                start = time.perf_counter()
            logits = model(features(audio))
            loss = F.cross_entropy(logits, label, label_smoothing=0.1)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            done += 1
            if done == a.steps + a.warmup:
                break
    train_seconds = time.perf_counter() - start

    model.eval()
    with open(a.files) as f:
        files = [line.strip() for line in f if line.strip()]
    start = time.perf_counter()
    with torch.no_grad():
        for first in range(0, len(files), 32):
            windows = []
            for f in files[first:first + 32]:
                audio, rate = soundfile.read(f, dtype="float32")
                audio = np.pad(audio[:CLIP], (0, max(0, CLIP - len(audio))))
                windows += [torch.from_numpy(audio[:WINDOW]), torch.from_numpy(audio[WINDOW:])]
            torch.softmax(model(features(torch.stack(windows))), 1).view(-1, 2, 11).mean(1)
    infer_seconds = time.perf_counter() - start
    print(json.dumps({
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_samples_per_s": a.steps * a.batch / train_seconds,
        "ms_per_step": 1000 * train_seconds / a.steps,
        "inference_clips_per_s": len(files) / infer_seconds,
        "clips": len(files)}))


if __name__ == "__main__":
    main()
