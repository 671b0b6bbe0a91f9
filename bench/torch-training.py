# PyTorch CPU peer of the training benchmark (bench/training.bench.mjs): the zoo's cnn, lenet5 and
# resnet8 built in PyTorch (NCHW shapes, channels_last memory by default), one thread (--threads N for more), trained with the same batch, loss and momentum-SGD step,
# in FP32 and in INT8 QAT shaped like ours (src/nn/quant.ts): every conv/linear fake-quantizes its input
# per tensor (symmetric, clip = 3·std profiled over the first batches, then fixed) and its weight per
# output channel (symmetric, clip = that channel's absmax, recomputed at every forward), both on the
# [-127, 127] grid with ties to even and the clip-aware straight-through gradient.
# Reads the batches from stdin (see read_batches); then either times one model and prints one JSON object
# (--model cnn --modes fp32,int8 --time-ms 1500 --windows 5), or with --serve answers commands line by line
# so bench/torch-peer.mjs can alternate PyTorch's timed windows with ours.
import argparse
import json
import math
import re
import statistics
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

QMAX = 127  # INT8 as ours: symmetric, scale = 127 / clip, -128 unused
ACT_K = 3.0  # activation clip = ACT_K · std, our Quantizer's default actK


class QuantState:
    """Shared switch of every fake-quantizer in a model: 'off', 'weights', 'profile' or 'on'."""

    def __init__(self):
        self.mode = 'off'


class QuantMixin:
    """Our Quantizer, per layer: input per tensor (profiled clip), weight per output channel (absmax)."""

    def init_quant(self, qs):
        self.qs = qs
        self.n = 0
        self.s = 0.0
        self.ss = 0.0
        self.act_scale = None

    def q_input(self, x):
        mode = self.qs.mode
        if mode == 'profile':
            d = x.detach().double()
            self.n += d.numel()
            self.s += d.sum().item()
            self.ss += (d * d).sum().item()
            return x
        if mode != 'on':
            return x
        return torch.fake_quantize_per_tensor_affine(x, self.act_scale, 0, -QMAX, QMAX)

    def finish_profile(self):
        mean = self.s / self.n
        std = math.sqrt(max(0.0, self.ss / self.n - mean * mean))
        self.act_scale = max(ACT_K * std, 1e-30) / QMAX

    def q_weight(self, w):
        if self.qs.mode == 'off':
            return w
        clip = w.detach().abs().amax(dim=tuple(range(1, w.dim())))
        clip = torch.where(clip > 0, clip, torch.ones_like(clip))  # all-zero channel: any clip gives zeros
        scale = clip / QMAX
        zp = torch.zeros(w.shape[0], dtype=torch.int32)
        return torch.fake_quantize_per_channel_affine(w, scale, zp, 0, -QMAX, QMAX)


class QConv(nn.Conv2d, QuantMixin):
    def __init__(self, qs, ci, co, k, stride=1, padding=0, bias=True):
        super().__init__(ci, co, k, stride=stride, padding=padding, bias=bias)
        self.init_quant(qs)

    def forward(self, x):
        return F.conv2d(self.q_input(x), self.q_weight(self.weight), self.bias, self.stride, self.padding)


class QLinear(nn.Linear, QuantMixin):
    # 'mm': F.linear (aten::addmm → the BLAS torch was built with; Debian's python3-torch calls the system
    # libblas, the netlib reference one unless OpenBLAS is installed); 'conv': the same product as a 1×1
    # convolution of a 1×1 image, which runs in oneDNN whatever the BLAS.
    formulation = 'mm'

    def __init__(self, qs, ci, co):
        super().__init__(ci, co)
        self.init_quant(qs)

    def forward(self, x):
        x, w = self.q_input(x), self.q_weight(self.weight)
        if QLinear.formulation == 'conv':
            return F.conv2d(x[:, :, None, None], w[:, :, None, None], self.bias).flatten(1)
        return F.linear(x, w, self.bias)


