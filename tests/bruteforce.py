"""bruteforce.py RESULT key=value ... -- brute-force check of a value
function behind an example or an oracle test: its value on all 2^n masks
computed here, independently of spex (XGBoost's Python package for the
xgboost kinds: its own predictions on the masked rows, its own training,
its own predictions with trees removed; numpy for the quadratic model of
tools/plugin-quadratic.c and tools/worker-quadratic.py), the Walsh-Hadamard
transform of those values, and every coefficient compared with RESULT's
/fourier.  Keys: n (features.n), kind (xgboost, xgboost-train,
xgboost-trees, quadratic), the [oracle] keys of the study (model, data,
label, instance, ...), floor and atol (relative to the largest
coefficient); study=FILE reads n and the [oracle] keys from a study file
(paths relative to its directory) and later keys override them.  Prints one
line; exits 1 on a missing, extra or wrong coefficient."""
import configparser, json, os, sys
import h5py, numpy as np

res = sys.argv[1]
o = {}
for a in sys.argv[2:]:
    k, v = a.split("=", 1)
    if k == "study":
        ini = configparser.ConfigParser(inline_comment_prefixes=(";",))
        ini.read(v)
        o["n"] = ini["features"]["n"]
        o.update(ini["oracle"])
        for p in ("model", "data", "test"):
            if p in o:
                o[p] = os.path.join(os.path.dirname(v), o[p])
    else:
        o[k] = v
kind = o["kind"]
label, metric, cls = o.get("label", ""), o.get("metric", "prediction"), int(o.get("class", 0))
values = o.get("output", "margin") == "probability" or metric == "logloss"
ptype = "value" if values else "margin"

def table(path):
    if open(path, "rb").read(8) == b"\x89HDF\r\n\x1a\n":
        with h5py.File(path, "r") as f:
            X = f[o.get("dataset", "X")][...].astype(np.float64)
            return X, (f[label][...] if label else None)
    header = [h.strip() for h in open(path).readline().split(",")]
    d = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=np.float64, ndmin=2)
    if not label:
        return d, None
    j = header.index(label)
    return np.delete(d, j, axis=1), d[:, j]

def value(pred, y):
    if metric == "prediction":
        return pred[:, cls]
    if metric == "squared_error":
        return (y - pred[:, cls]) ** 2
    p = np.clip(pred, 1e-15, 1 - 1e-15)
    if pred.shape[1] == 1:
        return -(y * np.log(p[:, 0]) + (1 - y) * np.log(1 - p[:, 0]))
    return -np.log(p[np.arange(len(y)), y.astype(int)])

def predict(bst, rows):
    import xgboost as xgb
    p = bst.inplace_predict(rows.astype(np.float32), predict_type=ptype, strict_shape=True)
    return np.asarray(p, dtype=np.float64).reshape(len(rows), -1)

with h5py.File(res, "r") as f:
    got = {tuple(int(x) for x in row[:k]): c for k, row, c in
           zip(f["fourier/order"][...], f["fourier/features"][...], f["fourier/coef"][...])}
n = int(o["n"])
M = ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1).astype(bool)
if kind.startswith("xgboost"):
    import xgboost as xgb
if kind == "xgboost":
    bst = xgb.Booster(model_file=o["model"])
    X, y = table(o["data"])
    i = int(o.get("instance", 0))
    K = int(o.get("background", 0)) or len(X)
    b = o.get("baseline", "mean")
    B = (X[:K] if b == "interventional" else
         np.nanmean(X[:K], axis=0)[None, :] if b == "mean" else X[int(b)][None, :])
    rows = np.where(M[:, None, :], X[i][None, None, :], B[None, :, :]).reshape(-1, n)
    yy = np.full(len(rows), y[i] if y is not None else 0.0)
    f = value(predict(bst, rows), yy).reshape(2 ** n, len(B)).mean(axis=1)
