#!/usr/bin/python3
"""PyTorch peer of the high-resolution piano transcription CRNN (Kong et al. 2021):
bytedance/piano_transcription pytorch/models.py `Regress_onset_offset_frame_velocity_CRNN`
without the spectrogram / log-mel front end, and its loss `regress_onset_offset_frame_velocity_bce`
(pytorch/losses.py).

Input: log-mel features (batch, frames, 229). Output: dict of (batch, frames, 88) probabilities
reg_onset_output, reg_offset_output, frame_output, velocity_output. 20,218,778 parameters.

usage: crnn_highres_peer.py    (self-check: parameter count and output shapes)
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

MEL_BINS = 229
CLASSES = 88
MIDFEAT = 1792            # 128 channels * 14 frequency bins after four (1, 2) poolings
MOMENTUM = 0.01
N_PARAMETERS = 20_218_778


def init_layer(layer):
    nn.init.xavier_uniform_(layer.weight)
    if getattr(layer, "bias", None) is not None:
        layer.bias.data.fill_(0.0)


def init_bn(bn):
    bn.bias.data.fill_(0.0)
    bn.weight.data.fill_(1.0)


def init_gru(rnn):
    """Input-hidden and hidden-hidden blocks uniform(+-sqrt(3/fan_in)), except the candidate
    (n) hidden-hidden block, orthogonal; biases zero."""
    def inner_uniform(t):
        bound = math.sqrt(3 / nn.init._calculate_correct_fan(t, "fan_in"))
        nn.init.uniform_(t, -bound, bound)

    def concat_init(t, fns):
        n = t.shape[0] // len(fns)
        for i, fn in enumerate(fns):
            fn(t[i * n:(i + 1) * n, :])

    with torch.no_grad():
        for sfx in [f"l{i}{d}" for i in range(rnn.num_layers)
                    for d in ([""] + (["_reverse"] if rnn.bidirectional else []))]:
            concat_init(getattr(rnn, "weight_ih_" + sfx), [inner_uniform] * 3)
            concat_init(getattr(rnn, "weight_hh_" + sfx),
                        [inner_uniform, inner_uniform, nn.init.orthogonal_])
            nn.init.constant_(getattr(rnn, "bias_ih_" + sfx), 0.0)
            nn.init.constant_(getattr(rnn, "bias_hh_" + sfx), 0.0)


class ConvBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, (3, 3), padding=(1, 1), bias=False)
        self.conv2 = nn.Conv2d(cout, cout, (3, 3), padding=(1, 1), bias=False)
        self.bn1 = nn.BatchNorm2d(cout, momentum=MOMENTUM)
        self.bn2 = nn.BatchNorm2d(cout, momentum=MOMENTUM)
        init_layer(self.conv1)
        init_layer(self.conv2)
        init_bn(self.bn1)
        init_bn(self.bn2)

    def forward(self, x):
        x = F.relu_(self.bn1(self.conv1(x)))
        x = F.relu_(self.bn2(self.conv2(x)))
        return F.avg_pool2d(x, kernel_size=(1, 2))


class AcousticModelCRnn8Dropout(nn.Module):
    def __init__(self, classes=CLASSES, midfeat=MIDFEAT):
        super().__init__()
        # attribute names as in the reference, so that its state_dict keys match
        self.conv_block1 = ConvBlock(1, 48)
        self.conv_block2 = ConvBlock(48, 64)
        self.conv_block3 = ConvBlock(64, 96)
        self.conv_block4 = ConvBlock(96, 128)
        self.fc5 = nn.Linear(midfeat, 768, bias=False)
        self.bn5 = nn.BatchNorm1d(768, momentum=MOMENTUM)
        self.gru = nn.GRU(768, 256, num_layers=2, bias=True, batch_first=True,
                          dropout=0.0, bidirectional=True)
        self.fc = nn.Linear(512, classes, bias=True)
        init_layer(self.fc5)
        init_bn(self.bn5)
        init_gru(self.gru)
        init_layer(self.fc)

    def forward(self, x):                                  # (N, 1, T, 229)
        for block in (self.conv_block1, self.conv_block2, self.conv_block3, self.conv_block4):
            x = F.dropout(block(x), p=0.2, training=self.training)
        x = x.transpose(1, 2).flatten(2)                   # (N, T, 128 * 14)
        x = F.relu(self.bn5(self.fc5(x).transpose(1, 2)).transpose(1, 2))
        # the reference drops out in place here, which LibTorch/PyTorch 1.13 autograd rejects
        # (it overwrites the ReLU output saved for backward); out of place is the same maths
        x = F.dropout(x, p=0.5, training=self.training)
        x, _ = self.gru(x)
        x = F.dropout(x, p=0.5, training=self.training)
        return torch.sigmoid(self.fc(x))                   # (N, T, 88)


class RegressCRNN(nn.Module):
    """Regress_onset_offset_frame_velocity_CRNN on precomputed log-mel features."""

    def __init__(self, classes=CLASSES):
        super().__init__()
        self.bn0 = nn.BatchNorm2d(MEL_BINS, momentum=MOMENTUM)
        self.frame_model = AcousticModelCRnn8Dropout(classes)
        self.reg_onset_model = AcousticModelCRnn8Dropout(classes)
        self.reg_offset_model = AcousticModelCRnn8Dropout(classes)
        self.velocity_model = AcousticModelCRnn8Dropout(classes)
        self.reg_onset_gru = nn.GRU(classes * 2, 256, num_layers=1, bias=True,
                                    batch_first=True, dropout=0.0, bidirectional=True)
        self.reg_onset_fc = nn.Linear(512, classes, bias=True)
        self.frame_gru = nn.GRU(classes * 3, 256, num_layers=1, bias=True,
                                batch_first=True, dropout=0.0, bidirectional=True)
        self.frame_fc = nn.Linear(512, classes, bias=True)
        init_bn(self.bn0)
        init_gru(self.reg_onset_gru)
        init_gru(self.frame_gru)
        init_layer(self.reg_onset_fc)
        init_layer(self.frame_fc)

    def forward(self, features):                           # (N, T, 229)
        x = features.unsqueeze(1)                          # (N, 1, T, 229)
        x = self.bn0(x.transpose(1, 3)).transpose(1, 3)    # normalise each mel bin
        frame = self.frame_model(x)
        reg_onset = self.reg_onset_model(x)
        reg_offset = self.reg_offset_model(x)
        velocity = self.velocity_model(x)

        # velocities condition the onset regression
        x = torch.cat((reg_onset, reg_onset ** 0.5 * velocity.detach()), dim=2)
        x, _ = self.reg_onset_gru(x)
        x = F.dropout(x, p=0.5, training=self.training)
        reg_onset = torch.sigmoid(self.reg_onset_fc(x))

        # onsets and offsets condition the frame-wise classification
        x = torch.cat((frame, reg_onset.detach(), reg_offset.detach()), dim=2)
        x, _ = self.frame_gru(x)
        x = F.dropout(x, p=0.5, training=self.training)
        frame = torch.sigmoid(self.frame_fc(x))
        return dict(reg_onset_output=reg_onset, reg_offset_output=reg_offset,
                    frame_output=frame, velocity_output=velocity)


def bce(output, target, mask):
    """BCE on probabilities, clamped to [1e-7, 1 - 1e-7], averaged over the mask."""
    eps = 1e-7
    output = torch.clamp(output, eps, 1.0 - eps)
    matrix = -target * torch.log(output) - (1.0 - target) * torch.log(1.0 - output)
    return torch.sum(matrix * mask) / torch.sum(mask)


def regress_onset_offset_frame_velocity_bce(out, tgt):
    """tgt: reg_onset_roll, reg_offset_roll, frame_roll, mask_roll, onset_roll, velocity_roll
    (0..128), each (N, T, 88)."""
    return (bce(out["reg_onset_output"], tgt["reg_onset_roll"], tgt["mask_roll"])
            + bce(out["reg_offset_output"], tgt["reg_offset_roll"], tgt["mask_roll"])
            + bce(out["frame_output"], tgt["frame_roll"], tgt["mask_roll"])
            + bce(out["velocity_output"], tgt["velocity_roll"] / 128, tgt["onset_roll"]))


def count_parameters(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


if __name__ == "__main__":
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = RegressCRNN()
    n = count_parameters(model)
    print(f"parameters: {n:,}")
    assert n == N_PARAMETERS, f"expected {N_PARAMETERS:,} parameters, got {n:,}"
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(2, 101, MEL_BINS))
    for k, v in out.items():
        assert v.shape == (2, 101, CLASSES), (k, v.shape)
    print("ok:", {k: tuple(v.shape) for k, v in out.items()})
