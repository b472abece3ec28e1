#!/usr/bin/python3
"""Demo piano-transcription model: the Python peer and the spec for the C++ (LibTorch) port.

A pitch-equivariant ("harmonic") fully convolutional network that learns fast on a CPU:

  audio 16 kHz -> log-frequency spectrogram (1 bin per semitone, MIDI 21..119, 100 fps)
  -> harmonic stack (11 copies shifted by -24,-19,-12,0,12,19,24,28,31,34,36 bins)
  -> 2-D conv trunk 11->24->32, 3x3 (weights shared along frequency = along pitch)
  -> harmonic mixing (1x1 32->8, harmonic stack -> 88 ch, 1x1 -> 32, residual)
  -> crop to the 88 keys + learned per-key embedding (1, 32, 1, 88)
  -> per-key temporal head (2 convs (3,1), dilation 2 and 4, the same weights for every key)
  -> 4 outputs per key and frame: onset, offset (regression targets), frame, velocity.

Everything is Conv2d / BatchNorm2d / ReLU / AvgPool2d / constant padding and slicing, so the
port needs nothing beyond LibTorch. See the module's `spec()` for shapes, parameters and MACs.

usage:
  demo_model.py train --data DIR [--steps N] [--minutes M] [--threads T] [--eval-every K]
DIR holds train/, val/, test/ and optionally test_eval/ with <name>.f32 (mono float32, 16 kHz)
and <name>.csv (onset,offset,pitch,velocity; offsets already extended by the sustain pedal).
"""
import argparse
import glob
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ----------------------------------------------------------------------------------------------
# Hyper-parameters (all of them)
# ----------------------------------------------------------------------------------------------
SAMPLE_RATE = 16000
N_FFT = 2048              # Hann window of the same length, centred frames, reflect padding
HOP = 160                 # 100 frames per second
FPS = SAMPLE_RATE / HOP
BINS_PER_SEMITONE = 1
MIDI_LO = 21              # lowest piano key (A0)
N_KEYS = 88
# filter centres at MIDI 21, 22, ..., 119 (8.4 kHz is past Nyquist; the top filter is a
# half-triangle): bin k is key k for k < 88, and the 11 bins above the piano hold the 2nd
# harmonics of the top octave.
N_BINS = 99
FEAT_MEAN, FEAT_STD = -30.0, 25.0   # fixed input normalisation of the dB values
HARMONICS = (1, 2, 3, 4, 5, 6, 7, 8)
SUBHARMONICS = (2, 3, 4)  # also look below: is this bin itself a harmonic of a lower note?

ONSET_J = 5               # regression targets: 1 - min(|d|, 0.05)/0.05 over +-5 frames
ONSET_TOL = 0.05

CONFIG = dict(
    channels=24,           # trunk channels
    head_channels=32,      # per-key temporal head channels
    head_dilations=(2, 4),
    segment_frames=200,    # 2 s training crops
    batch=8,
    lr=2e-3,
    warmup=100,
    weight_decay=0.0,
    onset_pos_weight=5.0,  # extra weight on cells whose onset/offset target is > 0
    onset_threshold=0.3,
    offset_threshold=0.3,
    frame_threshold=0.5,
)