elif kind == "xgboost-train":
    X, y = table(o["data"])
    T, ty = table(o["test"])
    t = T[int(o.get("instance", 0))][None, :]
    ty = np.array([ty[int(o.get("instance", 0))]])
    params = {"objective": o.get("train_objective", "reg:squarederror"),
              "max_depth": int(o.get("train_depth", 3)), "eta": float(o.get("train_eta", 0.3)),
              "seed": int(o.get("seed", 1)), "nthread": 1, "verbosity": 0, "tree_method": "exact",
              "num_feature": X.shape[1]}
    f = np.empty(2 ** n)
    for k in range(2 ** n):
        keep = M[k]
        if keep.any():
            d = xgb.DMatrix(X[keep].astype(np.float32), label=y[keep], nthread=1)
            bst = xgb.Booster(params, [d])
            for r in range(int(o.get("train_rounds", 10))):
                bst.update(d, r)
        else:
            bst = xgb.Booster(params, [xgb.DMatrix(t.astype(np.float32), label=ty)])
        f[k] = value(predict(bst, t), ty)[0]
elif kind == "xgboost-trees":
    # XGBoost's own margin with only the trees of feature j (the others'
    # leaves set to 0), minus its margin with no trees: feature j's part.
    X, y = table(o["data"])
    model = json.load(open(o["model"]))
    gb = model["learner"]["gradient_booster"]["model"]
    groups = max(1, int(model["learner"]["learner_model_param"]["num_class"]))
    per_round = groups * int(gb["gbtree_model_param"]["num_parallel_tree"])
    g = int(o.get("tree_group", 1))
    saved = [list(t["split_conditions"]) for t in gb["trees"]]
    def margin_with(j):
        for k, t in enumerate(gb["trees"]):
            keep = (k // per_round) // g == j
            t["split_conditions"] = [v if keep or l != -1 else 0.0
                                     for v, l in zip(saved[k], t["left_children"])]
        bst = xgb.Booster()
        bst.load_model(bytearray(json.dumps(model), "utf-8"))
        p = bst.inplace_predict(X.astype(np.float32), predict_type="margin", strict_shape=True)
        return np.asarray(p, dtype=np.float64).reshape(len(X), -1)
    base = margin_with(-1)
    part = [margin_with(j) - base for j in range(n)]
    obj = model["learner"]["objective"]["name"]
    f = np.empty(2 ** n)
    for k in range(2 ** n):
        m = base + sum(part[j] for j in range(n) if M[k, j])
        if values:
            if obj in ("binary:logistic", "reg:logistic"):
                m = 1.0 / (1.0 + np.exp(-m))
            elif obj == "multi:softprob":
                m = np.exp(m - m.max(axis=1, keepdims=True))
                m /= m.sum(axis=1, keepdims=True)
            else:
                sys.exit("bf.py: no transform for " + obj)
        f[k] = value(m, y if y is not None else np.zeros(len(X))).mean()
elif kind == "quadratic":
    q = {}
    pairs = []
    for line in open(o["model"]):
        w = line.split()
        if w and not w[0].startswith("#") and w[0] != "names":
            if w[0] == "pair":
                pairs.append((int(w[1]), int(w[2]), float(w[3])))
            else:
                q[w[0]] = np.array([float(t) for t in w[1:]])
    Z = np.where(M, q["x"][None, :], q["baseline"][None, :])
    U = (Z - q["mean"]) / q["scale"]
    f = q["intercept"][0] + U @ q["linear"] + sum(w * U[:, i] * U[:, j] for i, j, w in pairs)
else:
    sys.exit("unknown kind " + kind)

F = f.copy()
h = 1
while h < len(F):
    F = F.reshape(-1, 2, h)
    F = np.stack([F[:, 0] + F[:, 1], F[:, 0] - F[:, 1]], axis=1).reshape(-1)
    h *= 2
F /= 2 ** n
scale = max(1.0, np.abs(F).max())
floor = float(o.get("floor", 1e-6)) * scale
atol = float(o.get("atol", 1e-5)) * scale
truth = {tuple(np.nonzero((k >> np.arange(n)) & 1)[0].tolist()): F[k]
         for k in range(2 ** n) if abs(F[k]) > floor}
missing = [k for k in truth if k not in got]
extra = [k for k in got if k not in truth and abs(got[k]) > floor]
err = max(abs(got.get(k, 0.0) - truth.get(k, 0.0)) for k in set(truth) | set(got))
print("%d true terms (order <= %d), %d found; %d missing, %d extra; max |error| %.2e" %
      (len(truth), max(map(len, truth)), len(got), len(missing), len(extra), err))
ok = not missing and not extra and err <= atol
if not ok:
    for k in sorted(missing, key=lambda k: -abs(truth[k]))[:5]:
        print("  missing", k, truth[k])
    for k in extra[:5]:
        print("  extra", k, got[k])
sys.exit(0 if ok else 1)
