"""PyTorch CPU peer of `npm run bench`: times one workload and prints `<ms per iteration>`.

Usage: python3 peers.py <workload> [args] [--threads N] [--time SECONDS]
  matmul M [DATAFILE]           C = A @ B, M x M x M (DATAFILE: float32 A then B)
  conv N C H W O [DATAFILE]     3x3 convolution, padding 1, forward (DATAFILE: float32 x then w)
  convtrain N C H W O [DATAFILE]  forward + grad input + grad filter (sum of outputs as loss)
  unet BATCH SIZE DATAFILE [--device cuda]
                                UNet-d3-b16 training step (forward, generalized Dice + 0.01 *
                                boundary loss on softmax probabilities, backward, Adam); DATAFILE
                                holds float32 x [B,1,S,S], one-hot target [B,2,S,S] and signed
                                distance maps [B,2,S,S], written by the Node benchmark.
With --device cuda (the GPU device script, bench/device/unet-step.ts) the UNet runs on the GPU,
with PyTorch's defaults (cuDNN autotuning off, TF32 convolutions as PyTorch allows them by default,
reported in the config line); each step ends with `loss.item()`, which waits for the GPU.
The last line printed is the mean milliseconds per iteration. The first line is the configuration
that took effect (`config: PyTorch <version> threads=N OMP_NUM_THREADS=N OPENBLAS_NUM_THREADS=1
OMP_WAIT_POLICY=PASSIVE blas=<library>`); `python3 peers.py config [--threads N]` prints only that. With --check, the UNet
prints the loss of the first steps on its own line first (`loss ...`).

Thread pools: PyTorch runs its kernels on N OpenMP threads (`torch.set_num_threads(N)`); a threaded
BLAS behind Debian's libblas.so.3 (OpenBLAS) would start its own pool and fight OpenMP for the cores,
so OPENBLAS_NUM_THREADS defaults to 1, OMP_NUM_THREADS to N and OMP_WAIT_POLICY to PASSIVE before
torch loads (the Node benchmark sets them in the environment too: bench/python.ts).
"""
import ctypes
import os
import re
import sys
import time


def option(args, name, default):
    """Removes `name VALUE` from args; returns VALUE (or default)."""
    if name in args:
        i = args.index(name)
        value = args[i + 1]
        del args[i:i + 2]
        return value
    return default


ARGS = sys.argv[1:]
THREADS = int(option(ARGS, "--threads", "2"))
DEVICE = option(ARGS, "--device", "cpu")
# Before torch (and its BLAS and OpenMP runtimes) load: they read these once, at start.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))
os.environ.setdefault("MKL_NUM_THREADS", str(THREADS))
# GNU OpenMP spins between parallel regions by default: on a shared machine that starves the step.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
import torch.nn as nn
import torch.nn.functional as F


def load(path):
    with open(path, "rb") as f:
        return torch.frombuffer(bytearray(f.read()), dtype=torch.float32)


def bench(fn, seconds):
    for _ in range(3):
        fn()
    n = 0
    t0 = time.perf_counter()
    while True:
        fn()
        n += 1
        t = time.perf_counter() - t0
        if t >= seconds and n >= 3:
            return t / n * 1000.0


class DoubleConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)

    def forward(self, x):
        return F.relu(self.c2(F.relu(self.c1(x))))


