"""`grpo-studio train --script`: the user's own training script, in the origin's shape (everything
at module level, no __main__ guard), trained unedited with GRPO Studio's callback on its trainer;
and the callback on its own, as a cluster job would add it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from test_event_definition import problems_of
from tiny_model import REPO_ROOT, ensure_tiny_model

CLI = REPO_ROOT / "dist" / "cli.js"

SCRIPT = (REPO_ROOT / "test" / "fixtures" / "origin" / "train_tiny.py").read_text(encoding="utf-8")


def workspace(tmp_path: Path, script: str = SCRIPT) -> Path:
    folder = tmp_path / "script 日本語"
    folder.mkdir()
    (folder / "train.py").write_text(script, encoding="utf-8")
    return folder


def script_args(steps: int, model: str | None = None) -> list[str]:
    return ["--model", model or str(ensure_tiny_model()), "--steps", str(steps)]


def train(folder: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, GRPO_STUDIO_PYTHON=sys.executable)
    return subprocess.run(["node", str(CLI), "train", *args], cwd=folder, env=env, capture_output=True, text=True, timeout=timeout)


def events_of(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()]


def test_a_script_trains_as_a_run_stops_with_a_checkpoint_and_resumes(tmp_path: Path) -> None:
    folder = workspace(tmp_path)
    run_dir = folder / "runs" / "mine"
    env = dict(os.environ, GRPO_STUDIO_PYTHON=sys.executable)
    cli = subprocess.Popen(
        ["node", str(CLI), "train", "--script", "train.py", "--run-dir", str(run_dir), "--", *script_args(200)],
        cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    events_file = run_dir / "events.jsonl"
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline and not (events_file.exists() and events_file.read_text(encoding="utf-8").count('"event": "log"') >= 2):
        time.sleep(0.2)
    os.killpg(cli.pid, signal.SIGINT)  # Ctrl+C in the terminal
    stdout, stderr = cli.communicate(timeout=120)
    assert cli.returncode == 130, stderr
    assert stdout.splitlines()[0] == f"run dir: {run_dir}"
    first = events_of(run_dir)
    assert first[0]["event"] == "start" and first[0]["config_file"] == str(folder / "train.py")
    assert first[0]["argv"][1:] == script_args(200) and first[0]["config"]["script"]["output_dir"] == "out"
    assert first[-1]["event"] == "end" and first[-1]["status"] == "stopped"
    stopped_at = first[-1]["step"]
    assert (run_dir / f"checkpoint-{stopped_at}").is_dir(), "Stop saves a checkpoint in the run folder"
    assert not (folder / "out").exists(), "checkpoints go to the run folder, not the script's output_dir"
    assert "AFTER TRAIN" in (run_dir / "runner.log").read_text(encoding="utf-8"), "the script's own code after train() ran"

    resumed = train(folder, "--script", "train.py", "--run-dir", str(run_dir), "--resume", "--", *script_args(stopped_at + 2))
    assert resumed.returncode == 0, resumed.stderr
    assert f"run finished at step {stopped_at + 2}/{stopped_at + 2}" in resumed.stdout
    events = events_of(run_dir)
    second = events[len(first):]
    assert second[0]["resumed_from"]["step"] == stopped_at
    steps = [e["step"] for e in events if e["event"] == "log"]
    assert steps == list(range(1, stopped_at + 3)), "every step's log lands once, the count continues"
    assert events[-1]["status"] == "finished"
    assert [e for e in problems_of(run_dir) if e["problems"]] == []


def test_a_script_that_fails_or_trains_nothing_says_so(tmp_path: Path) -> None:
    folder = workspace(tmp_path)
    result = train(folder, "--script", "train.py", "--run-dir", str(folder / "runs" / "bad"), "--", *script_args(2, "models/no-such-model"))
    assert result.returncode == 1
    assert "run failed at step 0" in result.stdout and "runner.log" in result.stderr
    events = events_of(folder / "runs" / "bad")
    assert [e["event"] for e in events] == ["start", "end"] and events[-1]["status"] == "failed"
    assert "OSError" in events[-1]["error"] and f'File "{folder / "train.py"}"' in events[-1]["error"], "the cause, from the script's own line"

    (folder / "idle.py").write_text("print('no trainer here')\n", encoding="utf-8")
    result = train(folder, "--script", "idle.py", "--run-dir", str(folder / "runs" / "idle"))
    assert result.returncode == 1 and "idle.py created no GRPOTrainer: nothing was trained" in result.stderr


def test_the_pre_flight_checks_the_rewards_the_script_wires(tmp_path: Path) -> None:
    folder = workspace(tmp_path, SCRIPT.replace("def length_reward(completions, **kwargs):", "def length_reward(completions):"))
    result = train(folder, "--script", "train.py", "--", *script_args(2))
    assert result.returncode == 1
    assert "cannot start" in result.stderr and "length_reward" in result.stderr and "train.py:17:" in result.stderr
    assert not (folder / "runs").exists(), "refused before any model loads"


def test_usage(tmp_path: Path) -> None:
    folder = workspace(tmp_path)
    assert train(folder, "--script", "nope.py").returncode == 2
    assert train(folder, "--script", "train.py", "--config", "x.yaml").returncode == 2
    assert train(folder, "--config", "x.yaml", "--", *script_args(2)).returncode == 2


def test_the_callback_on_its_own_writes_a_run_folder_the_editor_reads(tmp_path: Path) -> None:
    """`pip install ./python` (as a cluster job would), then callbacks=[GRPOStudioCallback(run_dir)] in a plain `python train.py`."""
    source, site = tmp_path / "package source", tmp_path / "site"
    source.mkdir()
    for name in ("pyproject.toml", "grpo_studio_callback.py"):
        shutil.copy(REPO_ROOT / "python" / name, source / name)
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--target", str(site), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    assert (site / "grpo_studio_callback.py").is_file() and list(site.glob("grpo_studio_callback-*.dist-info"))
    folder = workspace(tmp_path, SCRIPT.replace(
        "train_dataset=dataset)",
        "train_dataset=dataset,\n                      callbacks=[GRPOStudioCallback('cluster-run')])",
    ).replace("import re\n", "import re\nfrom grpo_studio_callback import GRPOStudioCallback\n"))
    env = dict(os.environ, PYTHONPATH=str(site))
    result = subprocess.run([sys.executable, "train.py", *script_args(2)], cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    events = events_of(folder / "cluster-run")
    assert [e["event"] for e in events][:2] == ["start", "train_begin"] and events[-1]["status"] == "finished"
    assert any(e["event"] == "completions" and e["rows"][0]["rewards"] for e in events), "the trainer's batches, found without being handed it"
    assert [e for e in problems_of(folder / "cluster-run") if e["problems"]] == []
    report = subprocess.run(["node", str(CLI), "report", str(folder / "cluster-run")], capture_output=True, text=True, timeout=60)
    assert report.returncode == 0, report.stderr


RUNNER = REPO_ROOT / "python" / "grpo_studio_runner.py"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def two_ranks(folder: Path, run_dir: Path, steps: int, *runner_args: str) -> subprocess.Popen[str]:
    """The runner asked for two processes by an accelerate config: `accelerate launch` starts them
    through torchrun, here on the CPU with gloo, as it would on two GPUs."""
    accelerate_config = folder / "two processes.yaml"
    accelerate_config.write_text(
        "compute_environment: LOCAL_MACHINE\ndistributed_type: MULTI_GPU\nnum_processes: 2\n"
        f"num_machines: 1\nmachine_rank: 0\nmain_process_ip: 127.0.0.1\nmain_process_port: {free_port()}\n"
        "mixed_precision: 'no'\nuse_cpu: false\ngpu_ids: all\n",
        encoding="utf-8",
    )
    argv = [
        sys.executable, str(RUNNER), "--script", "train.py", "--run-dir", str(run_dir), "--accelerate-config", str(accelerate_config),
        *runner_args, "--", *script_args(steps),
    ]
    return subprocess.Popen(argv, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS="1"))


def test_a_script_on_two_ranks_logs_once_stops_together_and_resumes(tmp_path: Path) -> None:
    folder = workspace(tmp_path)
    run_dir = folder / "runs" / "two ranks"
    ranks = two_ranks(folder, run_dir, 200)
    events_file = run_dir / "events.jsonl"
    deadline = time.monotonic() + 200
    while time.monotonic() < deadline and not (events_file.exists() and events_file.read_text(encoding="utf-8").count('"event": "log"') >= 2):
        time.sleep(0.2)
    (run_dir / "STOP").write_text("")
    # Both ranks must stop at the same step: a checkpoint is collective, one rank going on would hang.
    output, _ = ranks.communicate(timeout=200)
    assert ranks.returncode == 0, output[-3000:]
    first = events_of(run_dir)
    assert first[0]["devices"]["world_size"] == 2
    assert first[-1]["event"] == "end" and first[-1]["status"] == "stopped", first[-1]
    stopped_at = first[-1]["step"]
    assert (run_dir / f"checkpoint-{stopped_at}").is_dir()
    card = (run_dir / "README.md").read_text(encoding="utf-8")
    assert "[None]" not in card and "fine-tuned version of `tiny-qwen2`" in card, "the model card names the local base model"
    assert output.count("AFTER TRAIN") == 2, "the script's code after train() ran on both ranks"

    ranks = two_ranks(folder, run_dir, stopped_at + 2, "--resume")
    output, _ = ranks.communicate(timeout=200)
    assert ranks.returncode == 0, output[-3000:]
    events = events_of(run_dir)
    steps = [e["step"] for e in events if e["event"] == "log"]
    assert steps == list(range(1, stopped_at + 3)), "each step's log once (the main rank's), the count continues"
    assert [e["event"] for e in events].count("start") == 2 and events[-1]["status"] == "finished"
    assert [e for e in problems_of(run_dir) if e["problems"]] == []


def test_launcher_options_of_a_script(tmp_path: Path) -> None:
    probe = "import os\nprint('UNDER ACCELERATE', 'ACCELERATE_MIXED_PRECISION' in os.environ)\n"
    folder = workspace(tmp_path, probe + SCRIPT)
    # More processes than GPUs: said, and trained in one process (as a run config's num_processes).
    result = train(folder, "--script", "train.py", "--run-dir", str(folder / "runs" / "np"), "--num-processes", "2", "--", *script_args(1))
    assert result.returncode == 0, result.stderr
    log = (folder / "runs" / "np" / "runner.log").read_text(encoding="utf-8")
    assert "note: --num-processes 2 needs as many GPUs (found 0): training in one process" in log
    assert "UNDER ACCELERATE False" in log
    # An accelerate config is always honoured: the script runs under `accelerate launch --config_file`.
    (folder / "cpu accelerate.yaml").write_text(
        "compute_environment: LOCAL_MACHINE\ndistributed_type: 'NO'\nnum_processes: 1\nnum_machines: 1\n"
        "machine_rank: 0\nmixed_precision: 'no'\nuse_cpu: true\n",
        encoding="utf-8",
    )
    result = train(folder, "--script", "train.py", "--run-dir", str(folder / "runs" / "cfg"), "--accelerate-config", "cpu accelerate.yaml",
                   "--", *script_args(1))
    assert result.returncode == 0, result.stderr
    assert "UNDER ACCELERATE True" in (folder / "runs" / "cfg" / "runner.log").read_text(encoding="utf-8")
    assert events_of(folder / "runs" / "cfg")[-1]["status"] == "finished"
    assert train(folder, "--script", "train.py", "--num-processes", "0").returncode == 2
    assert train(folder, "--config", "x.yaml", "--num-processes", "2").returncode == 2
