"""Independent reference for VocabularyUnionJobTest: mergekit's tokenizer union and PermutedEmbeddings,
written from mergekit's tokenizer/build.py and tokenizer/embed.py in plain numpy, then task arithmetic.

usage: union_reference.py SPEC.json OUT_DIR
SPEC.json: {"base": DIR, "models": [DIR, ...], "weights": [...], "lambda": L, "pad_to_multiple_of": N,
            "tokens": {TOKEN: {"kind": "zero" | "model_token", "model": DIR, "token": T, "force": BOOL}}}
Writes OUT_DIR/vocab.json (token -> id) and OUT_DIR/<tensor>.f64 (float64, row-major) for every tensor.
"""
import json
import os
import struct
import sys

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(data[b:e], dtype="<f4").astype(np.float64).reshape(info["shape"])
    return out


def vocabulary(d):
    tj = json.load(open(os.path.join(d, "tokenizer.json")))
    vocab = dict(tj["model"]["vocab"])
    model_size = len(vocab)
    added = {a["id"]: a for a in tj.get("added_tokens", [])}
    for i, a in added.items():
        vocab[a["content"]] = i
    rows = json.load(open(os.path.join(d, "config.json")))["vocab_size"]
    return {"vocab": vocab, "added": added, "model_size": model_size, "rows": rows}


def main():
    spec = json.load(open(sys.argv[1]))
    out = sys.argv[2]
    dirs = [spec["base"]] + spec["models"]
    vocs = [vocabulary(d) for d in dirs]
    base = vocs[0]
    # build_union_tokenizer: regular tokens then added tokens, models in order (regular ones by id)
    out_vocab, out_added = [], {}
    for v in vocs:
        for tok, i in sorted(v["vocab"].items(), key=lambda kv: kv[1]):
            if i < v["rows"] and i not in v["added"] and tok not in out_vocab:
                out_vocab.append(tok)
        for i in sorted(v["added"]):
            if i < v["rows"] and v["added"][i]["content"] not in out_added:
                out_added[v["added"][i]["content"]] = v["added"][i]
    res = dict(base["vocab"])
    state = {"max": max(base["added"]) if base["added"] else -1}

    def add(tok):
        if tok in res:
            return
        m = base["model_size"]
        new = m if state["max"] < 0 else (state["max"] + 1 if state["max"] >= m or m == 0 else m)
        state["max"] = new
        res[tok] = new

    for tok in out_vocab:
        if tok not in out_added and tok not in base["vocab"]:
            add(tok)
    for tok in out_added:
        add(tok)
    for tok in spec["tokens"]:
        add(tok)
    n = len(res)
    pad = spec["pad_to_multiple_of"]
    rows = n if n % pad == 0 else (n // pad + 1) * pad
    perm = [{res[t]: (v["vocab"][t] if t in v["vocab"] and v["vocab"][t] < v["rows"] else -1) for t in res} for v in vocs]
    tensors = [read_safetensors(os.path.join(d, "model.safetensors")) for d in dirs]
    permuted = {}
    for name in ("model.embed_tokens.weight", "lm_head.weight"):
        hidden = tensors[0][name].shape[1]
        defaults = {}
        for tok, tid in res.items():
            cfg = spec["tokens"].get(tok)
            present = [k for k in range(len(dirs)) if perm[k][tid] >= 0]
            if cfg is not None and cfg["kind"] == "zero":
                defaults[tok] = np.zeros(hidden)
            elif cfg is not None:
                k = dirs.index(cfg["model"])
                defaults[tok] = tensors[k][name][vocs[k]["vocab"][cfg["token"]]]
            elif len(present) == 1:
                defaults[tok] = tensors[present[0]][name][perm[present[0]][tid]]
            elif not present:
                defaults[tok] = np.zeros(hidden)
            elif perm[0][tid] >= 0:
                defaults[tok] = tensors[0][name][perm[0][tid]]
            else:
                defaults[tok] = sum(tensors[k][name][perm[k][tid]] for k in present) / len(present)
        for k in range(len(dirs)):
            e = np.zeros((rows, hidden))
            for tok, tid in res.items():
                force = spec["tokens"].get(tok, {}).get("force", False)
                e[tid] = tensors[k][name][perm[k][tid]] if perm[k][tid] >= 0 and not force else defaults[tok]
            e[n:] = e[:n].mean(axis=0)
            permuted[(k, name)] = e
    os.makedirs(out, exist_ok=True)
    json.dump(res, open(os.path.join(out, "vocab.json"), "w"))
    w, lam = spec["weights"], spec["lambda"]
    for name in tensors[0]:
        get = (lambda k: permuted[(k, name)]) if (0, name) in permuted else (lambda k: tensors[k][name])
        b = get(0)
        merged = b + lam * sum(w[k - 1] * (get(k) - b) for k in range(1, len(dirs)))
        merged.astype("<f8").tofile(os.path.join(out, name + ".f64"))


if __name__ == "__main__":
    main()
