"""python/grpo_studio_runner.py end to end: real TRL GRPO runs on CPU with the tiny model.

Each run is a subprocess (the runner owns signals, stdout and its exit status), a few seconds each.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tiny_model import EXAMPLE_MODEL_DIR, REPO_ROOT, ensure_tiny_model

RUNNER = REPO_ROOT / "python" / "grpo_studio_runner.py"
EXAMPLE = REPO_ROOT / "examples" / "emoji-length"
TINY_CONFIG = EXAMPLE / "run.tiny.yaml"
FAST = ["--max_completion_length", "8"]  # keeps every step well under a second


@pytest.fixture(scope="module", autouse=True)
def example_model():
    """run.tiny.yaml's model: examples/emoji-length/models/tiny-qwen2 (git-ignored)."""
    return ensure_tiny_model(EXAMPLE_MODEL_DIR)


def start_runner(*args, cwd):
    return subprocess.Popen(
        [sys.executable, str(RUNNER), *map(str, args)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_runner(*args, cwd, timeout=120):
    proc = start_runner(*args, cwd=cwd)
    stdout, stderr = proc.communicate(timeout=timeout)
    return proc.returncode, stdout, stderr


def read_events(run_dir):
    """Every line of events.jsonl, parsed; fails if any line is cut short or is not JSON."""
    data = (Path(run_dir) / "events.jsonl").read_bytes()
    assert data.endswith(b"\n"), "the last event line is incomplete"
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


def wait_for_events(run_dir, predicate, proc, timeout=60):
    path = Path(run_dir) / "events.jsonl"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # The runner may be writing right now: look at complete lines only, as a live reader must.
        data = path.read_bytes() if path.exists() else b""
        complete = data[: data.rfind(b"\n") + 1].decode("utf-8").splitlines()
        if predicate([json.loads(line) for line in complete]):
            return
        assert proc.poll() is None, f"the runner exited early: {proc.communicate()[1][-3000:]}"
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for events in {path}")


def n_logs(events):
    return sum(e["event"] == "log" for e in events)


def steps(events, kind):
    return [e["step"] for e in events if e["event"] == kind]


def test_example_configs_are_trl_grpo_configs():
    """TRL's own `trl grpo` parser knows every key of the examples except GRPO Studio's extras."""
    from trl.scripts.grpo import make_parser

    # use_cpu: the SmolLM2 configs ask for bf16, which GRPOConfig refuses on a machine without a GPU.
    for name in ("run.tiny.yaml", "run.smollm2.yaml", "run.smollm2-lora.yaml"):
        *_, config_rest, cli_rest = make_parser().parse_args_and_config(
            ["--config", str(EXAMPLE / name), "--use_cpu", "true"],
            return_remaining_strings=True,
            separate_remaining_strings=True,
        )
        assert config_rest[::2] == ["--column_mapping"], name
        assert cli_rest == []


def test_unknown_config_key_is_an_error(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(TINY_CONFIG.read_text(encoding="utf-8") + "max_prompt_length: 256\n", encoding="utf-8")
    code, stdout, stderr = run_runner("--config", config, cwd=tmp_path, timeout=60)
    assert code == 2
    assert "max_prompt_length" in stderr
    assert stdout == "" and not (tmp_path / "runs").exists()


def test_short_run_finishes(tmp_path):
    # Run from elsewhere: model, data and the rewards module are found next to the config.
    code, stdout, stderr = run_runner("--config", TINY_CONFIG, "--max-steps", 3, *FAST, cwd=tmp_path)
    assert code == 0, stderr[-3000:]
    first_line = stdout.splitlines()[0]
    assert first_line.startswith("run_dir: ")
    run_dir = Path(first_line[len("run_dir: "):])
    assert run_dir.parent == tmp_path / "runs" and run_dir.name.endswith("-run.tiny")

    events = read_events(run_dir)
    start = events[0]
    assert start["event"] == "start" and start["resumed_from"] is None
    assert {"python", "torch", "transformers", "trl"} <= set(start["versions"])
    assert start["devices"]["device"] == "cpu"
    assert start["config"]["training"]["num_generations"] == 8
    assert start["config"]["training"]["max_steps"] == 3 and start["max_steps"] == 3
    assert events[1] == {**events[1], "event": "train_begin", "step": 0, "max_steps": 3}

    assert steps(events, "log") == [1, 2, 3]
    for log in (e for e in events if e["event"] == "log"):
        for key in ("loss", "reward", "reward_std", "kl", "rewards/emoji_reward/mean", "rewards/length_reward/mean"):
            assert key in log["metrics"], key
    completions = [e for e in events if e["event"] == "completions"]
    assert [e["step"] for e in completions] == [1, 2, 3]
    questions = {json.loads(line)["question"] for line in (EXAMPLE / "data" / "questions.jsonl").open(encoding="utf-8")}
    for event in completions:
        assert 0 < len(event["rows"]) <= 16
        for row in event["rows"]:
            assert row["prompt"] in questions  # `question` mapped to `prompt`, plain strings
            assert isinstance(row["completion"], str)
            assert set(row["rewards"]) == {"emoji_reward", "length_reward"}
            assert isinstance(row["advantage"], float)
    assert steps(events, "checkpoint") == [3]
    end = events[-1]
    assert end["event"] == "end" and end["status"] == "finished" and end["step"] == 3
    assert (run_dir / "model.safetensors").is_file()
    card = (run_dir / "README.md").read_text(encoding="utf-8")
    assert "[None]" not in card and "fine-tuned version of `tiny-qwen2` (a local model:" in card


def test_stop_file_then_resume_continues_the_step_count(tmp_path):
    run_dir = tmp_path / "run"
    common = ["--config", TINY_CONFIG, "--run-dir", run_dir, *FAST, "--save_steps", 1000]
    proc = start_runner(*common, "--max-steps", 500, cwd=tmp_path)
    wait_for_events(run_dir, lambda events: n_logs(events) >= 2, proc)
    (run_dir / "STOP").touch()
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr[-3000:]
    assert stdout.splitlines()[0] == f"run_dir: {run_dir}"

    events = read_events(run_dir)
    end = events[-1]
    assert end["event"] == "end" and end["status"] == "stopped"
    stopped_at = end["step"]
    assert 2 <= stopped_at < 500
    assert [e["event"] for e in events if e["event"] == "stop_requested"] == ["stop_requested"]
    assert steps(events, "checkpoint") == [stopped_at]
    assert steps(events, "log")[-1] == stopped_at  # the stopping step is logged, then saved
    assert (run_dir / f"checkpoint-{stopped_at}").is_dir()
    assert not (run_dir / "STOP").exists()

    code, stdout, stderr = run_runner(*common, "--max-steps", stopped_at + 2, "--resume", cwd=tmp_path)
    assert code == 0, stderr[-3000:]
    events = read_events(run_dir)
    resumed = [e for e in events if e["event"] == "start"][1]
    assert resumed["resumed_from"]["step"] == stopped_at
    assert [(e["step"], e["max_steps"]) for e in events if e["event"] == "train_begin"] == [
        (0, 500),
        (stopped_at, stopped_at + 2),
    ]
    assert resumed["resumed_from"]["checkpoint"] == str(run_dir / f"checkpoint-{stopped_at}")
    assert steps(events, "log") == list(range(1, stopped_at + 3))  # continued, nothing logged twice
    assert steps(events, "completions") == list(range(1, stopped_at + 3))
    assert steps(events, "checkpoint") == [stopped_at, stopped_at + 2]
    assert [e["status"] for e in events if e["event"] == "end"] == ["stopped", "finished"]


def test_sigterm_stops_at_the_next_step_with_a_checkpoint(tmp_path):
    run_dir = tmp_path / "run"
    proc = start_runner("--config", TINY_CONFIG, "--run-dir", run_dir, *FAST, "--max-steps", 500, cwd=tmp_path)
    wait_for_events(run_dir, lambda events: n_logs(events) >= 1, proc)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr[-3000:]
    events = read_events(run_dir)
    assert [e.get("reason") for e in events if e["event"] == "stop_requested"] == ["SIGTERM"]
    end = events[-1]
    assert end["status"] == "stopped" and steps(events, "checkpoint") == [end["step"]]


def test_sigterm_while_starting_up_stops_after_the_first_step(tmp_path):
    """The editor may ask for a stop while TRL is still being imported: it is kept, not fatal."""
    run_dir = tmp_path / "run"
    proc = start_runner("--config", TINY_CONFIG, "--run-dir", run_dir, *FAST, "--max-steps", 500, cwd=tmp_path)
    time.sleep(0.5)
    assert not (run_dir / "events.jsonl").exists()
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr[-3000:]
    events = read_events(run_dir)
    assert steps(events, "log") == [1] and steps(events, "checkpoint") == [1]
    assert events[-1]["status"] == "stopped"


FLAKY_REWARD = '''
def flaky_reward(completions, trainer_state, **kwargs):
    if trainer_state.global_step >= 1:  # while generating for step 2
        raise RuntimeError("flaky_reward broke at step 2")
    return [float(len(c[0]["content"])) for c in completions]
'''


def test_reward_raising_mid_run_ends_failed_with_its_traceback(tmp_path):
    (tmp_path / "flaky.py").write_text(FLAKY_REWARD)
    config = tmp_path / "flaky.yaml"
    config.write_text(
        "\n".join(
            [
                f"model_name_or_path: {json.dumps(str(EXAMPLE_MODEL_DIR))}",
                f"dataset_name: {json.dumps(str(EXAMPLE / 'data' / 'questions.jsonl'))}",  # a local file
                "column_mapping: {question: prompt}",
                "system_prompt: 絵文字で答えて。",  # chat format: prompts become message lists
                "reward_funcs: [flaky.py::flaky_reward, think_format_reward]",
                "num_generations: 4",
                "per_device_train_batch_size: 4",
                "max_completion_length: 8",
                "max_steps: 5",
                "logging_steps: 1",
                "use_cpu: true",
                "bf16: false",
                "activation_checkpointing: false",
                "report_to: none",
            ]
        ),
        encoding="utf-8",
    )
    code, stdout, stderr = run_runner("--config", config, "--run-dir", tmp_path / "run", cwd=REPO_ROOT)
    assert code == 1
    assert "RuntimeError: flaky_reward broke at step 2" in stderr

    events = read_events(tmp_path / "run")
    assert [e["event"] for e in events] == ["start", "train_begin", "log", "completions", "end"]
    log, completions, end = events[2:]
    assert log["step"] == 1 and "rewards/flaky_reward/mean" in log["metrics"]
    assert "rewards/think_format_reward/mean" in log["metrics"]
    row = completions["rows"][0]
    assert row["prompt"][0] == {"role": "system", "content": "絵文字で答えて。"}
    assert row["prompt"][1]["role"] == "user"
    assert row["completion"][0]["role"] == "assistant"
    assert end["status"] == "failed" and end["step"] == 1
    assert "flaky.py" in end["error"] and "RuntimeError: flaky_reward broke at step 2" in end["error"]


def test_kill_9_leaves_every_written_line_parseable(tmp_path):
    run_dir = tmp_path / "run"
    proc = start_runner("--config", TINY_CONFIG, "--run-dir", run_dir, *FAST, "--max-steps", 500, cwd=tmp_path)
    wait_for_events(run_dir, lambda events: n_logs(events) >= 3, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    events = read_events(run_dir)  # every line complete and valid JSON
    assert events[0]["event"] == "start"
    assert n_logs(events) >= 3 and not any(e["event"] == "end" for e in events)
    logged = steps(events, "log")
    assert logged == list(range(1, len(logged) + 1))


def test_two_processes_under_accelerate_launch_only_rank_0_writes_and_a_stop_reaches_both(tmp_path):
    # An accelerate config_file asks for two processes; torchrun's launcher with gloo runs them on
    # this CPU. Each rank takes 4 prompts' worth of completions: 8 = num_generations only across
    # both ranks, so GRPOConfig must not be checked before the relaunch.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    accelerate_config = tmp_path / "two processes.yaml"
    accelerate_config.write_text(
        "compute_environment: LOCAL_MACHINE\ndistributed_type: MULTI_GPU\nnum_processes: 2\n"
        f"num_machines: 1\nmachine_rank: 0\nmain_process_ip: 127.0.0.1\nmain_process_port: {port}\n"
        "mixed_precision: 'no'\nuse_cpu: false\ngpu_ids: all\n",
        encoding="utf-8",
    )
    config = tmp_path / "run.two.yaml"
    config.write_text(
        TINY_CONFIG.read_text(encoding="utf-8").replace("per_device_train_batch_size: 8", "per_device_train_batch_size: 4")
        + f"config_file: {accelerate_config}\n",
        encoding="utf-8",
    )
    run_dir = tmp_path / "二つ run"
    proc = start_runner("--config", config, "--run-dir", run_dir, "--max-steps", 500, *FAST, "--save_steps", 1000, cwd=EXAMPLE)
    wait_for_events(run_dir, lambda events: n_logs(events) >= 2, proc, timeout=120)
    (run_dir / "STOP").touch()
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr[-3000:]

    events = read_events(run_dir)
    start = events[0]
    assert start["devices"]["world_size"] == 2
    assert [e["event"] for e in events].count("start") == 1, "only rank 0 writes"
    end = events[-1]
    assert end["event"] == "end" and end["status"] == "stopped"
    assert steps(events, "log") == list(range(1, end["step"] + 1))
    assert steps(events, "checkpoint") == [end["step"]]
    assert (run_dir / f"checkpoint-{end['step']}").is_dir()
    assert all(len(e["rows"]) == 8 for e in events if e["event"] == "completions"), "both ranks' completions, gathered"
    assert not (run_dir / "STOP").exists()


def test_a_missing_local_model_folder_fails_at_once_with_its_path(tmp_path):
    # `models/` exists next to the config: `models/nope` is meant as a folder, not a hub id.
    config = tmp_path / "run.yaml"
    config.write_text(TINY_CONFIG.read_text(encoding="utf-8").replace("models/tiny-qwen2", "models/nope"), encoding="utf-8")
    started = time.monotonic()
    code, _, stderr = run_runner("--config", config, "--run-dir", tmp_path / "run", "--max-steps", 1, cwd=EXAMPLE)
    assert code == 1
    assert "model_name_or_path: models/nope does not exist" in stderr
    assert time.monotonic() - started < 60, "no retries against the hub"
    end = read_events(tmp_path / "run")[-1]
    assert end["event"] == "end" and end["status"] == "failed" and "models/nope does not exist" in end["error"]
