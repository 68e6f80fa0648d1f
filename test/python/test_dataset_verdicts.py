"""Verdicts on the dataset the trainer really gets, proven against real `datasets` and TRL.

Each script in test/fixtures/datasets builds its `train_dataset` the way published GRPO code does
(a local file through `load_dataset`, `.map` to chat prompts, `Dataset.from_list`, renamed and
removed columns) and passes it to GRPOTrainer. `grpo-studio check FILE` is run with no flags, so the
checker must find the columns and the format itself. Then the script's own dataset, built by the
real `datasets`, feeds the real `_calculate_rewards` for every reward: "the CLI reports an error"
must equal "TRL raised".
"""

import importlib.util
import json
import os
import shlex
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from test_verdicts import Batch, calculate_rewards, cli_report, match_entry

FIXTURES_DIR = REPO_ROOT / "test" / "fixtures" / "datasets"
COMPLETIONS = ["<think>4</think> The answer is 4 🎉", "7 です"]


def load_script(path: Path):
    """Runs the script's module level (its dataset code) from its own folder, as `python script.py` would."""
    name = "dataset_fixture_" + path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def batch_from(dataset, tokenizer) -> Batch:
    """Two rows of the real dataset, two completions each, shaped as _generate_and_score_completions passes them."""
    inputs, completions, ids = [], [], []
    for row in list(dataset)[:2]:
        for text in COMPLETIONS:
            inputs.append(dict(row))
            conversational = isinstance(row["prompt"], list)
            completions.append([{"role": "assistant", "content": text}] if conversational else text)
            ids.append(tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id])
    return Batch(inputs, [row["prompt"] for row in inputs], completions, ids)


def cases():
    """(script, reward name) pairs, read from each script's `reward_funcs = [...]` line: collection runs no dataset code."""
    for path in sorted(FIXTURES_DIR.glob("*.py")):
        line = next(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("reward_funcs = ["))
        for name in line.split("[", 1)[1].rstrip("]").split(","):
            yield pytest.param(path, name.strip(), id=f"{path.stem}::{name.strip()}")


@pytest.fixture
def in_fixtures(monkeypatch):
    monkeypatch.chdir(FIXTURES_DIR)


@pytest.mark.parametrize(("path", "name"), list(cases()))
def test_verdict_on_the_real_dataset_matches_trl(grpo_trainer, in_fixtures, path, name):
    module = load_script(path)
    obj = getattr(module, name)
    candidates, described = match_entry(cli_report(path), obj)
    assert len(candidates) == 1, f"expected one CLI entry for {described}: {candidates}"
    errors = [p for p in candidates[0]["problems"] if p["severity"] == "error"]
    try:
        calculate_rewards(grpo_trainer, obj, batch_from(module.train_dataset, grpo_trainer.processing_class))
        raised = None
    except Exception as exc:  # noqa: BLE001 - any exception is TRL's verdict
        raised = exc
    if raised is not None:
        assert errors, f"TRL raised but the CLI reports no error for {name}:\n" + "".join(traceback.format_exception(raised, limit=-2))
    else:
        assert not errors, f"the CLI reports errors for {name} but TRL called it fine: {errors}"


def test_the_column_errors_name_the_dataset_and_its_columns():
    entries = {e["name"]: e for e in cli_report(FIXTURES_DIR / "plain_columns.py")}
    (problem,) = entries["accuracy_reward"]["problems"]
    assert problem["code"] == "GRPO104"
    assert "'solutions' is not a column of qa.jsonl (columns: solution, prompt)" in problem["message"]


HUB_REWARDS = '''def accuracy_reward(completions, solutions, **kwargs):
    return [float(s in c) for c, s in zip(completions, solutions)]


def solution_reward(completions, solution, **kwargs):
    return [float(s in c) for c, s in zip(completions, solution)]
'''

HUB_SCRIPT = '''from datasets import load_dataset
from trl import GRPOTrainer

from hub_rewards import accuracy_reward, solution_reward

train_dataset = load_dataset("someone/grpo_questions", split="train")
trainer = GRPOTrainer(model="m", reward_funcs=[accuracy_reward, solution_reward], train_dataset=train_dataset)
'''


def make_hub_cache(cache: Path, source: Path) -> None:
    """The datasets cache that `load_dataset("someone/grpo_questions")` leaves after a download,
    written by datasets' own builder (offline here: the Hub's name is given to a local JSON build)."""
    from datasets.packaged_modules.json.json import Json

    builder = Json(cache_dir=str(cache), dataset_name="grpo_questions", hash="0123abcd", data_files={"train": str(source)})
    builder.repo_id, builder.config_id = "someone/grpo_questions", "default"
    builder._cache_dir = builder._build_cache_dir()
    builder.download_and_prepare()


def test_a_hub_dataset_in_a_real_local_cache_gives_its_columns(grpo_trainer, tmp_path, monkeypatch):
    """The checker reads the columns of a Hub dataset from the local cache, never the network; the
    real `datasets` loads the same cache offline, and TRL's real call agrees with each verdict."""
    import datasets

    source = tmp_path / "rows.jsonl"
    source.write_text('{"prompt": "2+2?", "solution": "4"}\n{"prompt": "3+4?", "solution": "7"}\n', encoding="utf-8")
    cache = tmp_path / "hf datasets キャッシュ"
    make_hub_cache(cache, source)
    monkeypatch.setenv("HF_DATASETS_CACHE", str(cache))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    loaded = datasets.load_dataset("someone/grpo_questions", split="train")  # what the script gets, offline
    assert loaded.column_names == ["prompt", "solution"]

    (tmp_path / "hub_rewards.py").write_text(HUB_REWARDS, encoding="utf-8")
    script = tmp_path / "train_hub.py"
    script.write_text(HUB_SCRIPT, encoding="utf-8")
    command = [*shlex.split(os.environ.get("GRPO_STUDIO_CLI", f"node {REPO_ROOT / 'dist' / 'cli.js'}")), "check", str(tmp_path), "--json"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    entries = {e["name"]: e for e in json.loads(result.stdout)["functions"]}
    errors = {name: [p for p in e["problems"] if p["severity"] == "error"] for name, e in entries.items()}
    (missing,) = errors["accuracy_reward"]
    assert missing["code"] == "GRPO104" and "someone/grpo_questions (Hugging Face cache)" in missing["message"], missing
    assert errors["solution_reward"] == []
    rewards = load_script(tmp_path / "hub_rewards.py")
    for name in ("accuracy_reward", "solution_reward"):
        try:
            calculate_rewards(grpo_trainer, getattr(rewards, name), batch_from(loaded, grpo_trainer.processing_class))
            raised = False
        except TypeError:
            raised = True
        assert raised == bool(errors[name]), f"{name}: TRL raised {raised}, the CLI reports {errors[name]}"
