#!/usr/bin/python3
"""tools/gen_golden.py - whole-model golden data for tests/models/test_models.c.

Builds small PyTorch networks with random weights (fixed seeds, eval mode, BatchNorm running
statistics randomised so that BN folding is really exercised), exports each with
torch.onnx.export and writes, per model, into tests/data/models/<name>/:

    model.onnx                  the exported graph (onnx.checker-clean)
    input.npy | input_<i>.npy   the input(s), graph-input order
    output.npy | output_<i>.npy torch's output(s), graph-output order (ArgMax outputs are int64),
                                computed in float64 and rounded to float32
    meta.json                   opset, input/output names and shapes, tolerance, dynamic_batch

The C test compares eosight's outputs with max|y - ref| / max|ref| <= meta.json "tolerance"
(integer outputs exactly). BatchNormalization nodes are kept in the file (the export uses
TrainingMode.PRESERVE on an eval-mode model, which skips torch's own Conv+BN fusion), so the
loader's folding pass is what the test checks.

Run with Debian's interpreter (python3-torch 1.13, python3-onnx 1.12, numpy), from anywhere:

    /usr/bin/python3 tools/gen_golden.py [--out tests/data/models] [--only name,name]

The output is deterministic: rerunning reproduces every file byte for byte (same torch/onnx;
checked with both the reference BLAS and OpenBLAS behind torch).
torch 1.13 exports at most opset 17, and onnx 1.12 knows no opset 18; ops_misc_18 is the opset-17
export upgraded by hand (ReduceMean axes attribute -> input, Split split input -> num_outputs,
opset_import 18), which are exactly the opset-18 changes for the operators it contains.
"""
import argparse
import copy
import io
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "tests", "data", "models")
DEFAULT_TOL = 1e-4


# ------------------------------------------------------------------ weights

