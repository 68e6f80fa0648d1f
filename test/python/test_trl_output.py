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


def trl_grpo(workspace: Path, *extra: str, env: dict[str, str] | None = None) -> Path:
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
    run_env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false", **(env or {}))
    result = subprocess.run(argv, cwd=workspace, env=run_env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return workspace / "out"


def report(folder: Path | str, out: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(CLI), "report", str(folder), "--out", str(out)],
        capture_output=True, text=True, timeout=120, env=dict(os.environ, **(env or {})),
    )


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


@pytest.fixture(scope="module")
def trackio_run(tmp_path_factory) -> tuple[Path, Path]:
    """A real `report_to: trackio` run; its project database in a Trackio folder of its own."""
    workspace = tmp_path_factory.mktemp("trackio run")
    trackio_dir = workspace / "トラッキオ cache"
    out = trl_grpo(
        workspace, "--log_completions", "--report_to", "trackio", "--project", "grpo-tk", "--run_name", "tiny-1",
        env={"TRACKIO_DIR": str(trackio_dir)},
    )
    return out, trackio_dir / "grpo-tk.db"


def trackio_metrics(db: Path) -> list[dict]:
    """Trackio's rows as Python's sqlite3 reads them: the independent reading the report is checked against."""
    import sqlite3

    with sqlite3.connect(db) as connection:
        return [json.loads(raw) for (raw,) in connection.execute("SELECT metrics FROM metrics ORDER BY id")]


def test_a_trackio_project_is_read_on_its_own_and_with_its_output_folder(trackio_run, tmp_path: Path) -> None:
    out, db = trackio_run
    steps = [m for m in trackio_metrics(db) if "train/global_step" in m and "train/reward" in m]
    assert [m["train/global_step"] for m in steps] == [1, 2, 3], "Trackio's own step counter is not the trainer's"

    result = report(f"{db}::tiny-1", tmp_path / "trackio.html")
    assert result.returncode == 0, result.stderr
    assert "note: Trackio project grpo-tk (run tiny-1" in result.stderr and "3 logged step(s), completions at 3 step(s)" in result.stderr
    html = (tmp_path / "trackio.html").read_text()
    assert "<td>finished</td>" in html and "<td>3 / 3</td>" in html and "Trackio project run" in html
    assert f"{steps[-1]['train/rewards/len_reward/mean']:.4g}" in html and "frac_reward_zero_std" in html
    assert "Sample completions (step 3)" in html and "日本の首都は" in html and "advantage" in html
    assert "&#34;max_completion_length&#34;: 8" in html, "the training arguments Trackio stored"
    assert "profiling/" not in html, "TRL's timings, logged to Trackio as rows of their own, are left out"

    # A project named without a run takes its only run; a wrong name is refused with the runs it has.
    assert report(db, tmp_path / "only.html").returncode == 0
    wrong = report(f"{db}::nope", tmp_path / "wrong.html")
    assert wrong.returncode == 1 and "has no run named nope (its runs: tiny-1)" in wrong.stderr

    # The output folder with its last checkpoint and its parquet files gone: Trackio has every step and the completions.
    partial = tmp_path / "partial out"
    shutil.copytree(out, partial, ignore=shutil.ignore_patterns("checkpoint-3", "completions"))
    joined = report(partial, tmp_path / "other.html", env={"TRACKIO_DIR": str(db.parent)})
    # The stored output_dir is "out" (relative, as given): a copy under another name is not that run.
    assert "Trackio project" not in joined.stderr
    renamed = tmp_path / "elsewhere" / "out"
    shutil.move(partial, renamed)
    joined = report(renamed, tmp_path / "joined.html", env={"TRACKIO_DIR": str(db.parent)})
    assert joined.returncode == 0, joined.stderr
    assert "note: Trackio project grpo-tk (run tiny-1" in joined.stderr
    assert "1 logged step(s) after the newest trainer_state.json come from the tracker" in joined.stderr
    html = (tmp_path / "joined.html").read_text()
    assert "<td>finished</td>" in html and "<td>3 / 3</td>" in html
    assert "Sample completions (step 3)" in html, "the completions of Trackio's table, no parquet files being there"


LIVE_WRITER = """
import sqlite3, sys, time
import trackio
db = sys.argv[1]
trackio.init(project="grpo-tk", name="live-1")
trackio.log({"train/reward": 1.25, "train/global_step": 1})
trackio.finish()
# A reader that stays (as `trackio show` does) keeps the write-ahead log from being folded into the database.
reader = sqlite3.connect(db)
reader.execute("SELECT count(*) FROM metrics").fetchone()
trackio.init(project="grpo-tk", name="live-1", resume="must")
trackio.log({"train/reward": 2.75, "train/global_step": 2})
time.sleep(1.5)
print("logged", flush=True)
sys.stdin.readline()
"""


def test_a_trackio_run_being_written_is_read_with_its_write_ahead_log(trackio_run, tmp_path: Path) -> None:
    _, db = trackio_run
    trackio_dir = tmp_path / "live trackio"
    trackio_dir.mkdir()
    live_db = trackio_dir / "grpo-tk.db"
    shutil.copy(db, live_db)
    writer = subprocess.Popen(
        [sys.executable, "-c", LIVE_WRITER, str(live_db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, TRACKIO_DIR=str(trackio_dir), HF_HUB_OFFLINE="1"),
    )
    try:
        for line in writer.stdout:  # Trackio prints lines of its own first
            if line.strip() == "logged":
                break
        else:
            pytest.fail("the writer ended before it logged")
        assert (trackio_dir / "grpo-tk.db-wal").stat().st_size > 0, "the newest commit is still in the write-ahead log"
        result = report(f"{live_db}::live-1", tmp_path / "live.html")
        assert result.returncode == 0, result.stderr
        assert "2 logged step(s)" in result.stderr
        html = (tmp_path / "live.html").read_text()
        assert "2.75" in html, "the step committed to the write-ahead log only"
    finally:
        writer.communicate("\n", timeout=60)
