#!/usr/bin/env python3
"""Continues base-model training on a GPU, for machines where DJL's CUDA natives cannot run.

DJL 0.35.1 ships a JNI library built against libtorch 2.7.1; a GPU machine whose only PyTorch is
another version cannot load it (checked on the H100 lent to us: every symbol resolves, but the
first tensor created from Java memory fails because libtorch's TensorImpl layout changed). So
this script holds a PyTorch twin of ExtractionModel (same parameters, same names, same forward,
same FrameLoss) and trains it on batches rendered by DocStream's own Java generator
(`train feed`, piped in). It reads and writes the Java checkpoint format (model.json +
model.safetensors with DJL's parameter names), so everything downstream (adapters, serving,
evaluation) stays in Java.

`--check FILE` compares this twin's logits with the Java model's on the same images (a file
written by `./docstream train reference`) before training; training refuses to start
when they differ by more than 1e-3.

Usage (on the GPU machine, from the repository root):
  python3 training/gpu/train_base_gpu.py --init models/base --out OUT --minutes 17 --batch 256 \
      --lr 0.0015 --warmup 200 --check ref.bin \
      --feed "java -cp ... dev.docstream.training.TrainCli feed --batch 256 --seed 21 --threads 14"
  (ref.bin: `./docstream train reference --out ref.bin` on any machine)
"""
import argparse
import json
import math
import os
import shlex
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

FIELDS = 7
MAGIC = 0x31425344


class Linear(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_out, n_in))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


class Norm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.bias = nn.Parameter(torch.zeros(d))

    def forward(self, x):
        return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, 1e-5)


class Layer(nn.Module):
    """TransformerLayer.java: pre-norm self-attention and GELU MLP, each with a residual."""

    def __init__(self, d, heads, mlp_ratio):
        super().__init__()
        self.d, self.heads = d, heads
        self.norm1, self.qkv, self.proj = Norm(d), Linear(d, 3 * d), Linear(d, d)
        self.norm2, self.fc1, self.fc2 = Norm(d), Linear(d, mlp_ratio * d), Linear(mlp_ratio * d, d)

    def forward(self, x):
        b, n, _ = x.shape
        hd = self.d // self.heads
        qkv = self.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-1, -2) * (1.0 / math.sqrt(hd))).softmax(-1)
        x = x + self.proj((attn @ v).transpose(1, 2).reshape(b, n, self.d))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ExtractionModel(nn.Module):
    """ExtractionModel.java, line for line."""

    def __init__(self, cfg, classes):
        super().__init__()
        d = cfg["dim"]
        s0, s1 = cfg["stem_channels"]
        self.cfg, self.classes = cfg, classes
        self.gh, self.gw, self.fpc = cfg["image_height"] // 8, cfg["image_width"] // 8, cfg["frames_per_column"]
        self.conv1 = nn.Conv2d(1, s0, 3, 2, 1)
        self.conv2 = nn.Conv2d(s0, s1, 3, 2, 1)
        self.conv3 = nn.Conv2d(s1, d, 3, 2, 1)
        self.position = nn.Parameter(torch.zeros(self.gh * self.gw, d))
        self.field_queries = nn.Parameter(torch.zeros(FIELDS, d))
        self.field_embedding = nn.Parameter(torch.zeros(FIELDS, 1, d))
        self.column_position = nn.Parameter(torch.zeros(self.gw, d))
        self.encoder = nn.ModuleList(Layer(d, cfg["heads"], cfg["mlp_ratio"]) for _ in range(cfg["encoder_layers"]))
        self.encoder_norm = Norm(d)
        self.query, self.key, self.value = Linear(d, d), Linear(d, d), Linear(d, d)
        self.decoder = Layer(d, cfg["heads"], cfg["mlp_ratio"])
        self.decoder_norm = Norm(d)
        self.head = Linear(d, self.fpc * classes)

    def forward(self, x):
        b, d, gh, gw = x.shape[0], self.cfg["dim"], self.gh, self.gw
        x = F.gelu(self.conv1(x))
        x = F.gelu(self.conv2(x))
        x = self.conv3(x).permute(0, 2, 3, 1).reshape(b, gh * gw, d) + self.position
        for layer in self.encoder:
            x = layer(x)
        x = self.encoder_norm(x)
        k = self.key(x)
        v = self.value(x).reshape(b, gh, gw, d).permute(0, 2, 1, 3)  # (B, gw, gh, d)
        q = self.query(self.field_queries)
        row_scores = (k @ q.t() * (1.0 / math.sqrt(d))).reshape(b, gh, gw, FIELDS)
        rows = row_scores.softmax(1).permute(0, 2, 3, 1)  # (B, gw, F, gh)
        lines = (rows @ v).permute(0, 2, 1, 3) + self.field_embedding + self.column_position
        lines = self.decoder_norm(self.decoder(lines.reshape(b * FIELDS, gw, d)))
        logits = self.head(lines).reshape(b, FIELDS, gw * self.fpc, self.classes)
        return logits, row_scores

    def java_names(self):
        """This model's parameters under the names DJL gives them (ModelCheckpoint's keys)."""
        blocks = [("conv1", self.conv1), ("conv2", self.conv2), ("conv3", self.conv3)]
        blocks += [("encoder%d" % i, l) for i, l in enumerate(self.encoder)]
        blocks += [("encoder_norm", self.encoder_norm), ("query", self.query), ("key", self.key),
                   ("value", self.value), ("decoder", self.decoder), ("decoder_norm", self.decoder_norm),
                   ("head", self.head)]
        names = {"position": self.position, "field_queries": self.field_queries,
                 "field_embedding": self.field_embedding, "column_position": self.column_position}
        layer_parts = ["norm1", "qkv", "proj", "norm2", "fc1", "fc2"]
        for i, (name, block) in enumerate(blocks, start=1):
            prefix = "%02d%s_" % (i, name)
            if isinstance(block, Layer):
                for j, part in enumerate(layer_parts, start=1):
                    sub = getattr(block, part)
                    for p in ("weight", "bias"):
                        names["%s%02d%s_%s" % (prefix, j, part, p)] = getattr(sub, p)
            else:
                for p in ("weight", "bias"):
                    names[prefix + p] = getattr(block, p)
        return names


