"""Every line the real runner writes matches the TypeScript definition of its events.

src/training/core/events.ts defines each event and field that python/grpo_studio_runner.py writes;
the Runs view, the dashboard, the report and the CLI read events through it. This runs the runner
for real (the tiny model on CPU: a finished run with checkpoints, a run stopped by a STOP file, a
resumed run, a failed run) and checks every line with the TypeScript check, so the two sides
cannot drift apart unnoticed.
"""

import json
import subprocess
from pathlib import Path

from conftest import REPO_ROOT
from test_runner import FAST, TINY_CONFIG, read_events, run_runner, start_runner, wait_for_events

HELPER = REPO_ROOT / "out" / "fidelity" / "events_cli.js"


def problems_of(run_dir):
    text = (Path(run_dir) / "events.jsonl").read_text(encoding="utf-8")
    result = subprocess.run(["node", str(HELPER)], input=text, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def test_every_event_the_runner_writes_matches_the_typescript_definition(tmp_path):
    assert HELPER.exists(), "run `node scripts/test.mjs python` (it builds out/fidelity/events_cli.js)"
    run_dir = tmp_path / "runs" / "full"
    code, _, stderr = run_runner("--config", TINY_CONFIG, "--run-dir", run_dir, "--max-steps", 2, "--save_steps", 1, *FAST, cwd=tmp_path)
    assert code == 0, stderr[-3000:]

    stopped_dir = tmp_path / "runs" / "stopped"
    proc = start_runner("--config", TINY_CONFIG, "--run-dir", stopped_dir, "--max-steps", 50, *FAST, cwd=tmp_path)
    wait_for_events(stopped_dir, lambda events: any(e["event"] == "log" for e in events), proc)
    (stopped_dir / "STOP").write_text("")
    proc.communicate(timeout=120)
    code, _, stderr = run_runner("--config", TINY_CONFIG, "--run-dir", stopped_dir, "--resume", "--max-steps", 4, *FAST, cwd=tmp_path)
    assert code == 0, stderr[-3000:]

    # A reward that raises: the run fails after its start, with the traceback in its end event.
    (tmp_path / "raising.py").write_text("def boom(completions, **kwargs):\n    raise RuntimeError('boom')\n", encoding="utf-8")
    failing = tmp_path / "failing.yaml"
    example = TINY_CONFIG.parent
    failing.write_text(
        TINY_CONFIG.read_text(encoding="utf-8")
        .replace("models/tiny-qwen2", str(example / "models" / "tiny-qwen2"))
        .replace("data/questions.jsonl", str(example / "data" / "questions.jsonl"))
        .replace("  - rewards.emoji_reward\n  - rewards.length_reward\n", "  - raising.py::boom\n"),
        encoding="utf-8",
    )
    failed_dir = tmp_path / "runs" / "failed"
    code, _, _ = run_runner("--config", failing, "--run-dir", failed_dir, "--max-steps", 2, *FAST, cwd=tmp_path)
    assert code != 0
    assert [e["status"] for e in read_events(failed_dir) if e["event"] == "end"] == ["failed"]

    seen = set()
    for directory in (run_dir, stopped_dir, failed_dir):
        for entry in problems_of(directory):
            seen.add(entry["event"])
            assert entry["problems"] == [], f"{directory.name} line {entry['line']}: {entry['problems']}"
    assert {"start", "train_begin", "log", "completions", "checkpoint", "summary", "stop_requested", "end"} <= seen, seen
    statuses = [e["status"] for e in read_events(stopped_dir) if e["event"] == "end"]
    assert statuses == ["stopped", "finished"]
