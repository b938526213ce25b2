#!/usr/bin/env python3
"""PyTorch reference for `zoo bench`: trains the same configurations on the
same MNIST IDX files and prints the same measurements.

    python3 bench/torch_ref.py CONFIG --data DIR [--steps N] [--warmup W]
                               [--dtype float32|float64] [--threads T] [--json]

CONFIG is ae512 (784-512-784, sigmoid code, BCE with logits), vae (the
pytorch/examples VAE, 784-400-(20,20)-400-784, BCE + KL), or the zoo's
--arch conv models: conv (`plain --arch conv --hidden 64`: conv 3×3 ×16,
ReLU, pool → conv 3×3 ×32, ReLU, pool → 64 sigmoid units → dense 32×7×7,
ReLU → transposed conv 4×4 stride 2 ×16, ReLU → transposed conv 4×4 stride 2
×1, BCE with logits; 215,601 parameters) and convvae (`vae --arch conv
--hidden 256`: the same convolutions → 256 ReLU → (20, 20) → 256 ReLU →
the same decoder, BCE + KL; 833,561 parameters). All use Adam 1e-3, batch
128, losses per image (sum over pixels, mean over the batch) as the zoo
does. Exits 3 when torch cannot be imported.
"""

import argparse
import gzip
import json
import os
import resource
import struct
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # pragma: no cover
    print("skipped: python3-torch missing (%s); install it with `apt-get install python3-torch`" % e, file=sys.stderr)
    sys.exit(3)

BATCH = 128
LR = 1e-3


def read_images(path):
    """Reads train-images-idx3-ubyte[.gz] into an N×784 tensor in [0,1]."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    magic, n, rows, cols = struct.unpack(">IIII", raw[:16])
    if magic != 0x803:
        raise SystemExit("%s: bad IDX magic %#x" % (path, magic))
    x = torch.frombuffer(bytearray(raw[16:16 + n * rows * cols]), dtype=torch.uint8)
    return x.view(n, rows * cols).to(torch.float32) / 255.0


def find_images(d):
    for name in ("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    raise SystemExit("no train-images-idx3-ubyte[.gz] in %s" % d)


class AE(nn.Module):
    def __init__(self, hidden=512):
        super().__init__()
        self.enc = nn.Linear(784, hidden)
        self.dec = nn.Linear(hidden, 784)

    def loss(self, x):
        logits = self.dec(torch.sigmoid(self.enc(x)))
        return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def loss(self, x):
        h = F.relu(self.fc1(x))
        mu, logvar = self.fc21(h), self.fc22(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        logits = self.fc4(F.relu(self.fc3(z)))
        bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return (bce + kld) / x.shape[0]


class ConvFeatures(nn.Module):
    """The zoo's conv encoder stack (models/conv.go): 1×28×28 → conv 3×3,
    16 maps, padding 1, ReLU → max-pool 2×2 → conv 3×3, 32 maps, padding 1,
    ReLU → max-pool 2×2 → flattened 32·7·7 (channel-major, as the zoo)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.conv1(x.view(-1, 1, 28, 28))), 2)
        return F.max_pool2d(F.relu(self.conv2(h)), 2).flatten(1)


class ConvLogits(nn.Module):
    """The zoo's conv decoder (models/conv.go): h → dense 32·7·7, ReLU →
    transposed conv 4×4, stride 2, padding 1, 16 maps, ReLU → transposed conv
    4×4, stride 2, padding 1, 1 map → 784 logits."""

    def __init__(self, hidden):
        super().__init__()
        self.decfc = nn.Linear(hidden, 32 * 7 * 7)
        self.deconv2 = nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1)
        self.deconv1 = nn.ConvTranspose2d(16, 1, 4, stride=2, padding=1)

    def forward(self, h):
        d = F.relu(self.decfc(h)).view(-1, 32, 7, 7)
        return self.deconv1(F.relu(self.deconv2(d))).flatten(1)


class ConvAE(nn.Module):
    """The zoo's `plain --arch conv --hidden 64` (bench config conv)."""

    def __init__(self, hidden=64):
        super().__init__()
        self.features = ConvFeatures()
        self.enc = nn.Linear(32 * 7 * 7, hidden)
        self.decoder = ConvLogits(hidden)

    def loss(self, x):
        logits = self.decoder(torch.sigmoid(self.enc(self.features(x))))
        return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]


class ConvVAE(nn.Module):
    """The zoo's `vae --arch conv --hidden 256` (bench config convvae), z = 20."""

    def __init__(self, hidden=256, latent=20):
        super().__init__()
        self.features = ConvFeatures()
        self.enc = nn.Linear(32 * 7 * 7, hidden)
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.dec1 = nn.Linear(latent, hidden)
        self.decoder = ConvLogits(hidden)

    def loss(self, x):
        h = F.relu(self.enc(self.features(x)))
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        logits = self.decoder(F.relu(self.dec1(z)))
        bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return (bce + kld) / x.shape[0]


MODELS = {"ae512": AE, "vae": VAE, "conv": ConvAE, "convvae": ConvVAE}


def torch_blas():
    """The BLAS torch was built with (BLAS_INFO of torch.__config__.show())."""
    import re
    try:
        m = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
        if m:
            return m.group(1)
    except Exception:
        pass
    return "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("config", choices=list(MODELS))
    ap.add_argument("--data", required=True, help="folder with train-images-idx3-ubyte[.gz]")
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    dt = torch.float32 if a.dtype == "float32" else torch.float64
    X = read_images(find_images(a.data)).to(dt)
    model = MODELS[a.config]().to(dt)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    n = X.shape[0]
    gen = torch.Generator().manual_seed(a.seed)
    state = {"perm": torch.randperm(n, generator=gen), "pos": 0}

    def steps(k):
        loss = None
        for _ in range(k):
            if state["pos"] + BATCH > n:
                state["perm"], state["pos"] = torch.randperm(n, generator=gen), 0
            idx = state["perm"][state["pos"]:state["pos"] + BATCH]
            state["pos"] += BATCH
            x = X.index_select(0, idx)
            opt.zero_grad(set_to_none=True)
            loss = model.loss(x)
            loss.backward()
            opt.step()
        return loss

    steps(a.warmup)
    t0 = time.perf_counter()
    loss = steps(a.steps)
    secs = time.perf_counter() - t0
    r = {
        "impl": "torch",
        "torch_version": torch.__version__,
        "torch_blas": torch_blas(),
        "config": a.config,
        "dtype": a.dtype,
        "batch": BATCH,
        "steps": a.steps,
        "warmup": a.warmup,
        "threads": torch.get_num_threads(),
        "seconds": secs,
        "ms_per_step": 1000 * secs / a.steps,
        "samples_per_s": BATCH * a.steps / secs,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "final_loss": float(loss),
        "params": sum(p.numel() for p in model.parameters()),
    }
    if a.json:
        print(json.dumps(r))
    else:
        print("torch %s %s: %.3f ms/step, %.0f samples/s (%d threads, %d steps), loss %.3f" % (
            a.config, a.dtype, r["ms_per_step"], r["samples_per_s"], r["threads"], a.steps, r["final_loss"]))


if __name__ == "__main__":
    main()