def randomise(model, seed):
    """Re-draw every parameter and BN statistic from a seeded generator (eval mode)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                fan_in = mod.weight[0].numel() if not isinstance(mod, nn.ConvTranspose2d) \
                    else mod.weight.shape[0] * mod.weight[0, 0].numel() // max(1, mod.groups)
                bound = (3.0 / fan_in) ** 0.5 * 1.4
                mod.weight.copy_((torch.rand(mod.weight.shape, generator=g) * 2 - 1) * bound)
                if mod.bias is not None:
                    mod.bias.copy_((torch.rand(mod.bias.shape, generator=g) * 2 - 1) * 0.2)
            elif isinstance(mod, nn.BatchNorm2d):
                n = mod.num_features
                mod.weight.copy_(0.5 + torch.rand(n, generator=g))
                mod.bias.copy_((torch.rand(n, generator=g) * 2 - 1) * 0.3)
                mod.running_mean.copy_((torch.rand(n, generator=g) * 2 - 1) * 0.5)
                mod.running_var.copy_(0.3 + 1.7 * torch.rand(n, generator=g))
            elif isinstance(mod, nn.PReLU):
                mod.weight.copy_(0.05 + 0.4 * torch.rand(mod.weight.shape, generator=g))
    return model.eval()


def conv_bn(cin, cout, k, stride=1, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout))


# ------------------------------------------------------------------ resnet_block

class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = conv_bn(cin, cout, 3, stride)
        self.c2 = conv_bn(cout, cout, 3)
        self.proj = conv_bn(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        y = self.c2(F.relu(self.c1(x)))
        return F.relu(y + (self.proj(x) if self.proj is not None else x))


class ResNetBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 16, 7, 2)
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.blocks = nn.Sequential(BasicBlock(16, 16, 1), BasicBlock(16, 32, 2),
                                    BasicBlock(32, 32, 1))
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.stem(x)))
        x = self.gap(self.blocks(x))
        return self.fc(torch.flatten(x, 1))


# ------------------------------------------------------------------ mobilenet_dw

class SqueezeExcite(nn.Module):
    def __init__(self, c, r):
        super().__init__()
        self.fc1 = nn.Conv2d(c, r, 1)
        self.fc2 = nn.Conv2d(r, c, 1)

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        s = F.hardsigmoid(self.fc2(F.relu(self.fc1(s))))
        return x * s                      # Mul with [N,C,1,1] broadcast


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, expand, stride, se, act):
        super().__init__()
        mid = cin * expand
        self.expand = conv_bn(cin, mid, 1)
        self.dw = conv_bn(mid, mid, 3, stride, groups=mid)
        self.se = SqueezeExcite(mid, max(4, mid // 4)) if se else None
        self.project = conv_bn(mid, cout, 1)
        self.act = act
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.act(self.expand(x))
        y = self.act(self.dw(y))
        if self.se is not None:
            y = self.se(y)
        y = self.project(y)
        return x + y if self.residual else y


class MobileNetDW(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 16, 3, 2)
        # depthwise-separable block (MobileNetV1 style): dw 3x3 + BN + ReLU6, pw 1x1 + BN
        self.ds_dw = conv_bn(16, 16, 3, 1, groups=16)
        self.ds_pw = conv_bn(16, 16, 1)
        self.b1 = InvertedResidual(16, 24, 4, 2, se=False, act=F.relu6)
        self.b2 = InvertedResidual(24, 24, 3, 1, se=True, act=F.relu6)
        self.b3 = InvertedResidual(24, 32, 3, 2, se=True, act=F.hardswish)
        self.b4 = InvertedResidual(32, 32, 3, 1, se=True, act=F.hardswish)
        self.head = conv_bn(32, 64, 1)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.hardswish(self.stem(x))
        x = self.ds_pw(F.relu6(self.ds_dw(x)))
        x = self.b4(self.b3(self.b2(self.b1(x))))
        x = F.hardswish(self.head(x))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


# ------------------------------------------------------------------ unet_small

def double_conv(cin, cout):
    return nn.Sequential(conv_bn(cin, cout, 3), nn.ReLU(), conv_bn(cout, cout, 3), nn.ReLU())


class UNetSmall(nn.Module):
    def __init__(self, w=8, n_classes=6):
        super().__init__()
        self.enc1 = double_conv(3, w)
        self.enc2 = double_conv(w, 2 * w)
        self.mid = double_conv(2 * w, 4 * w)
        self.up2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2)
        self.dec2 = double_conv(4 * w, 2 * w)
        self.up1 = nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                                 nn.Conv2d(2 * w, w, 1))
        self.dec1 = double_conv(2 * w, w)
        self.head = nn.Conv2d(w, n_classes, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        m = self.mid(F.max_pool2d(e2, 2))
        d2 = self.dec2(torch.cat([self.up2(m), e2], dim=1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
        return torch.softmax(self.head(d1), dim=1)


# ------------------------------------------------------------------ multispectral_13

S2_BANDS = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B09", "B10", "B11", "B12",
            "B8A"]
S2_MEAN = [1354.4, 1118.2, 1042.9, 947.6, 1199.5, 2003.0, 2374.0, 2301.2, 732.2, 12.1, 1820.7,
           1118.2, 2599.8]
S2_STD = [245.7, 333.0, 395.1, 593.8, 566.4, 861.2, 1086.6, 1118.0, 404.0, 4.8, 1002.6, 761.3,
          1231.6]
EUROSAT = ["AnnualCrop", "Forest", "HerbaceousVegetation", "Highway", "Industrial", "Pasture",
           "PermanentCrop", "Residential", "River", "SeaLake"]


class Multispectral13(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor(S2_MEAN).view(1, 13, 1, 1))
        self.register_buffer("std", torch.tensor(S2_STD).view(1, 13, 1, 1))
        self.c1 = conv_bn(13, 16, 3)
        self.c2 = conv_bn(16, 32, 3, 2)
        self.c3 = conv_bn(32, 32, 3)
        self.fc = nn.Linear(32, len(EUROSAT))

    def forward(self, x):
        x = (x - self.mean) / self.std
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.relu(self.c2(x))
        x = F.relu(self.c3(x) + x)
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


# ------------------------------------------------------------------ ops_misc

class OpsMisc(nn.Module):
    """Touches the operators a CNN export produces beyond conv/BN/ReLU. Input [2,4,16,16]."""

    def __init__(self):
        super().__init__()
        self.dil = nn.Conv2d(4, 8, 3, padding=2, dilation=2)
        self.grp = nn.Conv2d(8, 8, 3, padding=1, groups=2)
        self.prelu = nn.PReLU(8)
        self.fc = nn.Linear(8, 5)
        self.w = nn.Parameter(torch.zeros(8, 6))

    def parts(self, x):
        """Every intermediate of forward, by name (the generator checks ArgMax ties on mm)."""
        n = x.shape[0]
        a = F.leaky_relu(self.dil(x), 0.1)                               # [N,8,16,16]
        b = self.prelu(self.grp(a))
        c = torch.sigmoid(a) * torch.tanh(b) + 0.25 * F.hardswish(b)
        p1 = F.avg_pool2d(c, 3, 2, 1, count_include_pad=True)            # [N,8,8,8]
        p2 = F.avg_pool2d(c, 3, 2, 1, ceil_mode=True, count_include_pad=False)  # [N,8,9,9]
        d = F.pad(p1, (0, 1, 0, 1), mode="replicate") + p2               # Pad edge
        d = F.pad(d, (1, 2, 2, 1), mode="reflect")                       # [N,8,12,12]
        d = F.pad(d, (1, 1, 0, 2), mode="constant", value=0.5)           # [N,8,14,14]
        u = F.interpolate(p1, scale_factor=2, mode="nearest") + c        # [N,8,16,16]
        s = u[:, :, 1:-1, ::2]                                           # Slice [N,8,14,8]
        g = s[:, [0, 2, 3, 5]]                                           # Gather [N,4,14,8]
        g1 = s[:, 1]                                                     # Gather [N,14,8]
        ga, gb = torch.split(g, [2, 2], dim=1)                           # Split, equal
        gc, gd = torch.split(s, [3, 5], dim=1)                           # Split, unequal
        h = (ga * gb).sum(dim=1) + g1 - gc.sum(dim=1) + gd.sum(dim=1)    # ReduceSum [N,14,8]
        h = torch.unsqueeze(h, 1) * 0.5                                  # [N,1,14,8]
        h = torch.squeeze(h, 1) - d[:, 3, :, 3:11]                       # [N,14,8]
        m = u.mean(dim=(2, 3), keepdim=True)                             # ReduceMean
        var = ((u - m) ** 2).mean(dim=(2, 3), keepdim=True)              # Pow
        z = (u - m) / torch.sqrt(var + 1e-3)                             # Sqrt, Div
        e = torch.exp(-(z * 0.3))                                        # Neg, Exp
        f = e.permute(0, 2, 3, 1).reshape(n, -1, 8)                      # [N,256,8]
        mm = torch.matmul(f, self.w)                                     # MatMul [N,256,6]
        logits = self.fc(z.mean(dim=(2, 3)))                             # Gemm [N,5]
        return dict(n=n, h=h, d=d, mm=mm, logits=logits)

    def forward(self, x):
        p = self.parts(x)
        n = p["n"]
        out0 = F.log_softmax(p["logits"], dim=1)
        out1 = torch.argmax(p["mm"], dim=2)                              # [N,256] int64
        out2 = torch.cat([p["h"].reshape(n, -1), p["mm"].transpose(1, 2).reshape(n, -1),
                          p["d"].flatten(1)], dim=1)
        return out0, out1, out2


def ops_misc_init(model, seed):
    randomise(model, seed)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        model.w.copy_(torch.randn(8, 6, generator=g) * 0.5)
    return model


# ------------------------------------------------------------------ export helpers

def export(model, inputs, opset, in_names, out_names, dynamic_batch):
    dyn = None
    if dynamic_batch:
        dyn = {nm: {0: "N"} for nm in in_names + out_names}
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(model, tuple(inputs), buf, opset_version=opset, input_names=in_names,
                          output_names=out_names, dynamic_axes=dyn, do_constant_folding=True,
                          training=torch.onnx.TrainingMode.PRESERVE)
    return onnx.load_from_string(buf.getvalue())


def upgrade_to_18(mp):
    """Opset 17 -> 18 for the ops used here: Reduce* (not ReduceSum) axes attribute -> input,
    Split with equal sizes -> num_outputs attribute."""
    g = mp.graph
    inits = {t.name: t for t in g.initializer}
    consts = {}
    for nd in g.node:
        if nd.op_type == "Constant":
            consts[nd.output[0]] = numpy_helper.to_array(nd.attribute[0].t)
    counter = 0
    for nd in g.node:
        if nd.op_type.startswith("Reduce") and nd.op_type != "ReduceSum":
            axes = [a for a in nd.attribute if a.name == "axes"]
            if axes:
                name = "opset18_axes_%d" % counter
                counter += 1
                g.initializer.append(numpy_helper.from_array(
                    np.array(list(axes[0].ints), dtype=np.int64), name))
                nd.attribute.remove(axes[0])
                nd.input.append(name)
        elif nd.op_type == "Split" and len(nd.input) == 2:
            src = inits.get(nd.input[1])
            sizes = numpy_helper.to_array(src) if src is not None else consts.get(nd.input[1])
            if sizes is not None and len(set(sizes.tolist())) == 1 and len(sizes) == len(nd.output):
                del nd.input[1]
                nd.attribute.append(helper.make_attribute("num_outputs", len(nd.output)))
    for op in mp.opset_import:
        if op.domain in ("", "ai.onnx"):
            op.version = 18
    mp.ir_version = max(mp.ir_version, 8)
    # drop Constant nodes and initializers that nothing reads any more (the Split sizes)
    used = {i for nd in g.node for i in nd.input} | {o.name for o in g.output}
    for nd in [nd for nd in g.node if nd.op_type == "Constant" and nd.output[0] not in used]:
        g.node.remove(nd)
    for t in [t for t in g.initializer if t.name not in used]:
        g.initializer.remove(t)
    return mp


def op_types(mp):
    return sorted({nd.op_type for nd in mp.graph.node})


def check_topology(mp):
    """What onnx.checker cannot do for an opset newer than it knows: every node input is a
    graph input, an initializer or an earlier node's output; every graph output is produced."""
    known = {v.name for v in mp.graph.input} | {t.name for t in mp.graph.initializer} | {""}
    for nd in mp.graph.node:
        for i in nd.input:
            if i not in known:
                raise SystemExit("node %s reads undefined value %s" % (nd.name, i))
        known.update(nd.output)
    for o in mp.graph.output:
        if o.name not in known:
            raise SystemExit("graph output %s is never produced" % o.name)