class UNet(nn.Module):
    """UNet-d3-b16: as models/unet.ts (base 16, depth 3, no batch norm, 481,762 parameters)."""

    def __init__(self, cin=1, classes=2, base=16, depth=3):
        super().__init__()
        chans = [base * 2 ** i for i in range(depth)]
        self.down = nn.ModuleList()
        c = cin
        for o in chans:
            self.down.append(DoubleConv(c, o))
            c = o
        self.bottleneck = DoubleConv(c, base * 2 ** depth)
        c = base * 2 ** depth
        self.ups = nn.ModuleList()
        self.dec = nn.ModuleList()
        for o in reversed(chans):
            self.ups.append(nn.ConvTranspose2d(c, o, 2, stride=2))
            self.dec.append(DoubleConv(2 * o, o))
            c = o
        self.head = nn.Conv2d(c, classes, 1)

    def forward(self, x):
        skips = []
        for d in self.down:
            x = d(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottleneck(x)
        for up, dec, skip in zip(self.ups, self.dec, reversed(skips)):
            x = dec(torch.cat([up(x), skip], 1))
        return self.head(x)


def generalized_dice(probs, target):
    axes = (2, 3)
    inter = (probs * target).sum(axes)
    pred = probs.sum(axes)
    lab = target.sum(axes)
    w = 1.0 / (lab + 1e-10) ** 2
    num = (w * inter).sum(1) + 1e-10
    den = (w * (pred + lab)).sum(1) + 1e-10
    return (1 - 2 * num / den).mean()


def blas():
    """The BLAS library loaded into this process, with OpenBLAS's own build and thread count."""
    with open("/proc/self/maps") as f:
        libs = sorted({line.split()[-1] for line in f if re.search(r"/lib(open)?blas|/libmkl_rt|/libblis", line)})
    if not libs:
        return "none loaded"
    path = os.path.realpath(libs[0])
    try:
        lib = ctypes.CDLL(path)
        lib.openblas_get_config.restype = ctypes.c_char_p
        lib.openblas_get_corename.restype = ctypes.c_char_p
        version = lib.openblas_get_config().decode().split()[1]
        threads = lib.openblas_get_num_threads()
        return f"OpenBLAS {version} {lib.openblas_get_corename().decode()} ({threads} thread{'s' if threads != 1 else ''})"
    except (OSError, AttributeError):
        pass
    if "/blas/" in path or path.endswith("libblas.so.3"):
        return f"reference BLAS, single-threaded ({path})"
    return path


def config():
    """One line: what this peer runs with."""
    env = " ".join(f"{k}={os.environ.get(k, 'unset')}" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_WAIT_POLICY"))
    line = f"config: PyTorch {torch.__version__} threads={torch.get_num_threads()} {env} blas={blas()}"
    if DEVICE == "cuda":
        line += (f" device=cuda:{torch.cuda.get_device_name(0)} cuda={torch.version.cuda}"
                 f" cudnn={torch.backends.cudnn.version()} cudnn.allow_tf32={torch.backends.cudnn.allow_tf32}"
                 f" matmul.allow_tf32={torch.backends.cuda.matmul.allow_tf32}")
    return line


def main():
    args = ARGS
    seconds = float(option(args, "--time", "3"))
    check = "--check" in args
    if check:
        args.remove("--check")
    torch.set_num_threads(THREADS)
    if DEVICE not in ("cpu", "cuda"):
        raise SystemExit(f"--device: expected cpu or cuda, got {DEVICE}")
    if DEVICE == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: this PyTorch has no CUDA device (torch.cuda.is_available() is False)")
    print(config(), flush=True)
    torch.manual_seed(0)
    kind = args[0] if args else "config"
    if kind == "config":
        return
    if kind == "matmul":
        m = int(args[1])
        if len(args) > 2:
            raw = load(args[2])
            a, b = raw[:m * m].reshape(m, m).clone(), raw[m * m:2 * m * m].reshape(m, m).clone()
        else:
            a = torch.rand(m, m) * 2 - 1
            b = torch.rand(m, m) * 2 - 1
        ms = bench(lambda: torch.mm(a, b), seconds)
    elif kind in ("conv", "convtrain"):
        n, c, h, w, o = (int(v) for v in args[1:6])
        if len(args) > 6:
            raw = load(args[6])
            nx = n * c * h * w
            x = raw[:nx].reshape(n, c, h, w).clone()
            wt = raw[nx:nx + o * c * 9].reshape(o, c, 3, 3).clone()
        else:
            x = torch.rand(n, c, h, w) * 2 - 1
            wt = (torch.rand(o, c, 3, 3) * 2 - 1) * 0.1
        x.requires_grad_(kind == "convtrain")
        wt.requires_grad_(kind == "convtrain")
        if kind == "conv":
            def fwd():
                with torch.no_grad():
                    F.conv2d(x, wt, padding=1)
            ms = bench(fwd, seconds)
        else:
            def step():
                y = F.conv2d(x, wt, padding=1)
                gx, gw = torch.autograd.grad(y.sum(), (x, wt))
            ms = bench(step, seconds)
    elif kind == "unet":
        batch, size = int(args[1]), int(args[2])
        raw = load(args[3])
        n = batch * size * size
        x = raw[:n].reshape(batch, 1, size, size).clone()
        target = raw[n:3 * n].reshape(batch, 2, size, size).clone()
        dist = raw[3 * n:5 * n].reshape(batch, 2, size, size).clone()
        x, target, dist = (t.to(DEVICE) for t in (x, target, dist))
        net = UNet().to(DEVICE)
        assert sum(p.numel() for p in net.parameters()) == 481762
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.9, 0.99), eps=1e-8)

        def step():
            opt.zero_grad(set_to_none=True)
            probs = torch.softmax(net(x), 1)
            loss = generalized_dice(probs, target) + 0.01 * (probs * dist).mean()
            loss.backward()
            opt.step()
            return loss.item()

        if check:
            print("loss", " ".join(f"{step():.5f}" for _ in range(3)), flush=True)
        ms = bench(step, seconds)
    else:
        raise SystemExit(f"unknown workload {kind}")
    print(f"{ms:.3f}", flush=True)


if __name__ == "__main__":
    main()