# ----------------------------------------------------------------------------------------------
# Features
# ----------------------------------------------------------------------------------------------
def logfreq_filterbank(sr=SAMPLE_RATE, n_fft=N_FFT):
    """(n_fft//2+1, N_BINS) triangular filters centred on quarter-tone-offset semitone halves.

    Filter k is centred at f_k = 440 * 2^((m_k - 69)/12), m_k = MIDI_LO - 0.25 + k/2; its
    half-width is the distance to the next centre, but at least one FFT bin (sr/n_fft) so that
    low filters narrower than the FFT resolution interpolate instead of coming out empty. Each
    filter's weights sum to 1 (a weighted mean of the power spectrum).
    """
    fft_freqs = np.arange(n_fft // 2 + 1) * sr / n_fft
    df = sr / n_fft
    fb = np.zeros((len(fft_freqs), N_BINS), dtype=np.float64)
    for k in range(N_BINS):
        m = MIDI_LO + k / BINS_PER_SEMITONE
        fc = 440.0 * 2 ** ((m - 69) / 12)
        half = max(fc * (2 ** (1 / (12 * BINS_PER_SEMITONE)) - 1), df)
        w = np.maximum(0.0, 1.0 - np.abs(fft_freqs - fc) / half)
        fb[:, k] = w / w.sum()
    return torch.tensor(fb, dtype=torch.float32)


_FB = None
_WINDOW = None


def features(audio):
    """audio: float32 tensor (samples,) -> (frames, N_BINS) log power, 10*log10(max(x,1e-10))."""
    global _FB, _WINDOW
    if _FB is None:
        _FB = logfreq_filterbank()
        _WINDOW = torch.hann_window(N_FFT)
    spec = torch.stft(audio, N_FFT, HOP, window=_WINDOW, center=True, pad_mode="reflect",
                      return_complex=True)
    power = spec.real ** 2 + spec.imag ** 2          # (n_fft/2+1, frames)
    x = power.T @ _FB                                 # (frames, N_BINS)
    return 10.0 * torch.log10(torch.clamp(x, min=1e-10))


# ----------------------------------------------------------------------------------------------
# Targets (DESIGN section 6), computed once per piece and cropped, so no edge masks are needed
# ----------------------------------------------------------------------------------------------
def targets(notes, n_frames):
    """notes: (N, 4) array onset, offset, pitch, velocity -> dict of (n_frames, 88) float32."""
    onset = np.zeros((n_frames, N_KEYS), np.float32)
    offset = np.zeros((n_frames, N_KEYS), np.float32)
    frame = np.zeros((n_frames, N_KEYS), np.float32)
    velocity = np.zeros((n_frames, N_KEYS), np.float32)
    for on, off, pitch, vel in notes:
        p = int(pitch) - MIDI_LO
        if p < 0 or p >= N_KEYS:
            continue
        i_on = int(round(on * FPS))
        i_off = int(round(off * FPS))
        frame[max(i_on, 0):min(i_off, n_frames - 1) + 1, p] = 1.0
        if 0 <= i_on < n_frames:
            velocity[i_on, p] = vel / 128.0
        for t, roll in ((on, onset), (off, offset)):
            c = int(round(t * FPS))
            for i in range(c - ONSET_J, c + ONSET_J + 1):
                if 0 <= i < n_frames:
                    g = 1.0 - min(abs(i / FPS - t), ONSET_TOL) / ONSET_TOL
                    roll[i, p] = max(roll[i, p], g)
    return dict(onset=onset, offset=offset, frame=frame, velocity=velocity)


# ----------------------------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------------------------
def harmonic_shifts(bins_per_semitone=BINS_PER_SEMITONE):
    """Bin offsets of the harmonic stack: -24, -19, -12, 0, 12, 19, 24, 28, 31, 34, 36."""
    up = [int(round(12 * bins_per_semitone * math.log2(h))) for h in HARMONICS]
    down = [-int(round(12 * bins_per_semitone * math.log2(h))) for h in reversed(SUBHARMONICS)]
    return down + up


def harmonic_stack(x, shifts):
    """x: (N, C, T, F) -> (N, C*len(shifts), T, F); block i at bin f holds x at bin f + shifts[i]
    (zero outside the spectrum). Constant padding + slicing + cat: plain ops."""
    f = x.shape[-1]
    lo = max(0, -min(shifts))
    padded = F.pad(x, (lo, max(0, max(shifts))))
    return torch.cat([padded[..., lo + s:lo + s + f] for s in shifts], dim=1)


class ConvBNReLU(nn.Sequential):
    def __init__(self, cin, cout, kernel, dilation=(1, 1)):
        pad = tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))
        super().__init__(nn.Conv2d(cin, cout, kernel, padding=pad, dilation=dilation, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class DemoTranscriber(nn.Module):
    """Input (N, T, N_BINS) log power -> dict of (N, T, 88) logits: onset, offset, frame, velocity.

    Layout is (N, C, T, F) throughout; F is frequency bins in the trunk, keys in the head.
    """

    def __init__(self, channels=16, head_channels=32, head_dilations=(2, 4), **_):
        super().__init__()
        c, h = channels, head_channels
        self.shifts = harmonic_shifts()
        nh = len(self.shifts)
        self.trunk = nn.Sequential(
            ConvBNReLU(nh, c, (3, 3)),                   # on the harmonic stack of the input
            ConvBNReLU(c, h, (3, 3)),
        )
        # harmonic mixing after the trunk: key p sees the learned evidence at p-24 .. p+36, so
        # that an octave/twelfth of a played note is not taken for a note (residual)
        self.mix_in = ConvBNReLU(h, 8, (1, 1))
        self.mix_out = ConvBNReLU(8 * nh, h, (1, 1))
        # per-key, per-channel offset: lets the shared head specialise by register
        self.key_embedding = nn.Parameter(torch.zeros(1, h, 1, N_KEYS))
        self.head = nn.Sequential(*[ConvBNReLU(h, h, (3, 1), dilation=(d, 1))
                                    for d in head_dilations])
        self.out = nn.Conv2d(h, 4, (1, 1))               # onset, offset, frame, velocity

    def forward(self, x):
        x = ((x - FEAT_MEAN) / FEAT_STD).unsqueeze(1)    # (N, 1, T, 99)
        x = self.trunk(harmonic_stack(x, self.shifts))   # (N, h, T, 99)
        # only the 88 keys' bins go on (the bins above count as harmonics in the stack only)
        mixed = self.mix_out(harmonic_stack(self.mix_in(x), self.shifts)[..., :N_KEYS])
        x = x[..., :N_KEYS] + mixed + self.key_embedding
        x = self.out(self.head(x))                       # (N, 4, T, 88)
        return dict(onset=x[:, 0], offset=x[:, 1], frame=x[:, 2], velocity=x[:, 3])


def count_macs(model, frames=100):
    """Multiply-accumulates of conv layers for `frames` frames (1 s of audio)."""
    macs = 0
    hooks = []

    def hook(mod, inp, out):
        nonlocal macs
        k = mod.weight.shape[1] * mod.weight.shape[2] * mod.weight.shape[3]
        macs += out.numel() * k

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(hook))
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, frames, N_BINS))
    for hk in hooks:
        hk.remove()
    return macs