def frame_loss(logits, row_scores, classes, weights, rows):
    """FrameLoss.java: weighted frame cross-entropy plus the row-attention cross-entropy."""
    logp = logits.log_softmax(-1)
    picked = logp.gather(-1, classes.long().unsqueeze(-1)).squeeze(-1)
    loss = -(picked * weights).sum() / weights.sum()
    row_logp = row_scores.log_softmax(1)
    return loss - (row_logp * rows).sum() / rows.sum()


def load(model, folder):
    stored = load_file(os.path.join(folder, "model.safetensors"))
    names = model.java_names()
    missing = set(names) - set(stored)
    if missing:
        sys.exit("checkpoint %s lacks %s" % (folder, sorted(missing)))
    with torch.no_grad():
        for k, p in names.items():
            if tuple(stored[k].shape) != tuple(p.shape):
                sys.exit("parameter %s has shape %s, expected %s" % (k, tuple(stored[k].shape), tuple(p.shape)))
            p.copy_(stored[k])


def save(model, folder):
    os.makedirs(folder, exist_ok=True)
    tensors = {k: p.detach().float().cpu().contiguous() for k, p in model.java_names().items()}
    save_file(tensors, os.path.join(folder, "model.safetensors.tmp"))
    os.replace(os.path.join(folder, "model.safetensors.tmp"), os.path.join(folder, "model.safetensors"))
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump(model.cfg, f, indent=2)


def read_exact(stream, n):
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = stream.readinto(view[got:])
        if not k:
            raise EOFError("feed ended")
        got += k
    return buf


def batches(stream, cfg, classes):
    h, w = cfg["image_height"], cfg["image_width"]
    gh, gw, t = h // 8, w // 8, (w // 8) * cfg["frames_per_column"]
    while True:
        magic, n = np.frombuffer(read_exact(stream, 8), dtype="<i4")
        if magic != MAGIC:
            raise ValueError("feed out of step: bad magic %x" % magic)
        sizes = [n * h * w, n * FIELDS * t, n * FIELDS * t, n * gh * gw * FIELDS]
        arrays = np.frombuffer(read_exact(stream, 4 * sum(sizes)), dtype="<f4")
        out, at = [], 0
        for s in sizes:
            out.append(arrays[at:at + s])
            at += s
        yield (out[0].reshape(n, 1, h, w), out[1].reshape(n, FIELDS, t), out[2].reshape(n, FIELDS, t),
               out[3].reshape(n, gh, gw, FIELDS))


def learning_rate(step, progress, args):
    """ExtractionTrainer's schedule (linear warm-up from lr/50, cosine to lr/20), with the cosine
    driven by the share of the time budget spent, since a GPU run is bounded by time."""
    if step < args.warmup:
        begin = args.lr / 50
        return begin + (args.lr - begin) * step / args.warmup
    final = args.lr / 20
    return final + (args.lr - final) * (1 + math.cos(math.pi * min(1.0, progress))) / 2


