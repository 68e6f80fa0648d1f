"""Runs not made by GRPO Studio: a plain `python -m trl.scripts.grpo` run on the tiny model, with
`log_completions`, conversational prompts and two reward functions, read by `grpo-studio report`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tiny_model import REPO_ROOT, ensure_tiny_model

CLI = REPO_ROOT / "dist" / "cli.js"
REWARDS = (
    "def len_reward(completions, **kwargs):\n"
    "    return [float(len(c[0]['content'])) for c in completions]\n\n\n"
    "def q_reward(completions, **kwargs):\n"
    "    return [float('?' in c[0]['content']) for c in completions]\n"
)


def trl_grpo(workspace: Path, *extra: str) -> Path:
    data = workspace / "data"
    data.mkdir(exist_ok=True)
    rows = [{"prompt": [{"role": "user", "content": f"質問 {i}: 日本の首都は？"}]} for i in range(4)]
    (data / "train.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    (workspace / "my_rewards.py").write_text(REWARDS)
    argv = [
        sys.executable, "-m", "trl.scripts.grpo", "--model_name_or_path", str(ensure_tiny_model()),
        "--dataset_name", "data", "--reward_funcs", "my_rewards.len_reward", "my_rewards.q_reward",
        "--output_dir", "out", "--max_steps", "3", "--per_device_train_batch_size", "2", "--num_generations", "2",
        "--max_completion_length", "8", "--use_cpu", "--save_steps", "2", "--logging_steps", "1", *extra,
    ]
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    result = subprocess.run(argv, cwd=workspace, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return workspace / "out"


def report(folder: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", str(CLI), "report", str(folder), "--out", str(out)], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def trl_run(tmp_path_factory) -> Path:
    return trl_grpo(tmp_path_factory.mktemp("trl run 日本語"), "--log_completions", "--report_to", "none")


def test_report_reads_a_plain_trl_output_folder(trl_run: Path, tmp_path: Path) -> None:
    assert sorted(p.name for p in (trl_run / "completions").iterdir()) == [f"completions_0000{i}.parquet" for i in (1, 2, 3)]
    result = report(trl_run, tmp_path / "report.html")
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "report.html").read_text()
    state = json.loads((trl_run / "checkpoint-3" / "trainer_state.json").read_text())
    last = state["log_history"][-1]
    assert "<td>finished</td>" in html and "<td>3 / 3</td>" in html
    assert "TRL output folder" in html and "<td>1.16.0</td>" in html, "the model card's framework versions"
    for key in ("rewards/len_reward/mean", "rewards/q_reward/mean", "frac_reward_zero_std", "kl" if "kl" in last else "loss"):
        assert key in html
    # The last logged step's value, as the report formats it, and the latest completions with their rewards.
    assert f"{last['rewards/len_reward/mean']:.4g}" in html
    assert "Sample completions (step 3)" in html and "len_reward" in html and "advantage" in html
    assert "日本の首都は" in html, "the conversational prompt, read from the parquet's nested columns"
    assert "no completions" not in result.stderr


def test_a_folder_without_completions_or_state_says_what_is_missing(trl_run: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare run"
    shutil.copytree(trl_run, bare, ignore=shutil.ignore_patterns("completions"))
    result = report(bare, tmp_path / "bare.html")
    assert result.returncode == 0, result.stderr
    assert "note: this folder has metrics but no completions: set `log_completions: true`" in result.stderr
    assert "log_completions" in (tmp_path / "bare.html").read_text()

    early = tmp_path / "early run"
    (early / "completions").mkdir(parents=True)
    shutil.copy(trl_run / "completions" / "completions_00001.parquet", early / "completions")
    result = report(early, tmp_path / "early.html")
    assert result.returncode == 0, result.stderr
    assert "no trainer_state.json yet" in result.stderr
    assert "Sample completions (step 1)" in (tmp_path / "early.html").read_text()

    cut = tmp_path / "cut run"
    shutil.copytree(trl_run, cut)
    (cut / "checkpoint-3" / "trainer_state.json").write_text('{"log_history": [{"step": 3, "loss"')
    result = report(cut, tmp_path / "cut.html")
    assert result.returncode == 0, result.stderr
    assert re.search(r"checkpoint-3/trainer_state.json cannot be read .*: skipped", result.stderr)
    assert "<td>finished</td>" not in (tmp_path / "cut.html").read_text(), "the newest state that parses is checkpoint-2's"


def test_neither_kind_of_folder_is_refused_with_what_it_expected(tmp_path: Path) -> None:
    result = report(tmp_path, tmp_path / "r.html")
    assert result.returncode == 1
    assert "neither a GRPO Studio run folder (events.jsonl) nor a TRL output folder (trainer_state.json" in result.stderr


def test_tensorboard_event_files_give_every_logged_step_and_the_training_arguments(tmp_path_factory, tmp_path: Path) -> None:
    run = trl_grpo(tmp_path_factory.mktemp("tensorboard run"), "--report_to", "tensorboard")
    (event_file,) = run.glob("runs/*/events.out.tfevents.*")
    # Only the event files, as a synced folder may have them before any checkpoint: the metrics still come.
    bare = tmp_path / "events only"
    shutil.copytree(event_file.parent, bare / "runs" / event_file.parent.name)
    result = report(bare, tmp_path / "events.html")
    assert result.returncode == 0, result.stderr
    assert "note: TensorBoard event files in runs/" in result.stderr and "3 logged step(s) and the training arguments" in result.stderr
    html = (tmp_path / "events.html").read_text()
    assert "<td>finished</td>" in html and "<td>3 / 3</td>" in html
    assert "rewards/len_reward/mean" in html and "frac_reward_zero_std" in html
    assert "&#34;max_completion_length&#34;: 8" in html, "the training arguments TensorBoard holds, in the report's configuration"

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(event_file.parent))
    accumulator.Reload()
    reward = accumulator.Scalars("train/rewards/len_reward/mean")[-1].value
    assert f"{reward:.4g}" in html, "TensorBoard's own reading of the last value"