# ----------------------------------------------------------------------------------------------
# Loss
# ----------------------------------------------------------------------------------------------
def loss_fn(out, tgt, pos_weight):
    """BCE with soft regression targets for onset/offset, up-weighted where the target is > 0;
    BCE for frame; BCE on velocity masked by onset frames (velocity target > 0)."""
    def weighted_bce(logits, target):
        w = 1.0 + pos_weight * (target > 0).float()
        return F.binary_cross_entropy_with_logits(logits, target, weight=w)

    l_on = weighted_bce(out["onset"], tgt["onset"])
    l_off = weighted_bce(out["offset"], tgt["offset"])
    l_fr = F.binary_cross_entropy_with_logits(out["frame"], tgt["frame"])
    mask = (tgt["velocity"] > 0).float()
    l_vel = (F.binary_cross_entropy_with_logits(out["velocity"], tgt["velocity"],
                                                reduction="none") * mask).sum() / mask.sum().clamp(min=1)
    return l_on + l_off + l_fr + 0.5 * l_vel, dict(on=l_on.item(), off=l_off.item(),
                                                   fr=l_fr.item(), vel=l_vel.item())


# ----------------------------------------------------------------------------------------------
# Decoder: probabilities of one piece -> notes
# ----------------------------------------------------------------------------------------------
def decode(onset, offset, frame, velocity, on_thr=0.3, off_thr=0.3, fr_thr=0.5, max_len=10.0):
    """All inputs (T, 88) numpy probabilities. Returns list of (onset_s, offset_s, midi, vel).

    Onsets: local maxima in time of the onset probability (>= previous, > next) at or above
    on_thr, refined to sub-frame by a parabola through the peak and its two neighbours.
    Offsets: from the frame after the onset, the note lasts while the frame probability stays
    >= fr_thr, and ends at the first frame where it drops, where the offset probability peaks
    above off_thr (after at least 2 frames), or where the next onset of the key starts.
    """
    T = onset.shape[0]
    notes = []
    for p in range(N_KEYS):
        o = onset[:, p]
        prev = np.concatenate([[-1.0], o[:-1]])
        nxt = np.concatenate([o[1:], [-1.0]])
        peaks = np.nonzero((o >= on_thr) & (o >= prev) & (o > nxt))[0]
        for n, i in enumerate(peaks):
            a, b, c = prev[i], o[i], nxt[i]
            delta = 0.0
            if i > 0 and i < T - 1:
                den = a - 2 * b + c
                if den < 0:
                    delta = float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))
            t_on = (i + delta) / FPS
            end_limit = peaks[n + 1] if n + 1 < len(peaks) else T
            end_limit = min(end_limit, i + int(max_len * FPS))
            j = i + 1
            while j < end_limit:
                if frame[j, p] < fr_thr:
                    break
                if j - i >= 2 and offset[j, p] >= off_thr and offset[j, p] >= offset[j - 1, p] \
                        and (j + 1 >= T or offset[j, p] >= offset[j + 1, p]):
                    break
                j += 1
            t_off = max(j / FPS, t_on + 0.02)
            vel = int(np.clip(round(velocity[i, p] * 128), 1, 127))
            notes.append((t_on, t_off, p + MIDI_LO, vel))
    notes.sort()
    return notes


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------
def load_split(directory):
    """-> list of dicts: name, feat (T, N_BINS) tensor, targets dict of (T, 88) tensors, notes."""
    pieces = []
    for path in sorted(glob.glob(os.path.join(directory, "*.f32"))):
        audio = torch.from_numpy(np.fromfile(path, dtype=np.float32))
        feat = features(audio)
        notes = np.loadtxt(path[:-4] + ".csv", delimiter=",", skiprows=1, ndmin=2)
        tg = {k: torch.from_numpy(v) for k, v in targets(notes, feat.shape[0]).items()}
        pieces.append(dict(name=os.path.basename(path)[:-4], feat=feat, targets=tg, notes=notes))
    return pieces