def check(model, path, cfg, classes, device):
    with open(path, "rb") as f:
        pixels = next(batches(f, cfg, classes))[0]
        n = pixels.shape[0]
        expected = np.frombuffer(f.read(), dtype="<f4").reshape(n, FIELDS, -1, classes)
    with torch.no_grad():
        logits, _ = model(torch.from_numpy(pixels.copy()).to(device))
    diff = float((logits.cpu() - torch.from_numpy(expected.copy())).abs().max())
    print("parity: max |logit(PyTorch twin) - logit(Java)| = %.2e over %d images" % (diff, n), flush=True)
    if diff > 1e-3:
        sys.exit("parity check failed: the twin does not compute what ExtractionModel.java computes")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--init", required=True, help="Java checkpoint folder to start from")
    ap.add_argument("--out", required=True, help="checkpoint folder to write (Java format)")
    ap.add_argument("--minutes", type=float, default=18, help="length of the whole schedule in minutes [18]")
    ap.add_argument("--resume", help="folder of an unfinished run (its checkpoint, optimizer and clock)")
    ap.add_argument("--stop-after", type=float, default=-1,
                    help="minutes to run this time, for schedules longer than one session (-1: to the end) [-1]")
    ap.add_argument("--batch", type=int, default=256, help="images per step (the feed's batch) [256]")
    ap.add_argument("--lr", type=float, default=0.001, help="peak learning rate [0.001]")
    ap.add_argument("--warmup", type=int, default=200, help="warm-up steps [200]")
    ap.add_argument("--classes", type=int, default=41, help="character classes incl. blank [41]")
    ap.add_argument("--check", help="parity file (train reference) to verify before training")
    ap.add_argument("--feed", required=True, help="command that writes batches to stdout (train feed)")
    ap.add_argument("--save-every", type=int, default=500, help="steps between checkpoints [500]")
    args = ap.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cuda.matmul.allow_tf32 = False  # exact float32 for the parity check
    torch.backends.cudnn.allow_tf32 = False
    with open(os.path.join(args.init, "model.json")) as f:
        cfg = json.load(f)
    model = ExtractionModel(cfg, args.classes).to(device)
    load(model, args.resume or args.init)
    if args.check:
        check(model, args.check, cfg, args.classes, device)
    torch.backends.cuda.matmul.allow_tf32 = True  # training: TF32 tensor cores
    torch.backends.cudnn.allow_tf32 = True
    # DJL's Adam: betas 0.9/0.999, epsilon 1e-8, no weight decay.
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    step, done_s = 0, 0.0
    if args.resume:
        opt.load_state_dict(torch.load(os.path.join(args.resume, "optimizer.pt"), map_location=device))
        with open(os.path.join(args.resume, "clock.json")) as f:
            clock = json.load(f)
        step, done_s = clock["step"], clock["seconds"]
    budget_s = 60 * args.minutes
    stop_s = budget_s if args.stop_after < 0 else min(budget_s, done_s + 60 * args.stop_after)
    feed = subprocess.Popen(shlex.split(args.feed), stdout=subprocess.PIPE, bufsize=1 << 22)
    stream = batches(feed.stdout, cfg, args.classes)
    started, smoothed, images = time.time(), None, 0
    model.train()

    def checkpoint():
        save(model, args.out)
        torch.save(opt.state_dict(), os.path.join(args.out, "optimizer.pt"))
        with open(os.path.join(args.out, "clock.json"), "w") as f:
            json.dump({"step": step, "seconds": elapsed, "images_this_run": images}, f)

    try:
        elapsed = done_s
        while elapsed < stop_s:
            step += 1
            px, cl, wt, rw = (torch.from_numpy(a.copy()).to(device, non_blocking=True) for a in next(stream))
            lr = learning_rate(step, elapsed / budget_s, args)
            for g in opt.param_groups:
                g["lr"] = lr
            logits, row_scores = model(px)
            loss = frame_loss(logits, row_scores, cl, wt, rw)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            images += px.shape[0]
            elapsed = done_s + time.time() - started
            if step % 100 == 0:
                value = float(loss.detach())
                smoothed = value if smoothed is None else 0.9 * smoothed + 0.1 * value
                print("step %d loss %.4f (smoothed %.4f) lr %.5f %.0f img/s %.0f of %.0f s" % (
                    step, value, smoothed, lr, images / (time.time() - started), elapsed, budget_s), flush=True)
            if step % args.save_every == 0:
                checkpoint()
        checkpoint()
        print("done: %d steps, %d images this run, %.0f s of the %.0f s schedule" % (step, images, elapsed, budget_s),
              flush=True)
    finally:
        feed.kill()


if __name__ == "__main__":
    main()