def check(mp, opset):
    """onnx.checker (full, with shape inference) where onnx knows the opset; returns the opset
    checked at. Newer opsets only get check_topology here: the caller checks the model before its
    hand upgrade."""
    if opset <= onnx.defs.onnx_opset_version():
        onnx.checker.check_model(mp, full_check=True)
        return opset
    check_topology(mp)
    return None


def save_npy(path, arr):
    with open(path, "wb") as f:
        np.save(f, np.ascontiguousarray(arr), allow_pickle=False)


def write_case(out_dir, name, mp, inputs, outputs, opset, tol, dynamic_batch, desc, want_ops):
    have = op_types(mp)
    missing = sorted(set(want_ops) - set(have))
    if missing:
        raise SystemExit("%s: exported graph lacks %s (has %s)" % (name, missing, have))
    checked = check(mp, opset)
    if checked is None:
        checked = "%d before upgrade_to_18, topology after" % onnx.defs.onnx_opset_version()
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.endswith(".npy") or f in ("model.onnx", "meta.json"):
            os.remove(os.path.join(d, f))
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(mp.SerializeToString())
    for kind, arrs in (("input", inputs), ("output", outputs)):
        for i, a in enumerate(arrs):
            fn = kind + (".npy" if len(arrs) == 1 else "_%d.npy" % i)
            save_npy(os.path.join(d, fn), a)
    meta = {
        "name": name,
        "description": desc,
        "opset": opset,
        "checked_at_opset": checked,
        "tolerance": tol,
        "dynamic_batch": dynamic_batch,
        "inputs": [{"name": v.name, "shape": list(a.shape), "dtype": str(a.dtype)}
                   for v, a in zip(mp.graph.input, inputs)],
        "outputs": [{"name": v.name, "shape": list(a.shape), "dtype": str(a.dtype)}
                    for v, a in zip(mp.graph.output, outputs)],
        "op_types": have,
        "generator": "tools/gen_golden.py",
        "torch": torch.__version__.split("+")[0],
    }
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print("%-18s opset %-2d %7d bytes  ops: %s" % (name, opset, size, " ".join(have)))