def sample_batch(pieces, batch, frames, rng):
    xs, ts = [], {k: [] for k in ("onset", "offset", "frame", "velocity")}
    for _ in range(batch):
        pc = pieces[rng.integers(len(pieces))]
        start = rng.integers(0, pc["feat"].shape[0] - frames + 1)
        xs.append(pc["feat"][start:start + frames])
        for k in ts:
            ts[k].append(pc["targets"][k][start:start + frames])
    return torch.stack(xs), {k: torch.stack(v) for k, v in ts.items()}


# ----------------------------------------------------------------------------------------------
# Evaluation (mir_eval)
# ----------------------------------------------------------------------------------------------
@torch.no_grad()
def predict(model, feat):
    model.eval()
    out = model(feat.unsqueeze(0))
    model.train()
    return {k: torch.sigmoid(v[0]).numpy() for k, v in out.items()}


def evaluate(model, pieces, cfg, probs=None):
    """Mean over pieces of onset P/R/F1, onset+offset F1, onset+offset+velocity F1, frame F1."""
    import mir_eval
    rows = []
    for n, pc in enumerate(pieces):
        pr = probs[n] if probs is not None else predict(model, pc["feat"])
        est = decode(pr["onset"], pr["offset"], pr["frame"], pr["velocity"],
                     cfg["onset_threshold"], cfg["offset_threshold"], cfg["frame_threshold"])
        ref = pc["notes"]
        ref_iv = ref[:, :2]
        ref_hz = 440.0 * 2 ** ((ref[:, 2] - 69) / 12)
        if est:
            e = np.array(est, dtype=np.float64)
            est_iv, est_hz, est_vel = e[:, :2], 440.0 * 2 ** ((e[:, 2] - 69) / 12), e[:, 3]
        else:
            est_iv, est_hz, est_vel = np.zeros((0, 2)), np.zeros(0), np.zeros(0)
        tr = mir_eval.transcription
        p, r, f, _ = tr.precision_recall_f1_overlap(ref_iv, ref_hz, est_iv, est_hz, offset_ratio=None)
        _, _, f_off, _ = tr.precision_recall_f1_overlap(ref_iv, ref_hz, est_iv, est_hz)
        _, _, f_vel, _ = mir_eval.transcription_velocity.precision_recall_f1_overlap(
            ref_iv, ref_hz, ref[:, 3], est_iv, est_hz, est_vel) if len(est_hz) else (0, 0, 0, 0)
        fr_pred = pr["frame"] >= cfg["frame_threshold"]
        fr_ref = pc["targets"]["frame"].numpy() > 0.5
        tp = float((fr_pred & fr_ref).sum())
        fp, fn = float((fr_pred & ~fr_ref).sum()), float((~fr_pred & fr_ref).sum())
        f_frame = 2 * tp / max(2 * tp + fp + fn, 1.0)
        rows.append((p, r, f, f_off, f_vel, f_frame))
    m = np.mean(rows, axis=0)
    return dict(onset_p=m[0], onset_r=m[1], onset_f1=m[2], onset_offset_f1=m[3],
                onset_offset_vel_f1=m[4], frame_f1=m[5])


