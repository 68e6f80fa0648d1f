"""`grpo-studio dry-run` against the real TRL on the tiny model: the JSON contract, the signal report
against GRPO's math and TRL's own numbers, the findings, the saved sample set and the failures."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tiny_model import EXAMPLE_MODEL_DIR, REPO_ROOT, copy_example, ensure_tiny_model

CLI = REPO_ROOT / "dist" / "cli.js"
COMPLETION_KEYS = ["prompt", "completion", "group", "rewards", "total", "advantage", "length", "truncated"]
FUNCTION_KEYS = ["mean", "std", "min", "max", "frac_zero_std", "frac_none"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    ensure_tiny_model(EXAMPLE_MODEL_DIR)
    root = tmp_path_factory.mktemp("dry") / "ドライ run"
    copy_example(root)
    config = (root / "run.tiny.yaml").read_text().replace("max_completion_length: 64", "max_completion_length: 12")
    (root / "run.yaml").write_text(config)
    (root / "dead.py").write_text(
        "def zero_reward(completions, **kwargs):\n    return [0.0 for c in completions]\n\n\n"
        "def none_reward(completions, **kwargs):\n    return [None for c in completions]\n\n\n"
        "def broken_reward(completions, **kwargs):\n    raise RuntimeError('the scorer is down')\n"
    )
    rewards = "reward_funcs:\n  - rewards.emoji_reward\n  - rewards.length_reward\n"
    questions = (root / "data" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    answered = [json.dumps({**json.loads(line), "answer": str(i)}, ensure_ascii=False) for i, line in enumerate(questions)]
    (root / "data" / "answered.jsonl").write_text("\n".join(answered) + "\n", encoding="utf-8")
    (root / "dead.yaml").write_text(
        config.replace("data/questions.jsonl", "data/answered.jsonl").replace(rewards, "reward_funcs:\n  - rewards.length_reward\n  - dead.zero_reward\n  - dead.none_reward\n")
    )
    (root / "broken.yaml").write_text(config.replace(rewards, "reward_funcs:\n  - dead.broken_reward\n"))
    return root


def dry_run(workspace: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    env = dict(os.environ, GRPO_STUDIO_PYTHON=sys.executable)
    return subprocess.run(["node", str(CLI), "dry-run", *args], cwd=workspace, env=env, capture_output=True, text=True, timeout=timeout)


def nanstd(values: list[float]) -> float:
    present = [v for v in values if v is not None]
    if len(present) < 2:
        return math.nan
    mean = sum(present) / len(present)
    return math.sqrt(sum((v - mean) ** 2 for v in present) / (len(present) - 1))


def test_json_contract_and_grpo_math(workspace: Path) -> None:
    result = dry_run(workspace, "--config", "run.yaml", "--prompts", "3", "--seed", "7", "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "sampling 8 completions for each of 3 prompts" in result.stderr, "progress on stderr"
    report = json.loads(result.stdout)
    assert list(report) == ["config", "model", "num_generations", "completions", "signal", "findings"]
    assert report["config"] == "run.yaml" and report["num_generations"] == 8
    completions = report["completions"]
    assert len(completions) == 24 and all(list(c) == COMPLETION_KEYS for c in completions)
    assert [c["group"] for c in completions] == [i // 8 for i in range(24)], "K groups of G, in group order"
    assert all(len({c["prompt"] for c in completions[g * 8 : g * 8 + 8]}) == 1 for g in range(3))
    assert all(1 <= c["length"] <= 12 and isinstance(c["truncated"], bool) for c in completions)

    # TRL's numbers, checked against GRPO's definitions on the completions it returned.
    totals = [c["total"] for c in completions]
    assert all(math.isclose(c["total"], sum(c["rewards"].values()), rel_tol=1e-6) for c in completions)
    groups = [totals[g * 8 : g * 8 + 8] for g in range(3)]
    for g, group in enumerate(groups):
        mean, std = sum(group) / 8, nanstd(group)
        for i, total in enumerate(group):
            assert math.isclose(completions[g * 8 + i]["advantage"], (total - mean) / (std + 1e-4), rel_tol=1e-4, abs_tol=1e-5)
    signal = report["signal"]
    assert signal["frac_reward_zero_std"] == pytest.approx(sum(nanstd(g) < 1e-8 for g in groups) / 3)
    assert signal["clipped_ratio"] == pytest.approx(sum(c["truncated"] for c in completions) / 24)
    assert signal["mean_length"] == pytest.approx(sum(c["length"] for c in completions) / 24)
    assert list(signal["per_function"]) == ["emoji_reward", "length_reward"]
    for name, f in signal["per_function"].items():
        assert list(f) == FUNCTION_KEYS
        values = [c["rewards"][name] for c in completions]
        assert f["mean"] == pytest.approx(sum(values) / 24, rel=1e-5)
        assert f["std"] == pytest.approx(nanstd(values), rel=1e-4)
        assert (f["min"], f["max"]) == (min(values), max(values))
        zero = [nanstd(values[g * 8 : g * 8 + 8]) < 1e-8 for g in range(3)]
        assert f["frac_zero_std"] == pytest.approx(sum(zero) / 3) and f["frac_none"] == 0
    assert all(set(f) == {"severity", "code", "message"} for f in report["findings"])
    clipped = [f for f in report["findings"] if f["code"] == "DRY004"]
    assert bool(clipped) == (signal["clipped_ratio"] >= 0.5)
    if clipped:
        assert "max_completion_length=12" in clipped[0]["message"]

    again = json.loads(dry_run(workspace, "--config", "run.yaml", "--prompts", "3", "--seed", "7", "--json").stdout)
    assert [c["prompt"] for c in again["completions"]] == [c["prompt"] for c in completions], "--seed picks the same prompts"


def test_dead_rewards_are_found_and_the_sample_set_is_saved(workspace: Path) -> None:
    out = workspace / "sampled" / "dry.samples.jsonl"
    result = dry_run(workspace, "--config", "dead.yaml", "--prompts", "2", "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    per_function = report["signal"]["per_function"]
    assert per_function["zero_reward"]["frac_zero_std"] == 1 and per_function["zero_reward"]["max"] == 0
    assert per_function["none_reward"]["frac_none"] == 1 and per_function["none_reward"]["mean"] is None
    by_code = {f["code"]: f for f in report["findings"]}
    assert "zero_reward is 0 on all 16 completions: no learning signal at temperature 0.9" in by_code["DRY003"]["message"]
    assert "none_reward returned None for all 16 completions" in by_code["DRY002"]["message"]
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(row["prompt"], row["completion"]) for row in lines] == [(c["prompt"], c["completion"]) for c in report["completions"]]
    assert all("answer" in row for row in lines), "the dataset's other columns travel with the samples"
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(workspace / "models" / "tiny-qwen2"))
    assert [len(row["completion_ids"]) for row in lines] == [c["length"] for c in report["completions"]]
    assert [tokenizer.decode(row["completion_ids"], skip_special_tokens=True) for row in lines] == [row["completion"] for row in lines], (
        "the saved ids are the completions' own tokens"
    )

    text = dry_run(workspace, "--config", "dead.yaml", "--prompts", "2").stdout
    assert "drives" in text and "r(adv)" in text and "within-group correlation between rewards" in text, text
    dead = next(line for line in text.splitlines() if line.startswith("zero_reward "))
    assert dead.split()[-2:] == ["0%", "—"], "a reward without variance drives none of the advantage"
    live = next(line for line in text.splitlines() if line.startswith("length_reward "))
    if per_function["length_reward"]["frac_zero_std"] < 1:
        assert live.split()[-2:] == ["100%", "1.000"], "the only live reward is the whole advantage"

    refused = dry_run(workspace, "--config", "dead.yaml", "--prompts", "2", "--out", str(out))
    assert refused.returncode == 2 and "--force" in refused.stderr, "an existing --out is kept"


def test_failures_and_usage(workspace: Path) -> None:
    broken = dry_run(workspace, "--config", "broken.yaml", "--prompts", "1")
    assert broken.returncode == 1
    assert "broken_reward raised RuntimeError: the scorer is down (" in broken.stderr and "dead.py:" in broken.stderr, broken.stderr
    for args in (["--prompts", "2"], ["--config", "nope.yaml"], ["--config", "run.yaml", "--prompts", "0"], ["--config", "run.yaml", "--seed", "x"]):
        bad = dry_run(workspace, *args, timeout=30)
        assert bad.returncode == 2, (args, bad.stderr)
        assert "Usage: grpo-studio dry-run" in bad.stderr


def test_the_dry_run_generates_as_the_first_training_step_does(workspace: Path, monkeypatch, tmp_path: Path) -> None:
    """Same prompt token ids and generation settings as a real GRPOTrainer's first step on the config."""
    sys.path.insert(0, str(REPO_ROOT / "python"))
    import transformers

    import grpo_studio_dry_run
    import grpo_studio_runner

    calls: list[dict] = []
    original = transformers.GenerationMixin.generate

    def recording_generate(self, *args, **kwargs):
        config = kwargs.get("generation_config")
        calls.append({"input_ids": kwargs["input_ids"].tolist(), "config": config.to_dict() if config is not None else None})
        return original(self, *args, **kwargs)

    monkeypatch.setattr(transformers.GenerationMixin, "generate", recording_generate)
    monkeypatch.chdir(workspace)
    one = workspace / "data" / "one.jsonl"
    one.write_text((workspace / "data" / "questions.jsonl").read_text(encoding="utf-8").splitlines()[4] + "\n", encoding="utf-8")
    config = workspace / "one.yaml"
    config.write_text((workspace / "run.yaml").read_text().replace("data/questions.jsonl", "data/one.jsonl"))

    args, rest = grpo_studio_dry_run.parse_args(["--config", str(config), "--out", str(tmp_path / "step.json"), "--prompts", "1"])
    assert grpo_studio_dry_run.dry_run(args, rest) == 0
    dry = calls[:]
    calls.clear()
    run_dir = tmp_path / "run"
    code = grpo_studio_runner.main(["--config", str(config), "--run-dir", str(run_dir), "--max-steps", "1", "--save_strategy", "no"])
    assert code == 0
    assert dry and calls, "generate was called on both sides"
    assert dry[0]["input_ids"] == calls[0]["input_ids"], "the same rendered, tokenized prompts"
    assert dry[0]["config"] == calls[0]["config"], "the same generation settings"