def run_torch(model, inputs):
    """torch's outputs, computed in float64 on a copy of the model and rounded to float32 once:
    a better reference than one fp32 rounding order, and independent of which BLAS torch uses
    (Debian's libblas.so.3 alternative changes when OpenBLAS is installed), so the files stay
    reproducible."""
    m64 = copy.deepcopy(model).double()
    with torch.no_grad():
        y = m64(*[t.double() for t in inputs])
    ys = y if isinstance(y, tuple) else (y,)
    return [t.float().numpy() if t.is_floating_point() else t.numpy() for t in ys]


def rand_input(shape, seed, lo=None, hi=None):
    rng = np.random.default_rng(seed)
    if lo is None:
        return rng.standard_normal(shape).astype(np.float32)
    return rng.uniform(lo, hi, shape).astype(np.float32)


# ------------------------------------------------------------------ the cases

def case_resnet_block(out):
    torch.manual_seed(1)
    m = randomise(ResNetBlock(), 1)
    x = rand_input((2, 3, 64, 64), 101)
    mp = export(m, [torch.from_numpy(x)], 17, ["input"], ["logits"], dynamic_batch=True)
    ys = run_torch(m, [torch.from_numpy(x)])
    write_case(out, "resnet_block", mp, [x], ys, 17, DEFAULT_TOL, True,
               "ResNet-style: 7x7/2 stem+BN+ReLU, maxpool 3x3/2, 3 basic blocks (identity and "
               "1x1/2 projection shortcuts), global avg pool, flatten, linear; dynamic batch",
               ["Conv", "BatchNormalization", "Relu", "MaxPool", "Add", "GlobalAveragePool",
                "Flatten", "Gemm"])


