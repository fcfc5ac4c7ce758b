#!/usr/bin/env python3
"""Train models/ai-image.onnx: a detector of the up-sampling trace that convolutional decoders
(GAN generators, the VAE decoder of latent-diffusion models) leave in the pictures they make.

No generator's output can be had offline, so the positives are a *proxy*: real photos taken down
to a "latent" (1/8 or 1/4 size) and decoded back by learned up-sampling decoders of the kinds
generators use (nearest up-sampling + 3x3 convolution, transposed convolution = one filter per
output phase), their weights fitted by least squares on the training photos. Negatives are the
same photos, as the camera wrote them and halved (area) then saved as PNG or JPEG. Every source
photo is in the training or the held-out part, never both; a fourth decoder kind (bilinear
up-sampling + convolution) is never trained on and is reported apart.

The ONNX graph holds the whole computation, so the kiosk feeds it RGB pixels:
  RGB crop [1,3,256,256] (0..255) -> luma (1x1 conv) -> Laplacian residual (3x3, valid) -> |r|
  -> for period p in 2, 4, 8: mean |r| per phase (i mod p, j mod p) over the 248x248 window,
     divided by the window mean, log -> 4 + 16 + 64 values; plus log(1 + mean |r|)
  -> standardise -> 85 -> 16 (ReLU) -> 1 (sigmoid) = probability of a decoder trace.
Crops must start at multiples of 8 (the phase of a decoder's grid is the picture's origin).

Usage: models/.venv/bin/python models/train_ai_image.py --shared ../shared [--out models]
Writes models/ai-image.onnx, models/ai-image-eval.json (held-out figures),
verify/tests/data/ai-image-check.json (inputs + probabilities for the tract equivalence test) and
verify/tests/data/ai-proxy-crop.png (one decoded crop, for that test).
"""

import argparse
import hashlib
import io
import json
import os
import sys

import numpy as np
from PIL import Image

import onnx
from onnx import TensorProto, helper, numpy_helper
import onnxruntime as ort
from sklearn.neural_network import MLPClassifier
from sklearn.metrics import roc_auc_score

CROP = 256
WIN = 248  # the Laplacian's valid output (254) cut to a multiple of 8
PERIODS = (2, 4, 8)
N_FEATURES = sum(p * p for p in PERIODS) + 1
EPS = 1e-3
MAX_SIDE = 768  # pictures are cut to at most this (multiple of 8) before anything else


def load_rgb(path):
    img = Image.open(path)
    img = img.convert("RGB")
    a = np.asarray(img, dtype=np.float32)
    h = min(a.shape[0], MAX_SIDE) // 8 * 8
    w = min(a.shape[1], MAX_SIDE) // 8 * 8
    return a[:h, :w]


def down(a, f):
    h, w = a.shape[0] // f, a.shape[1] // f
    return a[: h * f, : w * f].reshape(h, f, w, f, 3).mean(axis=(1, 3))


def nearest_up(a):
    return a.repeat(2, axis=0).repeat(2, axis=1)


def bilinear_up(a):
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    up = img.resize((a.shape[1] * 2, a.shape[0] * 2), Image.BILINEAR)
    return np.asarray(up, dtype=np.float32)


def neighbourhood(a):
    """[H, W, 27 + 1]: the 3x3x3 neighbourhood of each pixel (edge-padded) and a 1."""
    p = np.pad(a, ((1, 1), (1, 1), (0, 0)), mode="edge")
    cols = [p[dy : dy + a.shape[0], dx : dx + a.shape[1], :] for dy in range(3) for dx in range(3)]
    x = np.concatenate(cols, axis=2)
    return np.concatenate([x, np.ones(a.shape[:2] + (1,), np.float32)], axis=2)


