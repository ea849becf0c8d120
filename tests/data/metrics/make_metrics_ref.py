"""Reference values for tests/test_metrics.c from scikit-learn 1.2 (run with /usr/bin/python3).

For each case: labels drawn with skewed class probabilities (one class never drawn, so it has no
support), f32 logits = N(0, 1) noise plus a margin on the true class (continuous draws: no ties
within a row, checked below, since sklearn breaks top-k ties towards the HIGHER index and imbal
towards the lower one), predictions = argmax of the logits. Saves <case>_labels.npy (i32),
<case>_logits.npy (f32 [n, C]), <case>_preds.npy (i32), <case>_confusion.npy (i64 [C, C]),
<case>_per_class.txt (C rows: precision, recall, f1, f-beta(0.5)) and one line per case in
cases.txt: name C k n accuracy balanced_accuracy macro_precision macro_recall macro_f1
macro_fbeta weighted_f1 gmean top_k_accuracy.

G-mean: imbalanced-learn is not installed; it is computed here with numpy as the geometric mean
of the per-class recall over the classes with support (the definition in include/imbal/metrics.h).
"""
import numpy as np
import sklearn
from sklearn.metrics import (accuracy_score, balanced_accuracy_score, confusion_matrix,
                             f1_score, fbeta_score, precision_recall_fscore_support,
                             precision_score, recall_score, top_k_accuracy_score)

assert sklearn.__version__.startswith("1.2"), sklearn.__version__

BETA = 0.5
# name, C, k, n, margin, seed
CASES = [("c2", 2, 1, 300, 0.7, 1), ("c5", 5, 3, 500, 0.8, 2), ("c10", 10, 5, 1000, 1.2, 3),
         ("c37", 37, 5, 2000, 2.0, 4)]


def main():
    lines = []
    for name, C, k, n, margin, seed in CASES:
        rng = np.random.default_rng(seed)
        # Skewed (Zipf-like) class probabilities; for C > 2 class C // 2 is never drawn (no
        # support; it still gets predicted now and then).
        p = 1.0 / np.arange(1, C + 1) ** 1.2
        if C > 2:
            p[C // 2] = 0.0
        p /= p.sum()
        y = rng.choice(C, size=n, p=p).astype(np.int32)
        logits = rng.standard_normal((n, C)).astype(np.float32)
        logits[np.arange(n), y] += np.float32(margin)
        for row in logits:
            assert len(np.unique(row)) == C, "a tie in a row"
        pred = np.argmax(logits, axis=1).astype(np.int32)
        labels = list(range(C))
        P, R, F, S = precision_recall_fscore_support(y, pred, labels=labels, average=None,
                                                     zero_division=0)
        _, _, FB, _ = precision_recall_fscore_support(y, pred, labels=labels, beta=BETA,
                                                      average=None, zero_division=0)
        cm = confusion_matrix(y, pred, labels=labels).astype(np.int64)
        acc = accuracy_score(y, pred)
        bal = balanced_accuracy_score(y, pred)
        mp = precision_score(y, pred, average="macro", zero_division=0)
        mr = recall_score(y, pred, average="macro", zero_division=0)
        mf = f1_score(y, pred, average="macro", zero_division=0)
        mfb = fbeta_score(y, pred, beta=BETA, average="macro", zero_division=0)
        wf = f1_score(y, pred, average="weighted", zero_division=0)
        rec = R[S > 0]
        gmean = float(np.exp(np.mean(np.log(rec)))) if np.all(rec > 0) else 0.0
        if C == 2:
            # sklearn's binary path wants 1-d scores; top-1 of two classes is the accuracy.
            topk = float(np.mean(pred == y))
        elif C > k:
            topk = top_k_accuracy_score(y, logits, k=k, labels=labels)
        else:
            topk = float("nan")
        np.save(f"{name}_labels.npy", y)
        np.save(f"{name}_logits.npy", logits)
        np.save(f"{name}_preds.npy", pred)
        np.save(f"{name}_confusion.npy", cm)
        # Text, not .npy: imbal's .npy reader has no f64.
        np.savetxt(f"{name}_per_class.txt", np.stack([P, R, F, FB], axis=1), fmt="%.17g")
        vals = [acc, bal, mp, mr, mf, mfb, wf, gmean, topk]
        lines.append(f"{name} {C} {k} {n} " + " ".join(f"{v:.17g}" for v in vals))
        never_pred = [c for c in range(C) if cm[:, c].sum() == 0]
        print(name, "support", S.tolist(), "never predicted", never_pred)
    with open("cases.txt", "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
