"""GRPO Studio dry run: TRL's own first generation step on K prompts of a run config, without training.

    python grpo_studio_dry_run.py --config FILE --out FILE.json [--prompts K] [--seed S]

The config is read, its paths resolved, its rewards loaded and its GRPOTrainer built exactly as the
runner builds them for training (grpo_studio_runner.make_trainer). Then K prompts of the training
dataset (the first K, or K drawn with --seed), each repeated num_generations times as TRL's sampler
repeats them, go through the trainer's own `_generate_and_score_completions`: the prompts rendered,
the completions sampled with the config's generation settings and scored by every reward, and the
advantages computed, all by the installed TRL. No optimizer step is taken and nothing is saved.

--out gets one JSON object: {"model", "num_generations", "max_completion_length", "reward_names",
"reward_weights", "multi_objective_aggregation", "rows": [{"prompt", "completion", "rewards":
{name: number|null}, "total", "advantage", "length", "truncated", "columns": the dataset row's
other columns}], "metrics": {TRL's logged metric: value}}, rows in group order.
Progress goes to stderr. Exit status: 0 done; 2 bad arguments or config; 1 anything else (the cause
on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import grpo_studio_runner as runner  # noqa: E402
from grpo_studio_callback import json_safe  # noqa: E402
import yaml  # noqa: E402


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description="TRL's first GRPO generation step on K prompts, without training.")
    parser.add_argument("--config", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--seed", type=int)
    args, rest = parser.parse_known_args(argv)
    if args.prompts < 1:
        parser.error("--prompts must be at least 1")
    return args, rest


def _named_reward_failure(error: Exception, trainer: Any) -> ValueError | None:
    """A reward that raised, named with its own line (the innermost frame of one of the rewards)."""
    codes = {}
    for func, name in zip(trainer.reward_funcs, trainer.reward_func_names):
        code = getattr(func, "__code__", None) or getattr(getattr(func, "__call__", None), "__code__", None)
        if code is not None:
            codes[code] = name
    place = None
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code in codes:
            place = (codes[tb.tb_frame.f_code], tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    if place is None:
        return None
    name, file, line = place
    return ValueError(f"{name} raised {type(error).__name__}: {error} ({file}:{line}), called as GRPOTrainer calls it")


def dry_run(args: argparse.Namespace, rest: list[str]) -> int:
    config_path = Path(args.config).resolve()
    argv = ["--config", str(config_path), *rest]
    group = runner.parse_args(argv)[1].num_generations
    # One generation batch that holds every completion: K prompts x G, no accumulation, nothing reported.
    in_config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    batch = args.prompts * group
    split = ["--generation_batch_size", str(batch)] if "generation_batch_size" in in_config else ["--steps_per_generation", "1"]
    overrides = ["--per_device_train_batch_size", str(batch), "--gradient_accumulation_steps", "1", *split, "--report_to", "none"]
    # No reference model: it only enters the loss (its copy of the weights and its forward pass would
    # cost a CPU run as much as the sampling), never the completions, rewards or advantages.
    overrides += ["--beta", "0"]
    script_args, training_args, model_args, dataset_args, _ = runner.parse_args([*argv, *overrides])
    runner.resolve_paths(script_args, model_args, dataset_args, config_path.parent)
    training_args.output_dir = str(Path(os.environ.get("TMPDIR", "/tmp")) / "grpo-studio-dry-run")
    print(f"loading {model_args.model_name_or_path}", file=sys.stderr, flush=True)
    trainer = runner.make_trainer(script_args, training_args, model_args, dataset_args, config_path.parent, [])
    dataset = trainer.train_dataset
    count = min(args.prompts, len(dataset))
    indices = list(range(len(dataset)))
    if args.seed is not None:
        indices = random.Random(args.seed).sample(indices, count)
    rows = [dataset[i] for i in indices[:count]]
    inputs = [row for row in rows for _ in range(group)]  # as TRL's RepeatSampler: each prompt G times in a row
    print(f"sampling {group} completions for each of {count} prompts", file=sys.stderr, flush=True)
    trainer.model.train()  # as Trainer does before its first step (dropout, if any, as in training)
    try:
        output = trainer._generate_and_score_completions(inputs)
    except Exception as error:
        raise _named_reward_failure(error, trainer) or error
    mode = "train"
    metrics = {key: values[-1] for key, values in trainer._metrics[mode].items() if values}
    logs = trainer._logs
    names = list(logs["rewards"].keys())
    weights = [float(w) for w in trainer.reward_weights.tolist()]
    mask = output["completion_mask"]
    ids = output["completion_ids"]
    eos_and_pad = {*trainer.eos_token_ids, trainer._tokenizer.pad_token_id}  # TRL's test for a truncated completion
    result_rows = []
    for i, (prompt, completion, advantage) in enumerate(zip(logs["prompt"], logs["completion"], logs["advantages"])):
        rewards = {name: json_safe(logs["rewards"][name][i]) for name in names}
        present = [(w, r) for w, r in zip(weights, rewards.values()) if r is not None]
        length = int(mask[i].sum().item())
        last = int(ids[i, length - 1].item()) if length else None
        result_rows.append(
            {
                "prompt": prompt,
                "completion": completion,
                "rewards": rewards,
                "total": sum(w * r for w, r in present) if present else None,  # TRL's nansum of the weighted rewards
                "advantage": float(advantage),
                "length": length,
                "truncated": last not in eos_and_pad,
                "completion_ids": ids[i, :length].tolist(),
                "columns": {k: v for k, v in inputs[i].items() if k not in ("prompt", "completion")},
            }
        )
    result = {
        "model": model_args.model_name_or_path,
        "num_generations": group,
        "max_completion_length": training_args.max_completion_length,
        "reward_names": names,
        "reward_weights": weights,
        "multi_objective_aggregation": getattr(training_args, "multi_objective_aggregation", "sum_then_normalize"),
        "rows": result_rows,
        "metrics": metrics,
    }
    Path(args.out).write_text(json.dumps(json_safe(result), ensure_ascii=False, allow_nan=False), encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    args, rest = parse_args(list(sys.argv[1:] if argv is None else argv))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        return dry_run(args, rest)
    except SystemExit:
        raise
    except ValueError as error:  # a config the runner refuses, a reward that cannot be loaded
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception:  # noqa: BLE001 - reported with its traceback
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    sys.exit(main())
