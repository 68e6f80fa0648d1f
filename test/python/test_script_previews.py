"""Previews run the reward, not the script: `grpo-studio score` on the origin's one-file script and
on a notebook of the same, each with a marker line before its trainer. The marker is never written,
GRPOTrainer is never built, and the scores equal those of Python's own import of a guarded copy.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

from tiny_model import REPO_ROOT, ensure_tiny_model

CLI = REPO_ROOT / "dist" / "cli.js"
ORIGIN = REPO_ROOT / "test" / "fixtures" / "origin" / "train_seed.py"
SAMPLES = REPO_ROOT / "examples" / "emoji-length" / "qa.samples.jsonl"
MARKER = "MARKER_SCRIPT_RAN"
TRAINER_START = "model = AutoModelForCausalLM"


def score(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(CLI), "score", "--python", sys.executable, *argv, "--samples", "qa.samples.jsonl", "--json"],
        cwd=cwd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )


def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "origin 日本語"
    folder.mkdir()
    shutil.copy(ORIGIN, folder / "train_seed.py")
    shutil.copy(SAMPLES, folder / "qa.samples.jsonl")
    return folder


def pythons_own_scores(folder: Path, names: list[str]) -> dict[str, list[float]]:
    """The same script with its dataset and everything from the model on under `if __name__ == "__main__":`,
    imported by Python."""
    head, tail = ORIGIN.read_text().split(TRAINER_START, 1)
    head = head.replace("dataset = load_dataset(", 'if __name__ == "__main__":\n    dataset = load_dataset(')
    guarded = head + 'if __name__ == "__main__":\n' + "".join(f"    {line}\n" for line in (TRAINER_START + tail).splitlines())
    (folder / "guarded_copy.py").write_text(guarded)
    spec = importlib.util.spec_from_file_location("guarded_copy", folder / "guarded_copy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = [json.loads(line) for line in SAMPLES.read_text().splitlines() if line.strip()]
    completions = [c for row in rows for c in (row["completions"] if "completions" in row else [row["completion"]])]
    prompts = [row["prompt"] for row in rows for _ in (row["completions"] if "completions" in row else [row["completion"]])]
    return {name: getattr(module, name)(prompts=prompts, completions=completions) for name in names}


def notebook_of(script: str) -> str:
    """The script as Unsloth-style notebook cells: a pip cell, then one cell per blank-line-separated block."""
    blocks = [b for b in script.split("\n\n\n") if b.strip()]
    cells = [{"cell_type": "code", "source": "%%capture\n!pip install trl==0.22.2\n", "metadata": {}, "outputs": []}]
    for block in blocks:
        cells.append({"cell_type": "markdown", "source": "Next:", "metadata": {}})
        cells.append({"cell_type": "code", "source": block, "metadata": {}, "outputs": [], "execution_count": None})
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def scores_of(result: subprocess.CompletedProcess[str]) -> dict[str, list[float]]:
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    return {name: [s["rewards"][name] for s in data["samples"]] for name in data["functions"]}


def test_the_origins_script_runs_only_what_its_rewards_need(tmp_path: Path) -> None:
    folder = workspace(tmp_path)
    result = score(folder, "--rewards", "train_seed.py")
    assert not (folder / MARKER).exists(), "the script's own statements ran"
    scores = scores_of(result)
    assert list(scores) == ["emoji_reward", "length_reward"]
    assert scores == pythons_own_scores(folder, list(scores))
    assert "ran 6 of 19 top-level statements" in result.stderr
    assert "line 14 dataset = load_dataset(" in result.stderr
    assert "Traceback" not in result.stderr and "bf16" not in result.stderr


def test_a_notebook_of_the_same_previews_its_rewards_with_cell_positions(tmp_path: Path) -> None:
    folder = workspace(tmp_path)
    (folder / "train_seed.ipynb").write_text(notebook_of(ORIGIN.read_text()))
    result = score(folder, "--rewards", "train_seed.ipynb::emoji_reward,length_reward")
    assert not (folder / MARKER).exists(), "the notebook's own cells ran"
    scores = scores_of(result)
    assert scores == pythons_own_scores(folder, ["emoji_reward", "length_reward"])
    assert "train_seed.ipynb: ran 6 of" in result.stderr and "not run: cell " in result.stderr

    broken = ORIGIN.read_text().replace("return [float(min(count_emojis(c), 4))", "return [1 / 0 + float(min(count_emojis(c), 4))")
    (folder / "train_seed.ipynb").write_text(notebook_of(broken))
    result = score(folder, "--rewards", "train_seed.ipynb")
    assert result.returncode == 1
    cell = next(i for i, c in enumerate(json.loads(notebook_of(broken))["cells"]) if "1 / 0" in "".join(c["source"]))
    assert f"emoji_reward: ZeroDivisionError: division by zero (train_seed.ipynb:cell {cell}:3)" in result.stderr.replace(str(folder) + "/", "")
    assert not (folder / MARKER).exists()


def test_a_module_level_tokenizer_the_reward_uses_runs_and_the_model_does_not(tmp_path: Path) -> None:
    folder = workspace(tmp_path)
    model = ensure_tiny_model()
    (folder / "token_script.py").write_text(
        "from pathlib import Path\n"
        "from transformers import AutoModelForCausalLM, AutoTokenizer\n"
        f"tokenizer = AutoTokenizer.from_pretrained({str(model)!r})\n"
        f"model = AutoModelForCausalLM.from_pretrained({str(model)!r})\n"
        f"Path({MARKER!r}).write_text('ran')\n\n"
        "def token_reward(completions, **kwargs):\n"
        "    return [float(len(tokenizer(c)['input_ids'])) for c in completions]\n\n"
        "model.generate()\n"
    )
    result = score(folder, "--rewards", "token_script.py")
    assert not (folder / MARKER).exists()
    values = scores_of(result)["token_reward"]
    assert len(values) == 16 and all(v > 0 for v in values)
    assert "ran 3 of 7 top-level statements" in result.stderr
