#!/usr/bin/env python3
"""Train the cheque fraud model on features dumped by the Rust pipeline, export it to ONNX.

Input: CSVs written by `cargo run --release -p jachai-verify --example cheque_features`
(columns name, variant, fraud, rule_risk, then the features in `verify::cheque::fraud::FEATURES`
order). Training uses only the training CSV; the held-out CSV (another generator seed) is
scored here for the model card and again in Rust (tract) by the `cheque_eval` example.

    bash scripts/cheque-fraud-venv.sh
    models/.venv/bin/python models/train_cheque_fraud.py \
        --train target/cheque-train.csv --out models/cheque-fraud.onnx \
        --check verify/tests/data/cheque-fraud-check.json
    # then, in Rust (tract, whole pipeline): cheque_eval --seed 2 --count 300 --csv target/cheque-heldout.csv
    # and the same held-out vectors scored in Python: add --heldout target/cheque-heldout.csv
"""

import argparse
import csv
import json
import sys

import numpy as np
import onnx.helper
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import confusion_matrix, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType


# skl2onnx 1.18 passes `nodes_missing_value_tracks_true` as Python bools, which onnx 1.17's
# make_attribute refuses for an INTS attribute: hand it ints.
_make_attribute = onnx.helper.make_attribute


def _make_attribute_ints(key, value, *args, **kwargs):
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (bool, np.bool_)) for v in value):
        value = [int(v) for v in value]
    return _make_attribute(key, value, *args, **kwargs)


onnx.helper.make_attribute = _make_attribute_ints


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    names = header[4:]
    x = np.array([[float(v) for v in r[4:]] for r in body], dtype=np.float32)
    y = np.array([int(r[2]) for r in body])
    variants = [r[1] for r in body]
    rules = np.array([float(r[3]) for r in body])
    return names, x, y, variants, rules


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--heldout", help="held-out CSV (cheque_eval --csv): print its metrics")
    ap.add_argument("--out", required=True)
    ap.add_argument("--check", help="write a few held-out vectors and probabilities (JSON) for the Rust test")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()

    names, x, y, v, rules = load(a.train)
    if a.heldout:
        names_h, xh, yh, vh, rules_h = load(a.heldout)
        if names != names_h:
            sys.exit("feature columns differ between the CSVs")
    else:
        xh, yh, vh, rules_h = x, y, v, rules
    # Settings chosen by 5-fold cross-validation on the training set only (never on the held-out
    # set): the grid is small on purpose, the data is a few hundred cheques.
    grid = [
        dict(n_estimators=n, max_depth=d, learning_rate=lr)
        for n in (150, 300)
        for d in (2, 3)
        for lr in (0.05, 0.1)
    ]
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=a.seed)
    best, best_auc = None, -1.0
    for g in grid:
        m = GradientBoostingClassifier(subsample=0.9, random_state=a.seed, **g)
        cv = cross_val_score(m, x, y, cv=folds, scoring="roc_auc").mean()
        print(f"cv {g}: AUC {cv:.4f}")
        if cv > best_auc:
            best, best_auc = g, cv
    print(f"chosen {best} (cv AUC {best_auc:.4f})")
    model = GradientBoostingClassifier(subsample=0.9, random_state=a.seed, **best)
    model.fit(x, y)
    p = model.predict_proba(xh)[:, 1]
    auc = roc_auc_score(yh, p)
    auc_rules = roc_auc_score(yh, rules_h)
    risk = np.round(p * 100)
    verdict = np.where(risk >= 60, 2, np.where(risk >= 30, 1, 0))
    what = "held-out" if a.heldout else "TRAINING set (no --heldout given; not a held-out figure)"
    print(f"train {len(y)} ({y.sum()} fraud); scored: {what}, {len(yh)} ({yh.sum()} fraud)")
    print(f"ROC AUC model {auc:.4f}, rules {auc_rules:.4f}")
    cm = np.zeros((2, 3), dtype=int)
    for t, v in zip(yh, verdict):
        cm[t, v] += 1
    print("confusion (rows clean/fraud; cols legitimate/suspicious/fraudulent):")
    print(cm)
    print("binary at 0.5:", confusion_matrix(yh, (p >= 0.5).astype(int)).tolist())
    for v in sorted(set(vh)):
        idx = [i for i, s in enumerate(vh) if s == v]
        print(f"  {v:<18} n={len(idx):4d} mean p={p[idx].mean():.3f} caught@30={np.mean(risk[idx] >= 30):.2f}")
    imp = sorted(zip(model.feature_importances_, names), reverse=True)
    print("importances:", ", ".join(f"{n}={w:.3f}" for w, n in imp[:12]))

    onx = to_onnx(
        model,
        initial_types=[("features", FloatTensorType([1, x.shape[1]]))],
        options={id(model): {"zipmap": False}},
        target_opset={"": 15, "ai.onnx.ml": 3},
    )
    # skl2onnx writes one base value for a binary ensemble whose leaves all score class id 0;
    # tract wants one per class label (it reads the binary layout from column 0): pad with 0.
    for node in onx.graph.node:
        if node.op_type == "TreeEnsembleClassifier":
            for at in node.attribute:
                if at.name == "base_values" and len(at.floats) == 1:
                    at.floats.append(0.0)
    with open(a.out, "wb") as f:
        f.write(onx.SerializeToString())
    ops = sorted({n.op_type for n in onx.graph.node})
    print(f"wrote {a.out}: ops {ops}")
    if a.check:
        pick = list(range(0, len(yh), max(1, len(yh) // 12)))[:12]
        data = {
            "features": [xh[i].tolist() for i in pick],
            "probability": [float(model.predict_proba(xh[i : i + 1])[0, 1]) for i in pick],
        }
        with open(a.check, "w") as f:
            json.dump(data, f, indent=1)
    json.dump(
        {
            "train": len(y),
            "params": best,
            "cv_auc": best_auc,
            "train_fraud": int(y.sum()),
            "scored_on": "heldout" if a.heldout else "train",
            "heldout": len(yh),
            "heldout_fraud": int(yh.sum()),
            "auc": auc,
            "auc_rules": auc_rules,
            "confusion": cm.tolist(),
            "importances": {n: float(w) for w, n in imp},
        },
        sys.stdout,
        indent=1,
    )
    print()


if __name__ == "__main__":
    main()
