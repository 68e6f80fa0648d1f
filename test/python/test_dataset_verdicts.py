"""Verdicts on the dataset the trainer really gets, proven against real `datasets` and TRL.

Each script in test/fixtures/datasets builds its `train_dataset` the way published GRPO code does
(a local file through `load_dataset`, `.map` to chat prompts, `Dataset.from_list`, renamed and
removed columns) and passes it to GRPOTrainer. `grpo-studio check FILE` is run with no flags, so the
checker must find the columns and the format itself. Then the script's own dataset, built by the
real `datasets`, feeds the real `_calculate_rewards` for every reward: "the CLI reports an error"
must equal "TRL raised".
"""

import importlib.util
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
