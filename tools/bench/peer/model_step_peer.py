#!/usr/bin/python3
"""Python peer of the C++ model-step benchmark: training-step time, sgemm throughput, model
GFLOP/s and inference real-time factor of one model, on random inputs, in one process.

usage:
  model_step_peer.py --model harmonic_cnn|crnn_highres [--threads T] [--batch B] [--seconds S]
                     [--steps N] [--warmup W] [--infer-batch IB] [--infer-windows K]

harmonic_cnn is DemoTranscriber(**CONFIG) (demo_model.py, input (B, frames, 99) dB) with its
loss_fn and AdamW lr 1e-3; crnn_highres is the Kong et al. CRNN (crnn_highres_peer.py, input
(B, frames, 229) log-mel) with its masked BCE and Adam(amsgrad) lr 5e-4, as in the reference.
frames = round(S * 100) + 1. Timing: W warm-up steps, then the median of N steps (forward, loss,
zero_grad, backward, optimizer step). model_gflops = 3 * 2 * forward MACs / step time, with the
forward MACs (Conv2d, Linear, GRU) counted by hooks on 1 s (100 frames). Inference: eval mode,
no_grad, the median of K passes over IB windows of 10 s (1001 frames); infer_rtf = seconds per
pass / (IB * 10). Prints one JSON line.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crnn_highres_peer as crnn  # noqa: E402
import demo_model as demo  # noqa: E402

FPS = 100
INFER_SECONDS = 10
INFER_FRAMES = INFER_SECONDS * FPS + 1


def build(name):
    """-> model, number of input bins, loss(out, targets), optimizer factory."""
    if name == "harmonic_cnn":
        model = demo.DemoTranscriber(**demo.CONFIG)
        return (model, demo.N_BINS, lambda out, t: demo.loss_fn(out, t, 5.0)[0],
                lambda params: torch.optim.AdamW(params, lr=1e-3))
    if name == "crnn_highres":
        model = crnn.RegressCRNN()
        return (model, crnn.MEL_BINS, crnn.regress_onset_offset_frame_velocity_bce,
                lambda params: torch.optim.Adam(params, lr=5e-4, betas=(0.9, 0.999), eps=1e-8,
                                                weight_decay=0.0, amsgrad=True))
    raise SystemExit(f"unknown model {name}")


def random_targets(name, batch, frames, gen):
    """Sparse rolls: onsets/offsets on ~1 % of the cells, frames on ~10 %, velocity in (0, 1)
    on the onset cells."""
    shape = (batch, frames, demo.N_KEYS)
    onset = (torch.rand(shape, generator=gen) < 0.01).float()
    offset = (torch.rand(shape, generator=gen) < 0.01).float()
    frame = (torch.rand(shape, generator=gen) < 0.10).float()
    velocity = onset * (0.05 + 0.9 * torch.rand(shape, generator=gen))
    reg_onset = onset * torch.rand(shape, generator=gen)      # regression values in (0, 1)
    reg_offset = offset * torch.rand(shape, generator=gen)
    if name == "harmonic_cnn":
        return dict(onset=reg_onset, offset=reg_offset, frame=frame, velocity=velocity)
    return dict(reg_onset_roll=reg_onset, reg_offset_roll=reg_offset, frame_roll=frame,
                mask_roll=torch.ones(shape), onset_roll=onset, velocity_roll=velocity * 128)


def forward_macs(model, bins, frames=FPS):
    """Multiply-accumulates of Conv2d, Linear and GRU layers for one (1, frames, bins) input;
    all of them are linear in the frames, so 100 frames give the MACs per audio second."""
    macs = 0

    def hook(mod, inp, out):
        nonlocal macs
        if isinstance(mod, nn.Conv2d):
            macs += out.numel() * mod.weight[0].numel()
        elif isinstance(mod, nn.Linear):
            macs += out.numel() * mod.in_features
        elif isinstance(mod, nn.GRU):
            steps = inp[0].shape[0] * inp[0].shape[1]       # batch * time
            dirs = 2 if mod.bidirectional else 1
            h = mod.hidden_size
            for layer in range(mod.num_layers):
                fan_in = mod.input_size if layer == 0 else h * dirs
                macs += dirs * steps * 3 * h * (fan_in + h)

    hooks = [m.register_forward_hook(hook) for m in model.modules()
             if isinstance(m, (nn.Conv2d, nn.Linear, nn.GRU))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, frames, bins))
    for hk in hooks:
        hk.remove()
    model.train()
    return macs


def sgemm_gflops(n=2048, repeats=10):
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    return 2 * n ** 3 / statistics.median(times) / 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, choices=("harmonic_cnn", "crnn_highres"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--infer-batch", type=int, default=4)
    ap.add_argument("--infer-windows", type=int, default=3)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1234)
    model, bins, loss_fn, make_optimizer = build(args.model)
    macs_per_s = forward_macs(model, bins)
    print(f"# {args.model}: {sum(p.numel() for p in model.parameters()):,} parameters, "
          f"forward MACs per audio second {macs_per_s / 1e6:.1f} M", file=sys.stderr)

    frames = round(args.seconds * FPS) + 1
    x = -30.0 + 20.0 * torch.randn(args.batch, frames, bins, generator=gen)
    targets = random_targets(args.model, args.batch, frames, gen)
    opt = make_optimizer(model.parameters())
    model.train()
    times = []
    for i in range(args.warmup + args.steps):
        t = time.perf_counter()
        loss = loss_fn(model(x), targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i >= args.warmup:
            times.append(time.perf_counter() - t)
    step = statistics.median(times)

    gflops = sgemm_gflops()

    model.eval()
    xi = -30.0 + 20.0 * torch.randn(args.infer_batch, INFER_FRAMES, bins, generator=gen)
    infer = []
    with torch.no_grad():
        for _ in range(args.infer_windows):
            t = time.perf_counter()
            model(xi)
            infer.append(time.perf_counter() - t)
    infer_s = statistics.median(infer)

    model_gflops = 3 * 2 * macs_per_s * args.batch * args.seconds / step / 1e9
    print(json.dumps(dict(
        model=args.model, threads=args.threads, batch=args.batch, seconds=args.seconds,
        ms_per_step=round(step * 1e3, 2),
        samples_per_s=round(args.batch / step, 3),
        audio_s_per_s=round(args.batch * args.seconds / step, 3),
        sgemm_gflops=round(gflops, 2),
        model_gflops=round(model_gflops, 3),
        utilisation=round(model_gflops / gflops, 4),
        infer_rtf=round(infer_s / (args.infer_batch * INFER_SECONDS), 5),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))))


if __name__ == "__main__":
    main()
