"""`grpo-studio train` (dist/cli.js) drives the runner in the foreground: the CLI contract."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tiny_model import EXAMPLE_MODEL_DIR, REPO_ROOT, ensure_tiny_model

CLI = REPO_ROOT / "dist" / "cli.js"
EXAMPLE = REPO_ROOT / "examples" / "emoji-length"


@pytest.fixture(scope="module", autouse=True)
def example_model():
    return ensure_tiny_model(EXAMPLE_MODEL_DIR)


def train(*args, cwd):
    env = dict(os.environ, GRPO_STUDIO_PYTHON=sys.executable)
    return subprocess.run(["node", str(CLI), "train", *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, timeout=180)


def test_train_runs_the_config_and_prints_the_run_dir(tmp_path):
    assert CLI.exists(), "run npm run build first"
    run_dir = tmp_path / "run one"
    result = train("--config", "run.tiny.yaml", "--max-steps", "2", "--run-dir", run_dir, cwd=EXAMPLE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"run dir: {run_dir}"
    assert "run finished at step 2/2" in result.stdout
    assert "step 2/2" in result.stderr  # the progress line
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    assert events[-1]["event"] == "end" and events[-1]["status"] == "finished"
    assert any("rewards/emoji_reward/mean" in e.get("metrics", {}) for e in events if e["event"] == "log")

    report = subprocess.run(["node", str(CLI), "report", str(run_dir)], capture_output=True, text=True)
    assert report.returncode == 0, report.stderr
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert report.stdout.strip() == str(run_dir / "report.html")
    assert "rewards/emoji_reward/mean" in html and "<svg" in html and "<script" not in html


def test_train_resume_continues_and_a_failing_run_exits_non_zero(tmp_path):
    run_dir = tmp_path / "run"
    assert train("--config", "run.tiny.yaml", "--max-steps", "2", "--run-dir", run_dir, cwd=EXAMPLE).returncode == 0
    (run_dir / "checkpoint-2").exists() or pytest.skip("no checkpoint at the last step")
    resumed = train("--config", "run.tiny.yaml", "--max-steps", "3", "--run-dir", run_dir, "--resume", cwd=EXAMPLE)
    assert resumed.returncode == 0, resumed.stderr
    assert "run finished at step 3/3" in resumed.stdout

    bad = tmp_path / "bad.yaml"
    bad.write_text((EXAMPLE / "run.tiny.yaml").read_text(encoding="utf-8") + "\nmax_prompt_length: 256\n", encoding="utf-8")
    failed = train("--config", bad, "--max-steps", "1", "--run-dir", tmp_path / "bad run", cwd=EXAMPLE)
    assert failed.returncode == 1
    assert "bad.yaml:" in failed.stderr and "max_prompt_length' was removed" in failed.stderr
    assert not (tmp_path / "bad run").exists(), "checked before a run (and its model loading) starts"


def test_train_usage_errors_exit_2(tmp_path):
    assert train("--max-steps", "2", cwd=tmp_path).returncode == 2
    assert train("--config", "missing.yaml", cwd=tmp_path).returncode == 2


@pytest.mark.parametrize(
    "how",
    [
        "SIGTERM to the CLI (a job scheduler)",
        "SIGINT to the process group (Ctrl+C in a terminal: the runner gets it too)",
    ],
)
def test_a_signal_stops_with_a_checkpoint_and_exits_128_plus_it(tmp_path, how):
    import signal
    import time

    sig = signal.SIGTERM if how.startswith("SIGTERM") else signal.SIGINT
    run_dir = tmp_path / "停止 run"
    env = dict(os.environ, GRPO_STUDIO_PYTHON=sys.executable)
    cli = subprocess.Popen(
        ["node", str(CLI), "train", "--config", "run.tiny.yaml", "--max-steps", "200", "--run-dir", str(run_dir)],
        cwd=EXAMPLE, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    events_file = run_dir / "events.jsonl"
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline and not (events_file.exists() and '"event": "log"' in events_file.read_text(encoding="utf-8")):
        time.sleep(0.2)
    if how.startswith("SIGTERM"):
        cli.send_signal(sig)
    else:
        os.killpg(cli.pid, sig)
    stdout, stderr = cli.communicate(timeout=120)
    assert cli.returncode == 128 + sig, stderr
    assert "stopping at the next step" in stderr
    events = [json.loads(line) for line in events_file.read_text(encoding="utf-8").splitlines()]
    end = events[-1]
    assert end["event"] == "end" and end["status"] == "stopped", end
    checkpoints = [e for e in events if e["event"] == "checkpoint"]
    assert checkpoints and Path(checkpoints[-1]["path"]).is_dir()
    assert "run stopped at step" in stdout
    assert not (run_dir / "STOP").exists(), "no stop request left behind for the next session"


def test_the_run_dir_is_checked_before_anything_starts(tmp_path):
    own = tmp_path / "my project"
    own.mkdir()
    (own / "README.md").write_text("mine", encoding="utf-8")
    result = train("--config", "run.tiny.yaml", "--max-steps", "1", "--run-dir", own, cwd=EXAMPLE)
    assert result.returncode == 2 and "not empty and holds no run" in result.stderr
    assert [p.name for p in own.iterdir()] == ["README.md"] and (own / "README.md").read_text(encoding="utf-8") == "mine"

    earlier = tmp_path / "earlier run"
    earlier.mkdir()
    (earlier / "events.jsonl").write_text('{"event": "start"}\n{"event": "end", "status": "finished"}\n', encoding="utf-8")
    result = train("--config", "run.tiny.yaml", "--max-steps", "1", "--run-dir", earlier, cwd=EXAMPLE)
    assert result.returncode == 2 and "already holds a run: add --resume" in result.stderr
    result = train("--config", "run.tiny.yaml", "--max-steps", "1", "--run-dir", earlier, "--resume", cwd=EXAMPLE)
    assert result.returncode == 2 and "has no checkpoint yet" in result.stderr

    missing = tmp_path / "nowhere"
    result = train("--config", "run.tiny.yaml", "--resume", "--run-dir", missing, cwd=EXAMPLE)
    assert result.returncode == 2 and "holds no run" in result.stderr
    assert not missing.exists()
