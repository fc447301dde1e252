#!/usr/bin/env python3
"""Per-tensor sha256 of every output under WORKDIR/out: merge outputs from sparkmerge.json's digests AND
recomputed from the tensor bytes; other outputs (masks, task vectors) from their safetensors' tensor bytes and CSVs."""
import glob, hashlib, json, os, struct, sys
work = sys.argv[1]
rows = []
for out in sorted(glob.glob(work + "/out/*")):
    key = os.path.basename(out)
    for f in sorted(glob.glob(out + "/**/*.safetensors", recursive=True)):
        with open(f, "rb") as fh:
            n = struct.unpack("<Q", fh.read(8))[0]
            h = json.loads(fh.read(n)); h.pop("__metadata__", None)
            data = fh.read()
        for name, t in sorted(h.items()):
            a, b = t["data_offsets"]
            rows.append("%s %s:%s %s %s %s" % (key, os.path.relpath(f, out).rsplit("/", 1)[0] if "/" in os.path.relpath(f, out) else ".",
                name, t["dtype"], t["shape"], hashlib.sha256(data[a:b]).hexdigest()))
    m = out + "/sparkmerge.json"
    if os.path.exists(m):
        j = json.load(open(m))
        for name, t in sorted(j.get("tensors", {}).items()):
            rows.append("%s manifest:%s %s %s" % (key, name, t.get("sha256"), json.dumps(t.get("counters"), sort_keys=True)))
        rows.append("%s resolved %s" % (key, json.dumps(j.get("resolved", j.get("config")), sort_keys=True)))
        if "method_summary" in j:
            rows.append("%s method_summary %s" % (key, json.dumps(j["method_summary"], sort_keys=True)))
    for f in sorted(glob.glob(out + "/**/*.csv", recursive=True)):
        rows.append("%s %s %s" % (key, os.path.relpath(f, out), hashlib.sha256(open(f, "rb").read()).hexdigest()))
print("\n".join(rows))
