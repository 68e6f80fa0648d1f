"""The extension's static verdicts must match what TRL really does.

For every reward object in test/fixtures/verdicts/*.py (`reward_funcs = [...]` at module level):
  - the CLI (`node dist/cli.js check FILE --json FLAGS`) reports an entry for it, with problems;
  - a real trl.GRPOTrainer calls it through GRPOTrainer._calculate_rewards, as in a training step;
  - "the CLI reports an error" must equal "TRL raised".

FLAGS come from a fixture header line `# verdict-context: --columns answer --format conversational`
(none: no columns beyond `prompt`, standard format). GRPO_STUDIO_CLI overrides the CLI command.
"""

import argparse
import functools
import importlib.util
import inspect
import json
import os
import re
import shlex
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO_ROOT, build_trainer

FIXTURES_DIR = REPO_ROOT / "test" / "fixtures" / "verdicts"
CONTEXT_RE = re.compile(r"^#\s*verdict-context:(.*)$", re.MULTILINE)


# ---------------------------------------------------------------- fixtures and their context


def read_context(path):
    """CLI flags from the `# verdict-context:` header line (empty list when absent)."""
    match = CONTEXT_RE.search(path.read_text(encoding="utf-8"))
    return shlex.split(match.group(1)) if match else []


def parse_context(flags):
    """(extra dataset columns, format) that the flags describe."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--columns", default="")
    parser.add_argument("--format", default="standard")
    args, _ = parser.parse_known_args(flags)
    if args.format not in ("standard", "conversational"):
        raise ValueError(f"verdict-context needs --format standard or conversational, not {args.format!r}")
    columns = [c.strip() for c in args.columns.split(",") if c.strip() and c.strip() != "prompt"]
    return columns, args.format


@functools.cache
def load_fixture(path):
    """Import a fixture file as a module (its training code is guarded by __main__)."""
    name = "verdict_fixture_" + re.sub(r"\W", "_", path.stem)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    assert isinstance(getattr(module, "reward_funcs", None), list), f"{path} must define a list `reward_funcs`"
    return module


def callable_name(obj):
    from trl.trainer.utils import get_callable_name

    return get_callable_name(obj)


def unwrap(obj):
    """The function (or class, for callable instances) whose source defines `obj`."""
    while isinstance(obj, functools.partial):
        obj = obj.func
    if inspect.isfunction(obj) or inspect.ismethod(obj):
        return inspect.unwrap(obj)
    return type(obj)


def collect_params():
    params = []
    for path in sorted(FIXTURES_DIR.glob("*.py")):
        seen = set()
        for index, obj in enumerate(load_fixture(path).reward_funcs):
            if not callable(obj):  # a reward model id: TRL would download it, nothing to call here
                params.append(pytest.param(path, index, id=f"{path.stem}::{obj}", marks=pytest.mark.skip("model")))
                continue
            name = callable_name(obj)
            if name == "<lambda>":
                name = f"lambda@{unwrap(obj).__code__.co_firstlineno}"
            test_id = f"{path.stem}::{name}"
            if test_id in seen:
                test_id += f"[{index}]"
            seen.add(test_id)
            params.append(pytest.param(path, index, id=test_id))
    return params


# ---------------------------------------------------------------- the CLI's verdicts


@functools.cache
def cli_report(path, extra=()):
    command = shlex.split(os.environ.get("GRPO_STUDIO_CLI", "node dist/cli.js"))
    if command[:2] == ["node", "dist/cli.js"] and not (REPO_ROOT / "dist" / "cli.js").is_file():
        pytest.fail("dist/cli.js is missing: run `npm run build` first (or set GRPO_STUDIO_CLI)")
    args = [*command, "check", str(path.relative_to(REPO_ROOT)), "--json", *read_context(path), *extra]
    result = subprocess.run(args, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    try:
        return json.loads(result.stdout)["functions"]
    except (json.JSONDecodeError, KeyError, TypeError):
        pytest.fail(f"{shlex.join(args)} gave no JSON report (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")


def definition_lines(obj):
    """Lines at which the CLI may report `obj`: first decorator line, def/class line, __call__ line."""
    target = unwrap(obj)
    lines = set()
    if inspect.isclass(target):
        source, start = inspect.getsourcelines(target)
        lines.add(start)
        if inspect.isfunction(getattr(target, "__call__", None)):
            target = target.__call__
    if inspect.isfunction(target):
        start = target.__code__.co_firstlineno  # the first decorator's line when decorated
        lines.add(start)
        source, start = inspect.getsourcelines(target)
        for offset, text in enumerate(source):
            if re.match(r"\s*(async\s+def|def)\b", text):
                lines.add(start + offset)
                break
    return lines


def kind_hint(obj):
    if isinstance(obj, functools.partial):
        return "partial"
    if not (inspect.isfunction(obj) or inspect.ismethod(obj)):
        return "class"
    return "lambda" if obj.__name__ == "<lambda>" else None


def same_file(entry, path):
    return (REPO_ROOT / entry["file"]).resolve() == Path(path).resolve()


def match_entry(entries, obj):
    """CLI entries that may describe `obj` (same file and name; lambdas by line), and a description of it."""
    source_file = inspect.getsourcefile(unwrap(obj))
    name = callable_name(obj)
    lines = definition_lines(obj)
    candidates = [e for e in entries if same_file(e, source_file)]
    if name == "<lambda>":
        candidates = [e for e in candidates if e["line"] in lines]
    else:
        # A partial or an instance given a __name__ is listed under its function's or class's name.
        names = {name, getattr(unwrap(obj), "__name__", name)}
        candidates = [e for e in candidates if e["name"] in names]
    if len(candidates) > 1:  # several defs of that name: the one at the object's definition
        candidates = [e for e in candidates if e["line"] in lines] or candidates
    if len(candidates) > 1 and kind_hint(obj):  # e.g. a def and a partial of it
        candidates = [e for e in candidates if kind_hint(obj) in str(e.get("kind", ""))] or candidates
    return candidates, f"{name} in {source_file}, lines {sorted(lines)}"


# ---------------------------------------------------------------- calling it like GRPOTrainer


GROUPS = [  # (question, reference answer, the num_generations=2 completions)
    ("What is 2 + 2? 絵文字で答えて。", "4", ["The answer is 4 😊", "4です!🎉✨"]),
    ("What is 3 + 4?", "7", ["七 (7) です 🚀", "Seven, I think 🤔"]),
]


@dataclass
class Batch:
    inputs: list
    prompts: list
    completions: list
    completion_ids: list


def make_batch(columns, fmt, tokenizer):
    """4 rows (2 prompts x 2 generations), shaped as _generate_and_score_completions hands them on."""
    inputs, completions, completion_ids = [], [], []
    for question, answer, texts in GROUPS:
        for text in texts:
            if fmt == "conversational":
                prompt = [
                    {"role": "system", "content": "You are a helpful assistant. 絵文字を使ってください。"},
                    {"role": "user", "content": question},
                ]
                completions.append([{"role": "assistant", "content": text}])
            else:
                prompt = question
                completions.append(text)
            # Every extra dataset column holds the group's reference answer (a numeric string).
            inputs.append({"prompt": prompt, **{column: answer for column in columns}})
            completion_ids.append(tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id])
    return Batch(inputs, [row["prompt"] for row in inputs], completions, completion_ids)


def calculate_rewards(trainer, obj, batch):
    """What a training step does with one reward function (GRPOTrainer.__init__ + _calculate_rewards)."""
    trainer.reward_funcs = [obj]
    trainer.reward_func_names = [callable_name(obj)]
    trainer.reward_processing_classes = [None]
    return trainer._calculate_rewards(batch.inputs, batch.prompts, batch.completions, batch.completion_ids)


def test_calculate_rewards_signature_is_the_one_reproduced():
    from trl import GRPOTrainer

    parameters = list(inspect.signature(GRPOTrainer._calculate_rewards).parameters)
    assert parameters == ["self", "inputs", "prompts", "completions", "completion_ids_list"]


@pytest.mark.parametrize(("path", "index"), collect_params())
def test_static_verdict_matches_trl(grpo_trainer, path, index):
    obj = load_fixture(path).reward_funcs[index]
    flags = read_context(path)

    candidates, described = match_entry(cli_report(path), obj)
    if len(candidates) != 1:
        pytest.fail(
            f"expected exactly one CLI entry for {described}, got {len(candidates)}:\n"
            + json.dumps(candidates or cli_report(path), indent=2, ensure_ascii=False),
            pytrace=False,
        )
    entry = candidates[0]
    errors = [p for p in entry.get("problems", []) if p.get("severity") == "error"]

    try:
        calculate_rewards(grpo_trainer, obj, make_batch(*parse_context(flags), grpo_trainer.processing_class))
        raised = None
    except Exception as exc:  # noqa: BLE001 - any exception is TRL's verdict
        raised = exc

    context = shlex.join(flags) or "(no flags)"
    if raised is not None and not errors:
        pytest.fail(
            f"TRL raised but the CLI reports no error for {entry['name']} (line {entry['line']}), context {context}\n"
            f"problems: {json.dumps(entry.get('problems', []), ensure_ascii=False)}\n"
            + "".join(traceback.format_exception(raised, limit=-3)),
            pytrace=False,
        )
    if raised is None and errors:
        pytest.fail(
            f"the CLI reports errors for {entry['name']} (line {entry['line']}) but TRL called it fine, "
            f"context {context}\nerrors: {json.dumps(errors, indent=2, ensure_ascii=False)}",
            pytrace=False,
        )


# ---------------------------------------------------------------- the reproduction is faithful


def _recorder(calls):
    def recording_reward(**kwargs):
        calls.append(kwargs)
        return [0.0 for _ in kwargs["completions"]]

    return recording_reward


def _shape(kwargs):
    """Keys and value types of a reward call, e.g. {'completions': 'list[list[dict]]', ...}."""

    def type_name(value):
        if isinstance(value, list) and value:
            return f"list[{type_name(value[0])}]"
        return type(value).__name__

    return {key: type_name(value) for key, value in kwargs.items()}


@pytest.mark.parametrize("fmt", ["standard", "conversational"])
def test_direct_call_matches_a_real_training_step(grpo_trainer, tmp_path, fmt):
    """A real trainer.train() step calls reward functions with the same kwargs as calculate_rewards above."""
    from datasets import Dataset

    batch = make_batch(["answer"], fmt, grpo_trainer.processing_class)
    dataset = Dataset.from_list([batch.inputs[0], batch.inputs[2]])
    trained_calls, direct_calls = [], []
    trainer = build_trainer(tmp_path, dataset, [_recorder(trained_calls)])
    trainer.train()
    calculate_rewards(grpo_trainer, _recorder(direct_calls), batch)

    assert trained_calls, "the training step did not call the reward function"
    trained, direct = trained_calls[0], direct_calls[0]
    assert _shape(direct) == _shape(trained)
    assert len(trained["completions"]) == 2  # per_device_train_batch_size rows, num_generations=2
    assert all(isinstance(i, int) for ids in trained["completion_ids"] for i in ids)
