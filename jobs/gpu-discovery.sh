#!/usr/bin/env bash
# Spark GPU discovery script (spark.executor.resource.gpu.discoveryScript, and for standalone workers
# spark.worker.resource.gpu.discoveryScript): prints the GPUs this host's executor may use as Spark's
# ResourceInformation JSON, e.g. {"name": "gpu", "addresses": ["0","1"]}. The addresses are nvidia-smi's
# indices; run executors with CUDA_DEVICE_ORDER=PCI_BUS_ID (jobs/spark-gpu.conf) so CUDA numbers the
# devices the same way. Honours CUDA_VISIBLE_DEVICES when the cluster manager set it.
set -euo pipefail
if [[ -n "${CUDA_VISIBLE_DEVICES:-}" ]]; then
  IFS=',' read -r -a ids <<< "$CUDA_VISIBLE_DEVICES"
  # inside the visible set CUDA numbers the devices 0..n-1
  ids=($(seq 0 $((${#ids[@]} - 1))))
else
  mapfile -t ids < <(nvidia-smi --query-gpu=index --format=csv,noheader | tr -d ' ')
fi
printf '{"name": "gpu", "addresses": ['
sep=""
for i in "${ids[@]}"; do
  [[ -n "$i" ]] || continue
  printf '%s"%s"' "$sep" "$i"
  sep=","
done
printf ']}\n'
