"""The fault-injection matrix: each case breaks one thing, runs the `grpo-studio` CLI as a user would
(a fresh workspace, the test venv as GRPO_STUDIO_PYTHON), and checks three things: the exit code,
the key words of the message, and that nothing already written was lost (the other rewards' scores,
the other files' verdicts, the run's history, the input files).

Training faults that need a run in progress (a second trainer, kill -9 of the CLI or the runner,
Ctrl+C) are in test_run_ownership.py and test_runner.py; the chat-template time limit of `sample`
is in test/onnx/onnx.test.ts (it needs the ONNX fixtures).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from tiny_model import EXAMPLE_MODEL_DIR, REPO_ROOT, copy_example, ensure_tiny_model

CLI = REPO_ROOT / "dist" / "cli.js"

SAMPLES = "".join(
    json.dumps({"prompt": p, "completion": c}, ensure_ascii=False) + "\n" for p, c in [("p1", "aa"), ("p1", "bbb"), ("p2", "c"), ("p2", "dddd")]
)
GOOD = "def good_reward(completions, **kwargs):\n    return [float(len(c)) for c in completions]\n\n\n"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    seconds: float
    workspace: Path

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Case:
    id: str
    argv: list[str]
    code: int
    words: list[str]
    files: dict[str, str | bytes] = field(default_factory=dict)
    kept: Callable[[Result], None] | None = None  # what must have survived
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = 60


def run_case(case: Case, workspace: Path) -> Result:
    for name, content in case.files.items():
        path = workspace / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    env = {**os.environ, "GRPO_STUDIO_PYTHON": sys.executable, "LANG": "C.UTF-8", "LC_ALL": "", **case.env}
    argv = [str(workspace / a[len("{ws}/") :]) if a.startswith("{ws}/") else a for a in case.argv]
    started = time.monotonic()
    proc = subprocess.run(
        ["node", str(CLI), *argv], cwd=workspace, env=env, capture_output=True, text=True, timeout=case.timeout, stdin=subprocess.DEVNULL
    )
    return Result(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started, workspace)


def check(case: Case, tmp_path: Path) -> Result:
    workspace = tmp_path / "ワーク space"
    workspace.mkdir(exist_ok=True)
    result = run_case(case, workspace)
    assert result.code == case.code, f"exit {result.code}, wanted {case.code}\n{result.output[-3000:]}"
    for word in case.words:
        assert word in result.output, f"{word!r} not in:\n{result.output[-3000:]}"
    assert "    at " not in result.stderr, f"a Node stack trace reached the user:\n{result.stderr[-3000:]}"
    if case.kept:
        case.kept(result)
    return result


# --- score: reward faults --------------------------------------------------------------------------


def good_scores_kept(result: Result) -> None:
    scores = json.loads(result.stdout)
    assert [s["rewards"]["good_reward"] for s in scores["samples"]] == [2, 3, 1, 4], "the good reward's scores survive"


def reward_fault(id: str, body: str, code: int, words: list[str], **extra) -> Case:
    source = "import math, os, subprocess, sys, time\n\n\n" + GOOD + f"def bad_reward(completions, **kwargs):\n{body}\n"
    return Case(
        id,
        ["score", "--rewards", "rewards.py::good_reward,bad_reward", "--samples", "s.jsonl", "--json", *extra.pop("argv", [])],
        code,
        words,
        files={"rewards.py": source, "s.jsonl": SAMPLES},
        **{"kept": good_scores_kept, **extra},
    )


def no_orphan(marker: str) -> Callable[[Result], None]:
    def kept(result: Result) -> None:
        good_scores_kept(result)
        time.sleep(0.3)
        alive = [p.parent.name for p in Path("/proc").glob("[0-9]*/cmdline") if marker.encode() in _read(p)]
        assert not alive, f"processes the reward started outlived the command: {alive}"

    return kept


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # the process ended meanwhile
        return b""


def limited_python(tmp: Path) -> str:
    """A python that runs under a 4 GB address-space limit, as a cluster job's ulimit would set."""
    wrapper = tmp / "limited-python"
    wrapper.write_text(f'#!/bin/sh\nulimit -v 4000000\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


SLEEP_MARKER = f"sleep 2{uuid.uuid4().int % 1000}.5"
SCORE_CASES = [
    reward_fault("raise", '    raise ValueError("boom here")', 1, ["bad_reward: ValueError: boom here", "rewards.py:9"]),
    reward_fault(
        "hang-with-timeout", "    time.sleep(60)", 1, ["bad_reward: Timeout: no answer within 3 s"], argv=["--timeout", "3"], timeout=30
    ),
    reward_fault(
        "hang-leaves-no-child",
        f'    subprocess.Popen(["sh", "-c", "{SLEEP_MARKER}"])\n    time.sleep(60)',
        1,
        ["bad_reward: Timeout"],
        argv=["--timeout", "3"],
        kept=no_orphan(SLEEP_MARKER),
        timeout=30,
    ),
    reward_fault("os-exit", "    os._exit(3)", 1, ["bad_reward: WorkerCrash", "exit code 3"]),
    reward_fault("segfault", "    import ctypes\n    ctypes.string_at(0)", 1, ["bad_reward: WorkerCrash"]),
    reward_fault("megabytes-of-prints", '    print("x" * 10_000_000)\n    return [0.0 for c in completions]', 0, ["bad_reward"]),
    reward_fault("reads-stdin", "    sys.stdin.read()\n    return [0.0 for c in completions]", 0, ["bad_reward"]),
    reward_fault("wrong-length", "    return [1.0]", 1, ["bad_reward", "returned 1 rewards, but 4 were expected"]),
    reward_fault("non-numeric", '    return ["high" for c in completions]', 1, ["bad_reward: InvalidReturn", "torch.tensor"]),
    reward_fault("nan", "    return [math.nan for c in completions]", 0, ["bad_reward: warning: NaN", "like None"]),
    reward_fault("inf", "    return [math.inf for c in completions]", 1, ["bad_reward: InvalidReturn: value 0 is inf", "advantage"]),
    reward_fault("none", "    return [None for c in completions]", 0, ["bad_reward"]),
    reward_fault("missing-import", "    import no_such_module_here\n    return []", 1, ["bad_reward: ModuleNotFoundError", "no_such_module_here"]),
    reward_fault("recursion", "    return bad_reward(completions)", 1, ["bad_reward: RecursionError"]),
    reward_fault(
        "30GB-under-a-memory-limit",
        "    block = bytearray(30 * 2**30)\n    return [0.0 for c in completions]",
        1,
        ["bad_reward: MemoryError"],
        env={"GRPO_STUDIO_PYTHON": "{limited}"},
    ),
    Case(
        "syntax-error",
        ["score", "--rewards", "broken.py", "--samples", "s.jsonl"],
        2,
        ["no reward functions found in broken.py", "syntax error at line 1"],
        files={"broken.py": "def bad_reward(completions, **kwargs:\n    return []\n", "s.jsonl": SAMPLES},
    ),
    Case(
        "samples-with-a-BOM",
        ["score", "--rewards", "rewards.py", "--samples", "s.jsonl", "--json"],
        0,
        [],
        files={"rewards.py": GOOD, "s.jsonl": "\ufeff" + SAMPLES},
        kept=good_scores_kept,
    ),
    Case(
        "shift-jis-samples",
        ["score", "--rewards", "rewards.py", "--samples", "s.jsonl"],
        2,
        ["not UTF-8", "Shift_JIS", "iconv"],
        files={"rewards.py": GOOD, "s.jsonl": '{"prompt": "質問", "completion": "こんにちは、日本語の答えです"}\n'.encode("shift_jis")},
    ),
    Case(
        "samples-is-a-folder",
        ["score", "--rewards", "rewards.py", "--samples", "folder"],
        2,
        ["folder", "is a folder"],
        files={"rewards.py": GOOD, "folder/x.txt": ""},
    ),
    *[
        Case(
            f"timeout-{value}",
            ["score", "--rewards", "rewards.py", "--samples", "s.jsonl", "--timeout", value],
            2,
            ["--timeout"],
            files={"rewards.py": GOOD, "s.jsonl": SAMPLES},
        )
        for value in ["abc", "0", "-5", "9999999999"]
    ],
    Case(
        "reward-file-over-the-size-limit",
        ["score", "--rewards", "big.py", "--samples", "s.jsonl"],
        2,
        ["big.py is larger than 8 MB"],
        files={"big.py": GOOD + "# " + "x" * 9_000_000 + "\n", "s.jsonl": SAMPLES},
    ),
]


@pytest.mark.parametrize("case", SCORE_CASES, ids=lambda c: c.id)
def test_score_faults(case: Case, tmp_path: Path) -> None:
    case.env = {k: (limited_python(tmp_path) if v == "{limited}" else v) for k, v in case.env.items()}
    result = check(case, tmp_path)
    if case.id == "hang-with-timeout":
        assert result.seconds < 15, f"a 3 s timeout took {result.seconds:.0f} s"


def test_a_child_the_reward_leaves_running_does_not_hold_the_command(tmp_path: Path) -> None:
    case = reward_fault("spawn", '    subprocess.Popen(["sleep", "15"])\n    return [0.0 for c in completions]', 0, ["bad_reward"])
    assert check(case, tmp_path).seconds < 8


# --- check: files the checker cannot take ---------------------------------------------------------


def other_file_checked(result: Result) -> None:
    names = [f["name"] for f in json.loads(result.stdout)["functions"]]
    assert "good_reward" in names, f"the other files are still checked: {names}"


def check_case(id: str, files: dict[str, str | bytes], words: list[str], code: int = 0, argv: list[str] | None = None) -> Case:
    return Case(
        id, ["check", "--json", *(argv or []), "."], code, words, files={"good.py": GOOD, **files}, kept=other_file_checked, timeout=90
    )


CHECK_CASES = [
    check_case("4000-nested-parentheses", {"deep.py": "x = " + "(" * 4000 + "1" + ")" * 4000 + "\n"}, []),
    check_case(
        "1000-nested-defs",
        {"defs.py": "".join("    " * i + f"def f{i}():\n" for i in range(1000)) + "    " * 1000 + "pass\n"},
        [],
    ),
    check_case("100000-nested-brackets", {"brackets.py": "x = " + "[" * 100_000 + "]" * 100_000 + "\n"}, []),
    check_case("200000-term-sum", {"sum.py": "x = " + " + ".join(["1"] * 200_000) + "\n"}, []),
    check_case(
        "20MB-source",
        {"huge.py": "def huge_reward(completions, **kwargs):\n    return [0.0 for c in completions]\n" + "x = 1\n" * 3_500_000},
        ["huge.py", "too large"],
        argv=["--max-file-kb", "100000"],
    ),
    check_case("binary-named-py", {"blob.py": bytes(range(256)) * 64}, []),
    check_case("not-utf8-py", {"sjis.py": "# 日本語のコメント\nx = 1\n".encode("shift_jis")}, ["sjis.py: not UTF-8 (looks like Shift_JIS)", "coding"]),
]


@pytest.mark.parametrize("case", CHECK_CASES, ids=lambda c: c.id)
def test_check_faults(case: Case, tmp_path: Path) -> None:
    check(case, tmp_path)


def test_check_survives_a_symlink_loop_and_a_fifo(tmp_path: Path) -> None:
    workspace = tmp_path / "ワーク space"
    (workspace / "loop").mkdir(parents=True)
    (workspace / "loop" / "again").symlink_to(workspace / "loop")
    os.mkfifo(workspace / "pipe.py")
    check(check_case("loop-and-fifo", {}, []), tmp_path)


def test_check_runs_no_user_code(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    payload = f"open({str(marker)!r}, 'w').write('ran')\n"
    files = {"sitecustomize.py": payload, "conftest.py": payload, "rewards.py": "import evil\n" + GOOD, "evil.py": payload}
    check(Case("no-user-code", ["check", "--json", "."], 0, [], files=files, kept=other_file_checked), tmp_path)
    assert not marker.exists(), "check ran user code"


# --- report and sample: outputs that would overwrite ----------------------------------------------


def history_intact(original: bytes) -> Callable[[Result], None]:
    def kept(result: Result) -> None:
        assert (result.workspace / "run" / "events.jsonl").read_bytes() == original, "the run's history was changed"

    return kept


EVENTS = (
    "".join(
        json.dumps(e) + "\n"
        for e in [
            {"event": "start", "time": 1, "max_steps": 2, "config": {}},
            {"event": "log", "time": 2, "step": 1, "metrics": {"reward": 0.5}},
            {"event": "log", "time": 2, "step": "two", "metrics": "not an object"},
        ]
    )
    + "not json at all\n"
    + '{"event": "end", "time": 3, "status": "finished", "step": 2}\n'
)

REPORT_CASES = [
    Case(
        "report-out-is-the-history",
        ["report", "run", "--out", "run/events.jsonl"],
        2,
        ["--out", "events.jsonl"],
        files={"run/events.jsonl": EVENTS},
        kept=history_intact(EVENTS.encode()),
    ),
    Case(
        "report-out-exists",
        ["report", "run", "--out", "old.html"],
        2,
        ["old.html", "--force"],
        files={"run/events.jsonl": EVENTS, "old.html": "keep me"},
        kept=lambda r: (r.workspace / "old.html").read_text() == "keep me" or pytest.fail("old.html was overwritten"),
    ),
    Case(
        "report-of-malformed-events",
        ["report", "run"],
        0,
        ["report.html"],
        files={"run/events.jsonl": EVENTS},
        kept=history_intact(EVENTS.encode()),
    ),
    Case("report-without-events", ["report", "nothing"], 1, ["neither a GRPO Studio run folder (events.jsonl) nor a TRL output folder"], files={"nothing/x": ""}),
    Case(
        "sample-out-is-the-prompts",
        ["sample", "--model", "m", "--prompts", "p.jsonl", "--num-generations", "2", "--out", "p.jsonl"],
        2,
        ["p.jsonl"],
        files={"p.jsonl": '{"prompt": "keep"}\n', "m/x": ""},
        kept=lambda r: (r.workspace / "p.jsonl").read_text() == '{"prompt": "keep"}\n' or pytest.fail("the prompts were overwritten"),
    ),
]


@pytest.mark.parametrize("case", REPORT_CASES, ids=lambda c: c.id)
def test_report_and_sample_faults(case: Case, tmp_path: Path) -> None:
    check(case, tmp_path)


# --- train: configs, data and disks ---------------------------------------------------------------


@pytest.fixture(scope="module")
def training_workspace(tmp_path_factory) -> Path:
    """The example with its tiny model, short completions and a checkpoint every 2 steps."""
    ensure_tiny_model(EXAMPLE_MODEL_DIR)
    root = tmp_path_factory.mktemp("train") / "学習 run"
    copy_example(root)
    config = (root / "run.tiny.yaml").read_text()
    config = config.replace("save_steps: 100", "save_steps: 2").replace("max_completion_length: 64", "max_completion_length: 8")
    (root / "run.yaml").write_text(config)
    bad = (root / "data" / "questions.jsonl").read_text().splitlines(keepends=True)
    (root / "data" / "bad line.jsonl").write_text("".join(bad[:3]) + '{"question": "cut\n' + "".join(bad[3:]))
    (root / "data" / "empty.jsonl").write_text("")
    (root / "data" / "sjis.jsonl").write_bytes('{"question": "日本の首都はどこですか"}\n'.encode("shift_jis"))
    shutil.copytree(root / "models" / "tiny-qwen2", root / "models" / "no-tokenizer")
    for tokenizer_file in (root / "models" / "no-tokenizer").glob("*token*"):
        tokenizer_file.unlink()
    (root / "models" / "no-tokenizer" / "vocab.json").unlink(missing_ok=True)
    return root


def variant(root: Path, name: str, old: str, new: str) -> str:
    text = (root / "run.yaml").read_text()
    assert old in text
    (root / f"{name}.yaml").write_text(text.replace(old, new))
    return f"{name}.yaml"


TRAIN_CASES = [
    ("misspelt-field", ("learning_rate:", "learning_rat:"), ["learning_rat", "Did you mean 'learning_rate'?"]),
    ("removed-field", ("use_vllm: false", "max_prompt_length: 64"), ["max_prompt_length"]),
    ("missing-data-file", ("data/questions.jsonl", "data/missing.jsonl"), ["data/missing.jsonl does not exist"]),
    ("malformed-line", ("data/questions.jsonl", "data/bad line.jsonl"), ["bad line.jsonl:4 is not valid JSON"]),
    ("empty-dataset", ("data/questions.jsonl", "data/empty.jsonl"), ["empty.jsonl is empty"]),
    ("shift-jis-dataset", ("data/questions.jsonl", "data/sjis.jsonl"), ["not UTF-8", "Shift_JIS"]),
    ("model-without-tokenizer", ("models/tiny-qwen2", "models/no-tokenizer"), ["no tokenizer files"]),
]


@pytest.mark.parametrize("name,edit,words", TRAIN_CASES, ids=[c[0] for c in TRAIN_CASES])
def test_train_refuses_before_loading(name: str, edit: tuple[str, str], words: list[str], training_workspace: Path) -> None:
    config = variant(training_workspace, name, *edit)
    started = time.monotonic()
    result = run_case(Case(name, ["train", "--config", config, "--max-steps", "2"], 1, words), training_workspace)
    assert result.code == 1, result.output[-3000:]
    assert "cannot start" in result.stderr
    for word in words:
        assert word in result.output, f"{word!r} not in:\n{result.output[-3000:]}"
    assert time.monotonic() - started < 30, "refused by the pre-flight, before the model loads"
    assert not list((training_workspace / "runs").glob(f"*-{name}")), "no run folder for a run that never started"


def mount_small_disk(where: Path, megabytes: int) -> None:
    where.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}M", "tmpfs", str(where)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"a full disk is simulated with a small tmpfs, which needs root: {mounted.stderr.strip()}")


def test_a_full_disk_is_named_and_the_run_resumes_from_its_last_complete_checkpoint(training_workspace: Path, tmp_path: Path) -> None:
    disk = tmp_path / "small disk"
    mount_small_disk(disk, 8)
    try:
        run_dir = disk / "run"
        full = run_case(Case("disk", ["train", "--config", "run.yaml", "--run-dir", str(run_dir), "--max-steps", "40"], 1, [], timeout=180), training_workspace)
        assert full.code == 1, full.output[-3000:]
        assert "the disk is full (" in full.stderr and f"MB free at {run_dir}" in full.stderr, full.stderr[-3000:]
        assert "grpo-studio train --resume --run-dir" in full.stderr
        log = (run_dir / "runner.log").read_text()
        assert "the disk is full (" in log, "the log holds the cause, not a cut traceback"
        lines = (run_dir / "events.jsonl").read_text().splitlines()
        events = [json.loads(line) for line in lines if line]  # every line whole
        end = events[-1]
        assert end["event"] == "end" and end["status"] == "failed" and "the disk is full" in end["error"]
        logged = [e["step"] for e in events if e["event"] == "log"]
        assert logged == list(range(1, len(logged) + 1)) and len(logged) >= 2
        assert not (run_dir / "disk-reserve").exists(), "the reserve is given back"

        subprocess.run(["mount", "-o", "remount,size=96M", str(disk)], check=True)
        resumed = run_case(
            Case("resume", ["train", "--config", "run.yaml", "--run-dir", str(run_dir), "--resume", "--max-steps", "8"], 0, [], timeout=180),
            training_workspace,
        )
        assert resumed.code == 0, resumed.output[-3000:]
        events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines() if line]
        assert lines == (run_dir / "events.jsonl").read_text().splitlines()[: len(lines)], "the first session's history is kept"
        assert events[-1]["status"] == "finished" and events[-1]["step"] == 8
        restart = [e for e in events if e["event"] == "start"][-1]
        named = re.search(r"it continues from checkpoint-(\d+)", end["error"])
        assert named, end["error"]
        assert restart["resumed_from"]["step"] == int(named.group(1)), "resumed where the message said"
        assert int(named.group(1)) in logged
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)
