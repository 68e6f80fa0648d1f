"""A run folder has one owner, a foreground run dies with its command, and resume takes a checkpoint
Trainer can load: real runs of the tiny model on CPU, through the runner and `grpo-studio train`.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_runner import FAST, TINY_CONFIG, read_events, run_runner, start_runner, wait_for_events
from tiny_model import EXAMPLE_MODEL_DIR, REPO_ROOT, ensure_tiny_model

CLI = REPO_ROOT / "dist" / "cli.js"
EXIT_RUN_BUSY = 75


@pytest.fixture(scope="module", autouse=True)
def example_model():
    return ensure_tiny_model(EXAMPLE_MODEL_DIR)


def start_cli(*args, cwd):
    env = dict(os.environ, GRPO_STUDIO_PYTHON=sys.executable)
    return subprocess.Popen(
        ["node", str(CLI), "train", *map(str, args)], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for_file(path, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Path(path).exists():
            return
        time.sleep(0.05)
    raise AssertionError(f"no {path}")


def wait_for_exit(pid, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def wait_for_first_log(run_dir, timeout=120):
    wait_for_file(run_dir / "events.jsonl", timeout=timeout)
    deadline = time.monotonic() + timeout
    while not any(e["event"] == "log" for e in read_complete(run_dir)):
        assert time.monotonic() < deadline, f"no step logged in {run_dir}"
        time.sleep(0.1)


def test_a_second_runner_is_refused_while_the_first_trains(tmp_path):
    run_dir = tmp_path / "runs" / "both"
    first = start_runner("--config", TINY_CONFIG, "--run-dir", run_dir, "--max-steps", 200, "--save_steps", 2, *FAST, cwd=tmp_path)
    try:
        wait_for_events(run_dir, lambda events: any(e["event"] == "checkpoint" for e in events), first, timeout=120)
        before = (run_dir / "events.jsonl").read_bytes()
        # A plain second runner: refused by the lock the first one holds, nothing written.
        code, _, stderr = run_runner("--config", TINY_CONFIG, "--run-dir", run_dir, "--resume", *FAST, cwd=tmp_path)
        assert code == EXIT_RUN_BUSY, stderr[-2000:]
        assert f"is still training (pid {first.pid})" in stderr
        # grpo-studio train: refused before anything starts.
        cli = start_cli("--config", TINY_CONFIG, "--run-dir", run_dir, "--resume", cwd=tmp_path)
        _, cli_err = cli.communicate(timeout=120)
        assert cli.returncode == 2, cli_err
        assert "is still training (pid" in cli_err and "stop it first" in cli_err
        assert (run_dir / "events.jsonl").read_bytes()[: len(before)] == before
        starts = [e for e in read_events(run_dir) if e["event"] == "start"]
        assert len(starts) == 1, "no second session began"
    finally:
        (run_dir / "STOP").write_text("")
        first.communicate(timeout=120)
    assert [e["status"] for e in read_events(run_dir) if e["event"] == "end"] == ["stopped"]
    # Its owner gone (the OS lock with it), the folder takes a resume.
    code, _, stderr = run_runner("--config", TINY_CONFIG, "--run-dir", run_dir, "--resume", "--max-steps", 6, *FAST, cwd=tmp_path)
    assert code == 0, stderr[-2000:]


def test_kill_9_of_the_cli_stops_its_runner_with_a_checkpoint(tmp_path):
    run_dir = tmp_path / "runs" / "orphan"
    cli = start_cli("--config", TINY_CONFIG, "--run-dir", run_dir, "--max-steps", 300, cwd=tmp_path)
    wait_for_first_log(run_dir)
    runner_pid = int((run_dir / "runner.pid").read_text())
    cli.kill()  # SIGKILL: no handler runs in the CLI
    cli.communicate(timeout=30)
    assert wait_for_exit(runner_pid), "the runner kept training after its command died"
    events = read_events(run_dir)
    end = events[-1]
    assert end["event"] == "end" and end["status"] == "stopped", end
    assert any(e["event"] == "stop_requested" and e["reason"] == "parent_exited" for e in events)
    assert any(e["event"] == "checkpoint" for e in events)


def test_kill_9_of_the_runner_exits_137_and_says_so(tmp_path):
    run_dir = tmp_path / "runs" / "killed"
    cli = start_cli("--config", TINY_CONFIG, "--run-dir", run_dir, "--max-steps", 300, cwd=tmp_path)
    wait_for_first_log(run_dir)
    os.kill(int((run_dir / "runner.pid").read_text()), signal.SIGKILL)
    _, stderr = cli.communicate(timeout=60)
    assert cli.returncode == 137, stderr[-2000:]
    assert "the runner was killed (SIGKILL)" in stderr


def test_resume_skips_a_checkpoint_cut_short_and_says_why(tmp_path):
    run_dir = tmp_path / "runs" / "partial"
    code, _, stderr = run_runner("--config", TINY_CONFIG, "--run-dir", run_dir, "--max-steps", 2, "--save_steps", 2, *FAST, cwd=tmp_path)
    assert code == 0, stderr[-2000:]
    # A save killed halfway (or a full disk): the folder exists, trainer_state.json does not.
    broken = run_dir / "checkpoint-9"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    code, _, stderr = run_runner("--config", TINY_CONFIG, "--run-dir", run_dir, "--resume", "--max-steps", 4, *FAST, cwd=tmp_path)
    assert code == 0, stderr[-2000:]
    assert "resuming from checkpoint-2, the newest complete checkpoint; skipped checkpoint-9: no trainer_state.json" in stderr
    start = [e for e in read_events(run_dir) if e["event"] == "start"][-1]
    assert start["resumed_from"]["step"] == 2 and start["resumed_from"]["skipped"] == ["checkpoint-9: no trainer_state.json"]
    # grpo-studio train --resume finds only the complete one too; with none complete it says why.
    (run_dir / "checkpoint-2" / "trainer_state.json").unlink()
    (run_dir / "checkpoint-4" / "trainer_state.json").unlink()
    env = dict(os.environ, GRPO_STUDIO_PYTHON=sys.executable)
    result = subprocess.run(
        ["node", str(CLI), "train", "--config", str(TINY_CONFIG), "--run-dir", str(run_dir), "--resume"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "has no complete checkpoint (checkpoint-9: no trainer_state.json; checkpoint-4: no trainer_state.json" in result.stderr


def read_complete(run_dir):
    path = Path(run_dir) / "events.jsonl"
    data = path.read_bytes() if path.exists() else b""
    return [json.loads(line) for line in data[: data.rfind(b"\n") + 1].decode("utf-8").splitlines()]


def test_a_malformed_line_past_the_preflight_window_is_named_with_its_line(tmp_path):
    example = TINY_CONFIG.parent
    lines = [json.dumps({"question": f"質問 {i}"}, ensure_ascii=False) for i in range(3000)]
    lines[2499] = '{"question": "壊れた行'
    data = tmp_path / "many questions.jsonl"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = tmp_path / "big.yaml"
    config.write_text(
        TINY_CONFIG.read_text(encoding="utf-8")
        .replace("models/tiny-qwen2", str(example / "models" / "tiny-qwen2"))
        .replace("data/questions.jsonl", str(data))
        .replace("rewards.emoji_reward", "rewards_example.emoji_reward")
        .replace("rewards.length_reward", "rewards_example.length_reward"),
        encoding="utf-8",
    )
    (tmp_path / "rewards_example.py").write_text((example / "rewards.py").read_text(encoding="utf-8"), encoding="utf-8")
    run_dir = tmp_path / "runs" / "bad-line"
    code, _, stderr = run_runner("--config", config, "--run-dir", run_dir, "--max-steps", 1, *FAST, cwd=tmp_path)
    assert code != 0
    end = read_events(run_dir)[-1]
    assert end["event"] == "end" and end["status"] == "failed"
    assert f"{data}:2500 is not valid JSON" in end["error"], end["error"][-2000:]