def case_mobilenet_dw(out):
    torch.manual_seed(2)
    m = randomise(MobileNetDW(), 2)
    x = rand_input((1, 3, 48, 48), 102)
    mp = export(m, [torch.from_numpy(x)], 13, ["input"], ["logits"], dynamic_batch=False)
    ys = run_torch(m, [torch.from_numpy(x)])
    write_case(out, "mobilenet_dw", mp, [x], ys, 13, DEFAULT_TOL, False,
               "MobileNetV2/V3-style: depthwise separable block, inverted residuals, ReLU6 "
               "(Clip), HardSwish (HardSigmoid*x at opset 13), HardSigmoid squeeze-excite",
               ["Conv", "BatchNormalization", "Clip", "HardSigmoid", "Mul", "Add",
                "GlobalAveragePool", "Gemm"])


def case_unet_small(out):
    torch.manual_seed(3)
    m = randomise(UNetSmall(), 3)
    x = rand_input((1, 3, 32, 32), 103)
    mp = export(m, [torch.from_numpy(x)], 11, ["input"], ["probs"], dynamic_batch=False)
    ys = run_torch(m, [torch.from_numpy(x)])
    write_case(out, "unet_small", mp, [x], ys, 11, DEFAULT_TOL, False,
               "U-Net, 2 levels, base width 8: conv+BN+ReLU, maxpool, ConvTranspose 2x2/2 up, "
               "bilinear Resize (opset 11, align_corners=False) + 1x1 conv up, skip Concat, "
               "1x1 head to 6 classes, Softmax over channels",
               ["Conv", "BatchNormalization", "Relu", "MaxPool", "ConvTranspose", "Resize",
                "Concat"])