class Decoder:
    """Up-sampling stages (x2 each) with least-squares-fitted 3x3 filters."""

    def __init__(self, kind, stages):
        self.kind, self.stages, self.w = kind, stages, []

    def _inputs(self, low):
        if self.kind == "nearest":
            return neighbourhood(nearest_up(low)), None
        if self.kind == "bilinear":
            return neighbourhood(bilinear_up(low)), None
        # transposed convolution: the low-res neighbourhood, one filter per output phase
        return nearest_up(neighbourhood(low)), True

    def fit(self, photos, rng):
        f = 2 ** self.stages
        for s in range(self.stages):
            xs, ys = [], []
            for a in photos:
                low = down(a, f // 2**s)
                high = down(a, f // 2 ** (s + 1))
                x, phased = self._inputs(low)
                h, w = high.shape[:2]
                x = x[:h, :w]
                idx = rng.choice(h * w, size=min(h * w, 4000), replace=False)
                yy, xx = np.unravel_index(idx, (h, w))
                phase = (yy % 2) * 2 + (xx % 2) if phased else np.zeros_like(yy)
                xs.append((x[yy, xx], phase))
                ys.append(high[yy, xx])
            x = np.concatenate([v[0] for v in xs])
            ph = np.concatenate([v[1] for v in xs])
            y = np.concatenate(ys)
            ws = []
            for k in range(4 if self.kind == "tconv" else 1):
                m = ph == k
                ws.append(np.linalg.lstsq(x[m], y[m], rcond=None)[0])
            self.w.append(ws)

    def decode(self, a):
        f = 2 ** self.stages
        cur = down(a, f)
        for ws in self.w:
            x, phased = self._inputs(cur)
            if phased:
                h, w = x.shape[:2]
                yy, xx = np.mgrid[0:h, 0:w]
                phase = (yy % 2) * 2 + (xx % 2)
                out = np.zeros((h, w, 3), np.float32)
                for k, wk in enumerate(ws):
                    m = phase == k
                    out[m] = x[m] @ wk
                cur = out
            else:
                cur = x @ ws[0]
            cur = np.clip(cur, 0, 255)
        return cur


def save_as(a, fmt, quality=None):
    img = Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    if fmt == "png":
        img.save(buf, "PNG")
    else:
        img.save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), dtype=np.float32)