class BasicBlock(nn.Module):
    """Ours (src/nn/layers.ts): relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut), 1×1 conv + BN shortcut on a shape change."""

    def __init__(self, qs, ci, co, stride):
        super().__init__()
        self.conv1 = QConv(qs, ci, co, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(co)
        self.conv2 = QConv(qs, co, co, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(co)
        self.down = nn.Sequential(QConv(qs, ci, co, 1, stride, 0, bias=False), nn.BatchNorm2d(co)) if stride != 1 or ci != co else None

    def forward(self, x):
        h = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(h + (self.down(x) if self.down is not None else x))


class ResNet8(nn.Module):
    def __init__(self, qs, c, classes):
        super().__init__()
        self.stem = nn.Sequential(QConv(qs, c, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.blocks = nn.Sequential(BasicBlock(qs, 16, 16, 1), BasicBlock(qs, 16, 32, 2), BasicBlock(qs, 32, 64, 2))
        self.fc = QLinear(qs, 64, classes)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean(dim=(2, 3)))


def build(name, qs, shape, classes=10):
    """The zoo model `name` (src/nn/zoo.ts, width 1) for inputs [H, W, C]."""
    H, W, C = shape
    if name == 'cnn':
        return nn.Sequential(
            QConv(qs, C, 16, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),
            QConv(qs, 16, 32, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            QLinear(qs, (H // 2 // 2) * (W // 2 // 2) * 32, classes))
    if name == 'lenet5':
        pad = 2 if H == 28 else 0
        h, w = ((H + 2 * pad - 4) // 2 - 4) // 2, ((W + 2 * pad - 4) // 2 - 4) // 2
        return nn.Sequential(
            QConv(qs, C, 6, 5, 1, pad), nn.ReLU(), nn.MaxPool2d(2),
            QConv(qs, 6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            QLinear(qs, h * w * 16, 120), nn.ReLU(), QLinear(qs, 120, 84), nn.ReLU(), QLinear(qs, 84, classes))
    if name == 'resnet8':
        return ResNet8(qs, C, classes)
    raise SystemExit(f'no PyTorch peer for model {name}')


def quant_layers(model):
    return [m for m in model.modules() if isinstance(m, QuantMixin)]


def layer_info(model, shape):
    """[kind, MACs per example, weight elements] of every conv/linear in forward order (for the architecture check)."""
    info = []

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            info.append(['conv', out[0].numel() * m.weight[0].numel(), m.weight.numel()])
        else:
            info.append(['linear', m.weight.numel(), m.weight.numel()])

    hs = [m.register_forward_hook(hook) for m in quant_layers(model)]
    was = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, shape[2], shape[0], shape[1]))
    model.train(was)
    for h in hs:
        h.remove()
    return info


def read_batches(stream, shape, layout):
    """u32 count, u32 batch, then count × (batch·H·W·C f32 images in NHWC, batch i32 labels), little-endian."""
    count, batch = struct.unpack('<II', stream.read(8))
    H, W, C = shape
    per = batch * H * W * C
    fmt = torch.channels_last if layout == 'nhwc' else torch.contiguous_format
    out = []
    for _ in range(count):
        x = torch.frombuffer(bytearray(stream.read(4 * per)), dtype=torch.float32).reshape(batch, H, W, C)
        y = torch.frombuffer(bytearray(stream.read(4 * batch)), dtype=torch.int32).long()
        out.append((x.permute(0, 3, 1, 2).contiguous(memory_format=fmt), y))
    return out, batch


class Session:
    """One model in one mode ('fp32' | 'int8'), profiled (int8) and warmed up, timed in windows."""

    def __init__(self, name, mode, batches, batch, shape, args):
        torch.manual_seed(1)
        self.name, self.mode, self.batches, self.batch, self.i = name, mode, batches, batch, 0
        qs = QuantState()
        self.model = build(name, qs, shape)
        if args.layout == 'nhwc':
            self.model = self.model.to(memory_format=torch.channels_last)
        self.model.train()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=args.lr, momentum=0.9)
        if mode == 'int8':
            # As our bench's Trainer (actQuantStart 0, profileBatches 2): weights quantized from the start,
            # inputs profiled over 2 training steps, then quantized with clip = 3·std.
            qs.mode = 'profile'
            for _ in range(2):
                self.step()
            for m in quant_layers(self.model):
                m.finish_profile()
            qs.mode = 'on'
        elif mode != 'fp32':
            raise SystemExit(f'mode {mode}: expected fp32 or int8')
        t0, warm = time.perf_counter(), 0
        while warm < 4 or time.perf_counter() - t0 < min(args.time_ms, 1000) / 1000:
            self.step()
            warm += 1

    def step(self):
        x, y = self.batches[self.i % len(self.batches)]
        self.i += 1
        logits = self.model(x)
        loss = F.cross_entropy(logits, y)
        self.opt.zero_grad()
        loss.backward()
        lv = loss.item()  # ours reads the loss and counts the correct ones every step too
        (logits.detach().argmax(1) == y).sum().item()
        self.opt.step()
        if not math.isfinite(lv):
            raise SystemExit(f'{self.name} {self.mode}: loss {lv}')
        return lv

    def window(self, min_ms, min_steps=2):
        """(images/s by wall time, by this process's CPU time) over at least min_steps steps and min_ms milliseconds."""
        steps, t0, c0, dt = 0, time.perf_counter(), time.process_time(), 0.0
        while steps < min_steps or dt < min_ms / 1000:
            self.step()
            steps += 1
            dt = time.perf_counter() - t0
        return steps * self.batch / dt, steps * self.batch / (time.process_time() - c0)


def describe(name, shape, args):
    return {
        'torch': torch.__version__,
        'python': sys.version.split()[0],
        'threads': torch.get_num_threads(),
        'mkldnn': torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled,
        'blas': (re.search(r'BLAS_INFO=([^,\s]+)', torch.__config__.show()) or [None, 'unknown'])[1],
        'linear': args.linear,
        'layout': args.layout,
        'model': name,
        'layers': layer_info(build(name, QuantState(), shape), shape),
        'params': sum(t.numel() for t in build(name, QuantState(), shape).parameters()),
    }


def serve(batches, batch, shape, args):
    """Line protocol on stdin/stdout, one JSON object each way, so the caller can alternate its windows with ours:
    {"cmd": "setup", "model", "mode"} → describe() · {"cmd": "window", "minMs"} → {"imgPerS", "imgPerCpuS"} · {"cmd": "quit"}."""
    session = None
    print(json.dumps({'ready': True, 'torch': torch.__version__}), flush=True)
    for line in sys.stdin.buffer:
        req = json.loads(line)
        if req['cmd'] == 'quit':
            break
        if req['cmd'] == 'setup':
            session = None
            out = describe(req['model'], shape, args)
            session = Session(req['model'], req['mode'], batches, batch, shape, args)
        elif req['cmd'] == 'window':
            wall, cpu = session.window(req['minMs'], req.get('minSteps', 2))
            out = {'imgPerS': wall, 'imgPerCpuS': cpu}
        else:
            raise SystemExit(f'unknown command {req["cmd"]}')
        print(json.dumps(out), flush=True)


def main():
    p = argparse.ArgumentParser(description='PyTorch CPU training throughput peer (reads batches on stdin)')
    p.add_argument('--serve', action='store_true', help='after the batches, take commands on stdin (see serve)')
    p.add_argument('--model', help='without --serve: the model to time, printing one JSON object')
    p.add_argument('--modes', default='fp32,int8')
    p.add_argument('--time-ms', type=float, default=1500)
    p.add_argument('--windows', type=int, default=5)
    p.add_argument('--lr', type=float, default=0.01)
    p.add_argument('--shape', default='28,28,1', help='H,W,C')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--linear', choices=['mm', 'conv'], default='conv', help='formulation of the linear layers (see QLinear)')
    p.add_argument('--layout', choices=['nchw', 'nhwc'], default='nhwc', help='memory format of images and conv weights (nhwc = channels_last)')
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set
    shape = [int(v) for v in args.shape.split(',')]
    QLinear.formulation = args.linear
    batches, batch = read_batches(sys.stdin.buffer, shape, args.layout)
    if args.serve:
        serve(batches, batch, shape, args)
        return
    if not args.model:
        raise SystemExit('--model or --serve is required')
    out = describe(args.model, shape, args)
    for mode in args.modes.split(','):
        sess = Session(args.model, mode, batches, batch, shape, args)
        rates = [sess.window(args.time_ms) for _ in range(args.windows)]
        out[mode] = {'imgPerS': statistics.median(r[0] for r in rates), 'imgPerCpuS': statistics.median(r[1] for r in rates)}
    print(json.dumps(out))


if __name__ == '__main__':
    main()