def case_multispectral_13(out):
    torch.manual_seed(4)
    m = randomise(Multispectral13(), 4)
    mean = np.array(S2_MEAN, np.float32).reshape(1, 13, 1, 1)
    std = np.array(S2_STD, np.float32).reshape(1, 13, 1, 1)
    x = (mean + std * rand_input((2, 13, 32, 32), 104)).astype(np.float32)
    x = np.maximum(x, 0).astype(np.float32)
    mp = export(m, [torch.from_numpy(x)], 17, ["input"], ["logits"], dynamic_batch=True)
    props = {
        "eosight.task": "classification",
        "eosight.classes": ",".join(EUROSAT),
        "eosight.bands": ",".join(S2_BANDS),
        "eosight.norm.mean": ",".join(repr(v) for v in S2_MEAN),
        "eosight.norm.std": ",".join(repr(v) for v in S2_STD),
    }
    helper.set_model_props(mp, props)
    ys = run_torch(m, [torch.from_numpy(x)])
    write_case(out, "multispectral_13", mp, [x], ys, 17, DEFAULT_TOL, True,
               "13-band Sentinel-2 CNN with in-graph normalisation (Sub mean, Div std per band) "
               "and eosight.* metadata_props",
               ["Sub", "Div", "Conv", "BatchNormalization", "Relu", "MaxPool", "Add", "Gemm"])


OPS_MISC_WANT = ["LeakyRelu", "PRelu", "Sigmoid", "Tanh", "AveragePool", "Pad", "Resize",
                 "Gemm", "MatMul", "Transpose", "Reshape", "Squeeze", "Unsqueeze", "Split",
                 "Slice", "Gather", "ReduceMean", "ReduceSum", "Exp", "Sqrt", "Pow", "Neg", "Div",
                 "LogSoftmax", "ArgMax", "Conv", "Concat", "Mul", "Add", "Sub"]


def argmax_margin(y, axis):
    s = np.sort(y, axis=axis)
    top2 = np.take(s, [-1, -2], axis=axis)
    return float(np.min(np.take(top2, 0, axis=axis) - np.take(top2, 1, axis=axis)))


def case_ops_misc(out, opset):
    export_opset = 17 if opset == 18 else opset
    torch.manual_seed(5)
    m = ops_misc_init(OpsMisc(), 5)
    # pick the first input whose ArgMax has a clear winner everywhere (no near ties)
    for seed in range(105, 205):
        x = rand_input((2, 4, 16, 16), seed)
        ys = run_torch(m, [torch.from_numpy(x)])
        with torch.no_grad():
            ref = copy.deepcopy(m).double().parts(torch.from_numpy(x).double())["mm"].numpy()
        if argmax_margin(ref, 2) > 1e-3 * float(np.max(np.abs(ref))):
            break
    else:
        raise SystemExit("ops_misc: no input without ArgMax near-ties")
    mp = export(m, [torch.from_numpy(x)], export_opset, ["input"],
                ["log_probs", "argmax", "mixed"], dynamic_batch=False)
    want = list(OPS_MISC_WANT)
    if opset >= 14:
        want.append("HardSwish")
    else:
        want.append("HardSigmoid")
    if opset == 18:
        check(mp, export_opset)       # the opset-17 export, fully checked before the upgrade
        mp = upgrade_to_18(mp)
    name = "ops_misc_%d" % opset
    write_case(out, name, mp, [x], ys, opset, DEFAULT_TOL, False,
               "misc CNN-export operators at opset %d (axes as %s)" %
               (opset, "attributes" if opset < 13 else "inputs"), want)


CASES = {
    "resnet_block": case_resnet_block,
    "mobilenet_dw": case_mobilenet_dw,
    "unet_small": case_unet_small,
    "multispectral_13": case_multispectral_13,
    "ops_misc_11": lambda out: case_ops_misc(out, 11),
    "ops_misc_13": lambda out: case_ops_misc(out, 13),
    "ops_misc_18": lambda out: case_ops_misc(out, 18),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--only", default="", help="comma-separated case names")
    a = ap.parse_args()
    torch.set_num_threads(1)          # deterministic float reductions in the torch reference
    names = [n for n in a.only.split(",") if n] or list(CASES)
    for n in names:
        if n not in CASES:
            sys.exit("unknown case %s (have %s)" % (n, ", ".join(CASES)))
    os.makedirs(a.out, exist_ok=True)
    for n in names:
        CASES[n](a.out)


if __name__ == "__main__":
    main()