def crops(a, n):
    """Up to n crops at offsets on the 8-pixel grid: centre and corners."""
    h, w = a.shape[:2]
    if h < CROP or w < CROP:
        return []
    ys = [((h - CROP) // 2) // 8 * 8, 0, (h - CROP) // 8 * 8]
    xs = [((w - CROP) // 2) // 8 * 8, 0, (w - CROP) // 8 * 8]
    spots = [(ys[0], xs[0]), (ys[1], xs[1]), (ys[2], xs[2]), (ys[1], xs[2]), (ys[2], xs[1])]
    out = []
    for y, x in spots[:n]:
        out.append(a[y : y + CROP, x : x + CROP])
    return out


def features(crop):
    """The graph's features, in numpy (checked against onnxruntime below)."""
    y = crop[..., 0] * 0.299 + crop[..., 1] * 0.587 + crop[..., 2] * 0.114
    r = 4 * y[1:-1, 1:-1] - y[:-2, 1:-1] - y[2:, 1:-1] - y[1:-1, :-2] - y[1:-1, 2:]
    a = np.abs(r[:WIN, :WIN])
    m = a.mean()
    out = []
    for p in PERIODS:
        ph = a.reshape(WIN // p, p, WIN // p, p).mean(axis=(0, 2)).reshape(-1)
        out.append(np.log((ph + EPS) / (m + EPS)))
    out.append(np.array([np.log(1 + m)]))
    return np.concatenate(out).astype(np.float32)


def build_graph(mean, std, w1, b1, w2, b2):
    init = [
        numpy_helper.from_array(np.array([0.299, 0.587, 0.114], np.float32).reshape(1, 3, 1, 1), "luma_w"),
        numpy_helper.from_array(
            np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], np.float32).reshape(1, 1, 3, 3), "lap_w"
        ),
        numpy_helper.from_array(np.array([0, 0, 0, 0], np.int64), "win_start"),
        numpy_helper.from_array(np.array([1, 1, WIN, WIN], np.int64), "win_end"),
        numpy_helper.from_array(np.array(EPS, np.float32), "eps"),
        numpy_helper.from_array(np.array(1.0, np.float32), "one"),
        numpy_helper.from_array(mean.astype(np.float32).reshape(1, -1), "mean"),
        numpy_helper.from_array(std.astype(np.float32).reshape(1, -1), "std"),
        numpy_helper.from_array(w1.astype(np.float32), "w1"),
        numpy_helper.from_array(b1.astype(np.float32), "b1"),
        numpy_helper.from_array(w2.astype(np.float32), "w2"),
        numpy_helper.from_array(b2.astype(np.float32), "b2"),
    ]
    nodes = [
        helper.make_node("Conv", ["rgb", "luma_w"], ["luma"]),
        helper.make_node("Conv", ["luma", "lap_w"], ["lap"]),
        helper.make_node("Slice", ["lap", "win_start", "win_end"], ["win"]),
        helper.make_node("Abs", ["win"], ["absr"]),
        helper.make_node("ReduceMean", ["absr"], ["m"], axes=[2, 3], keepdims=1),
        helper.make_node("Reshape", ["m", "shape_11"], ["m11"]),
        helper.make_node("Add", ["m11", "eps"], ["m_eps"]),
    ]
    init.append(numpy_helper.from_array(np.array([1, 1], np.int64), "shape_11"))
    parts = []
    for p in PERIODS:
        n = WIN // p
        init.append(numpy_helper.from_array(np.array([n, p, n, p], np.int64), f"shape_{p}"))
        init.append(numpy_helper.from_array(np.array([1, p * p], np.int64), f"flat_{p}"))
        nodes += [
            helper.make_node("Reshape", ["absr", f"shape_{p}"], [f"r{p}"]),
            helper.make_node("ReduceMean", [f"r{p}"], [f"ph{p}"], axes=[0, 2], keepdims=0),
            helper.make_node("Reshape", [f"ph{p}", f"flat_{p}"], [f"phf{p}"]),
            helper.make_node("Add", [f"phf{p}", "eps"], [f"phe{p}"]),
            helper.make_node("Div", [f"phe{p}", "m_eps"], [f"rat{p}"]),
            helper.make_node("Log", [f"rat{p}"], [f"f{p}"]),
        ]
        parts.append(f"f{p}")
    nodes += [
        helper.make_node("Add", ["m11", "one"], ["m1"]),
        helper.make_node("Log", ["m1"], ["level"]),
        helper.make_node("Concat", parts + ["level"], ["feat"], axis=1),
        helper.make_node("Sub", ["feat", "mean"], ["c"]),
        helper.make_node("Div", ["c", "std"], ["z"]),
        helper.make_node("Gemm", ["z", "w1", "b1"], ["h"]),
        helper.make_node("Relu", ["h"], ["hr"]),
        helper.make_node("Gemm", ["hr", "w2", "b2"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["probability"]),
    ]
    graph = helper.make_graph(
        nodes,
        "ai_image_decoder_trace",
        [helper.make_tensor_value_info("rgb", TensorProto.FLOAT, [1, 3, CROP, CROP])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, [1, 1])],
        init,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def held_out(name):
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % 10 < 3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--out", default="models")
    ap.add_argument("--check-out", default="verify/tests/data/ai-image-check.json")
    args = ap.parse_args()
    rng = np.random.default_rng(20261207)

    paths = []
    micc = os.path.join(args.shared, "data/micc-f220")
    for f in sorted(os.listdir(micc)):
        if f.lower().endswith(".jpg") and "tamp" not in f:
            paths.append(os.path.join(micc, f))
    for root, _, files in os.walk(os.path.join(args.shared, "data/exif-samples/jpg")):
        if "invalid" in root:
            continue
        for f in sorted(files):
            if f.lower().endswith(".jpg"):
                paths.append(os.path.join(root, f))
    photos = []
    for p in paths:
        try:
            a = load_rgb(p)
        except Exception as e:  # a sample the decoder refuses is left out
            print(f"skip {p}: {e}", file=sys.stderr)
            continue
        if a.shape[0] >= CROP and a.shape[1] >= CROP:
            photos.append((os.path.relpath(p, args.shared), a))
    train = [(n, a) for n, a in photos if not held_out(n)]
    test = [(n, a) for n, a in photos if held_out(n)]
    print(f"photos: {len(photos)} ({len(train)} training, {len(test)} held out)")

    fit_set = [a for _, a in train[:40]]
    decoders = {
        "nearest-x8": Decoder("nearest", 3),
        "nearest-x4": Decoder("nearest", 2),
        "tconv-x8": Decoder("tconv", 3),
        "bilinear-x8 (never trained on)": Decoder("bilinear", 3),
    }
    for d in decoders.values():
        d.fit(fit_set, rng)

    def variants(a, i):
        """(label, group, picture): real as shot, real halved (PNG / JPEG), decoded (PNG / JPEG)."""
        half = down(a, 2)
        yield 0, "photo as shot", a
        yield 0, "photo halved, PNG", save_as(half, "png")
        yield 0, "photo halved, JPEG q90", save_as(half, "jpeg", 90)
        for name, d in decoders.items():
            dec = d.decode(a)
            fmt = "png" if i % 2 == 0 else "jpeg"
            q = 90 + (i % 3) * 3
            yield 1, f"{name}, {fmt.upper()}", save_as(dec, fmt, q)

    def dataset(items):
        xs, ys, groups, raw = [], [], [], []
        for i, (name, a) in enumerate(items):
            for label, group, pic in variants(a, i):
                for c in crops(pic, 3):
                    xs.append(features(c))
                    ys.append(label)
                    groups.append(group)
                    raw.append((name, group, c))
        return np.array(xs), np.array(ys), groups, raw

    xtr, ytr, gtr, _ = dataset(train)
    xte, yte, gte, raw_te = dataset(test)
    trained = np.array(["never trained" not in g for g in gtr])
    xtr, ytr = xtr[trained], ytr[trained]
    mean, std = xtr.mean(axis=0), xtr.std(axis=0) + 1e-6
    clf = MLPClassifier(hidden_layer_sizes=(16,), alpha=1e-3, max_iter=2000, random_state=7)
    clf.fit((xtr - mean) / std, ytr)
    p_te = clf.predict_proba((xte - mean) / std)[:, 1]

    threshold = 0.9
    per_group = {}
    for g in sorted(set(gte)):
        m = np.array([x == g for x in gte])
        per_group[g] = {"crops": int(m.sum()), "flagged": float((p_te[m] >= threshold).mean())}
    real = yte == 0
    seen = np.array(["never trained" not in g for g in gte])
    figures = {
        "threshold": threshold,
        "held_out_photos": len(test),
        "training_photos": len(train),
        "auc_trained_decoders": float(roc_auc_score(yte[seen], p_te[seen])),
        "tpr_trained_decoders": float((p_te[seen & ~real] >= threshold).mean()),
        "tpr_untrained_decoder": float((p_te[~seen] >= threshold).mean()),
        "fpr_photos": float((p_te[real] >= threshold).mean()),
        "per_group": per_group,
    }
    print(json.dumps(figures, indent=1))

    model = build_graph(mean, std, clf.coefs_[0], clf.intercepts_[0], clf.coefs_[1], clf.intercepts_[1])
    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, "ai-image.onnx")
    onnx.save(model, onnx_path)
    with open(os.path.join(args.out, "ai-image-eval.json"), "w") as f:
        json.dump(figures, f, indent=1)

    # onnxruntime against numpy + scikit-learn on held-out crops
    sess = ort.InferenceSession(onnx_path)
    worst = 0.0
    for k in range(0, len(raw_te), max(1, len(raw_te) // 40)):
        c = raw_te[k][2]
        got = sess.run(None, {"rgb": c.transpose(2, 0, 1)[None].astype(np.float32)})[0][0, 0]
        worst = max(worst, abs(float(got) - float(p_te[k])))
    print(f"onnxruntime vs scikit-learn: max |diff| {worst:.2e}")
    assert worst < 1e-3

    # For the tract test: photos from ../shared (crop offsets) and their probabilities.
    checks = []
    for name, a in test[:4]:
        for (y, x) in [(0, 0), (8 * ((a.shape[0] - CROP) // 16), 8 * ((a.shape[1] - CROP) // 16))]:
            c = a[y : y + CROP, x : x + CROP]
            p = sess.run(None, {"rgb": c.transpose(2, 0, 1)[None].astype(np.float32)})[0][0, 0]
            checks.append({"file": name, "y": int(y), "x": int(x), "probability": float(p)})
    # One decoded picture's crop, kept in the repo (a proxy, not a real generator's output).
    proxy_path = os.path.join(os.path.dirname(args.check_out), "ai-proxy-crop.png")
    name, a = test[0]
    proxy = save_as(decoders["nearest-x8"].decode(a), "png")[:CROP, :CROP]
    Image.fromarray(proxy.astype(np.uint8)).save(proxy_path)
    p = sess.run(None, {"rgb": proxy.transpose(2, 0, 1)[None].astype(np.float32)})[0][0, 0]
    checks.append({"file": "repo:" + os.path.basename(proxy_path), "y": 0, "x": 0, "probability": float(p)})
    with open(args.check_out, "w") as f:
        json.dump({"crop": CROP, "max_side": MAX_SIDE, "checks": checks}, f, indent=1)
    print(f"wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes), {args.check_out}")


if __name__ == "__main__":
    main()