def tune_onset_threshold(model, pieces, cfg):
    """Pick the onset threshold on validation (probabilities computed once)."""
    probs = [predict(model, pc["feat"]) for pc in pieces]
    best = None
    for thr in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6):
        c = dict(cfg, onset_threshold=thr)
        f = evaluate(model, pieces, c, probs)["onset_f1"]
        if best is None or f > best[1]:
            best = (thr, f)
    return best


# ----------------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------------
def spec(model, cfg):
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return f"params {params:,}  conv MACs per audio second {count_macs(model) / 1e6:.1f} M  cfg {cfg}"


def train(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    cfg = dict(CONFIG)
    for kv in args.set or []:
        k, v = kv.split("=")
        cfg[k] = type(CONFIG[k])(eval(v)) if not isinstance(CONFIG[k], str) else v

    t0 = time.time()
    train_set = load_split(os.path.join(args.data, "train"))
    val_set = load_split(os.path.join(args.data, "val"))
    t_prep = time.time() - t0
    print(f"preprocessing: {len(train_set)} train + {len(val_set)} val pieces in {t_prep:.1f} s",
          flush=True)

    model = DemoTranscriber(**cfg)
    print(spec(model, cfg), flush=True)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    total = args.steps

    def lr_at(step):  # linear warm-up, then cosine to 5 % (over `total` steps)
        if step < cfg["warmup"]:
            return (step + 1) / cfg["warmup"]
        q = min((step - cfg["warmup"]) / max(total - cfg["warmup"], 1), 1.0)
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * q))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    train_time = 0.0
    step = 0
    curve = []
    while step < total:
        ts = time.time()
        x, tg = sample_batch(train_set, cfg["batch"], cfg["segment_frames"], rng)
        out = model(x)
        loss, parts = loss_fn(out, tg, cfg["onset_pos_weight"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        step += 1
        train_time += time.time() - ts
        if step % 50 == 0:
            print(f"step {step} loss {loss.item():.4f} {parts} {train_time / step * 1000:.0f} ms/step",
                  flush=True)
        if args.minutes and train_time > args.minutes * 60:
            print(f"time budget reached at step {step}")
            break
        if args.eval_every and step % args.eval_every == 0:
            te = time.time()
            r = evaluate(model, val_set, cfg)
            curve.append((step, train_time, r["onset_f1"]))
            print(f"  [val] step {step} train {train_time:.0f} s onset F1 {r['onset_f1']:.3f} "
                  f"frame F1 {r['frame_f1']:.3f} (eval {time.time() - te:.1f} s)", flush=True)
    print(f"trained {step} steps in {train_time:.1f} s ({train_time / step * 1000:.0f} ms/step, "
          f"{step * cfg['batch'] * cfg['segment_frames'] / FPS / train_time:.1f} audio-s/s)")

    te = time.time()
    thr, f = tune_onset_threshold(model, val_set, cfg)
    cfg["onset_threshold"] = thr
    print(f"val: tuned onset threshold {thr} -> onset F1 {f:.4f}")
    for split in ("test", "test_eval"):
        d = os.path.join(args.data, split)
        if not os.path.isdir(d):
            continue
        pieces = load_split(d)
        r = evaluate(model, pieces, cfg)
        print(f"{split}: " + "  ".join(f"{k} {v:.4f}" for k, v in r.items()))
    print(f"evaluation {time.time() - te:.1f} s; curve {curve}")
    if args.save:
        torch.save(model.state_dict(), args.save)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--data", required=True)
    t.add_argument("--steps", type=int, default=1500)
    t.add_argument("--minutes", type=float, default=0)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--eval-every", type=int, default=0)
    t.add_argument("--save", default="")
    t.add_argument("--set", nargs="*", help="override CONFIG entries, e.g. lr=1e-3")
    args = ap.parse_args()
    if args.cmd == "train":
        train(args)


if __name__ == "__main__":
    main()
