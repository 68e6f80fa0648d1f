"""The static verdicts under each TRL release's profile must match what that release really does.

A whole old TRL stack (its transformers, accelerate) cannot be installed beside this one, so the test
runs each release's own code against the session's real trainer: from the release's wheel (PyPI,
cached under test/fixtures/generated/trl-wheels) it takes, by parsing `trl/trainer/grpo_trainer.py`,
  - the loop that names the reward functions (`reward_funcs[i].__name__` before 1.9.0), and
  - the code that calls them and turns their results into a tensor (`_calculate_rewards`, or before
    it existed the lines of the scoring method from `rewards_per_func = torch.zeros(...)` through the
    loop over `self.reward_funcs`),
and executes those lines with the module's own imports. A probe reward proves the stand-in works
for each release (and records what it passes) before any verdict is compared. Then for every
fixture reward, "TRL X raised" must equal "`grpo-studio check --trl-version X` reports an error".
"""

from __future__ import annotations

import ast
import collections
import contextlib
import functools
import importlib
import importlib.util
import logging
import re
import textwrap
import traceback
import types
from pathlib import Path

import pytest
import torch
from conftest import REPO_ROOT
from test_trl_profiles import trainer_source
from test_verdicts import cli_report, collect_params, load_fixture, make_batch, match_entry, parse_context, read_context

RELEASES = ["0.14.0", "0.15.2", "0.18.2", "0.22.2", "0.24.0", "0.28.0", "1.0.0", "1.8.0", "1.9.2", "1.16.0"]
ZOO = REPO_ROOT / "test" / "fixtures" / "release-verdicts"


class ReleaseCode:
    """One release's naming loop and scoring code, runnable against a trainer of today."""

    def __init__(self, version: str):
        self.version = version
        source = trainer_source(version)
        module = ast.parse(source)
        self.globals = module_namespace(module)
        cls = next(n for n in module.body if isinstance(n, ast.ClassDef) and n.name == "GRPOTrainer")
        self.name_loop = compile_block(source, find_name_loop(cls), self.globals)
        method = next((f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "_calculate_rewards"), None)
        if method is not None:
            exec(compile(textwrap.dedent(ast.get_source_segment(source, method)), f"trl-{version}", "exec"), self.globals)
            self.calculate = self.globals["_calculate_rewards"]
            self.repeats_inputs = False
        else:
            block = scoring_block(source, cls)
            body = "device = self.accelerator.device\n" + block + "\nreturn rewards_per_func\n"
            text = "def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):\n" + textwrap.indent(body, "    ")
            exec(compile(text, f"trl-{version}", "exec"), self.globals)
            self.calculate = self.globals["_calculate_rewards"]
            # The scoring of these releases repeats each input row num_generations times itself.
            self.repeats_inputs = "self.num_generations" in block

    def call(self, trainer, obj, batch):
        """GRPOTrainer.__init__'s naming of the reward, then one scoring of a batch, as release X does both."""
        holder = types.SimpleNamespace(reward_func_names=[], reward_funcs=[obj], _metrics=collections.defaultdict(list))
        scope = {"self": holder, "reward_funcs": [obj], "args": trainer.args, "reward_per_func": torch.zeros(1), "model_init_kwargs": {}}
        exec(self.name_loop, self.globals, scope)
        trainer.reward_funcs = [obj]
        trainer.reward_func_names = holder.reward_func_names or ["reward"]
        trainer.reward_processing_classes = [None]
        inputs = batch.inputs[:: trainer.num_generations] if self.repeats_inputs else batch.inputs
        return self.calculate(trainer, inputs, batch.prompts, batch.completions, batch.completion_ids)


def module_namespace(module: ast.Module) -> dict:
    """The release module's imports, resolved against the installed packages name by name (what no longer
    exists is left out), plus stand-ins for the profiling and distributed helpers around the reward calls."""
    namespace: dict = {"__name__": "trl.trainer.grpo_trainer", "logger": logging.getLogger("trl-release")}
    for node in module.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                with contextlib.suppress(Exception):
                    imported = importlib.import_module(alias.name)
                    namespace[alias.asname or alias.name.split(".")[0]] = imported if alias.asname else importlib.import_module(alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            name = importlib.util.resolve_name("." * node.level + (node.module or ""), "trl.trainer") if node.level else node.module
            with contextlib.suppress(Exception):
                imported = importlib.import_module(name)
                for alias in node.names:
                    if hasattr(imported, alias.name):
                        namespace[alias.asname or alias.name] = getattr(imported, alias.name)
    namespace.setdefault("profiling_context", lambda trainer, name: contextlib.nullcontext())
    namespace["gather"] = lambda tensor: tensor
    return namespace


def mentions(node: ast.AST, *names: str) -> bool:
    return any(isinstance(n, (ast.Name, ast.Attribute)) and (getattr(n, "id", None) in names or getattr(n, "attr", None) in names) for n in ast.walk(node))


def find_name_loop(cls: ast.ClassDef) -> ast.For:
    """The first loop over the reward functions that reads their names (`__name__`, get_callable_name)."""
    for method in cls.body:
        for node in ast.walk(method):
            if isinstance(node, ast.For) and mentions(node.iter, "reward_funcs") and mentions(node, "__name__", "get_callable_name"):
                return node
    raise AssertionError("no loop naming the reward functions")


def compile_block(source: str, node: ast.stmt, namespace: dict):
    return compile(textwrap.dedent(ast.get_source_segment(source, node, padded=True)), "release-block", "exec")


def scoring_block(source: str, cls: ast.ClassDef) -> str:
    """From `rewards_per_func = torch.zeros(...)` through the loop that calls each reward function."""
    for node in ast.walk(cls):
        for field in ("body", "orelse"):
            statements = getattr(node, field, None)
            if not isinstance(statements, list):
                continue
            starts = [
                i
                for i, s in enumerate(statements)
                if isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "rewards_per_func" for t in s.targets)
            ]
            if not starts:
                continue
            end = next(i for i in range(starts[0], len(statements)) if isinstance(statements[i], ast.For) and mentions(statements[i].iter, "reward_funcs"))
            return "\n".join(textwrap.dedent(ast.get_source_segment(source, s, padded=True)) for s in statements[starts[0] : end + 1])
    raise AssertionError("no scoring block")


@functools.cache
def release(version: str) -> ReleaseCode:
    return ReleaseCode(version)


def probe(calls):
    def probe_reward(**kwargs):
        calls.append(set(kwargs))
        return [0.5 for _ in kwargs["completions"]]

    return probe_reward


@functools.cache
def versioned_report(path: Path, version: str):
    return cli_report(path, ("--trl-version", version))


@pytest.mark.parametrize("version", RELEASES)
def test_the_stand_in_runs_each_release_and_it_passes_what_the_profile_says(grpo_trainer, version):
    calls = []
    rewards = release(version).call(grpo_trainer, probe(calls), make_batch(["answer"], "standard", grpo_trainer.processing_class))
    assert rewards.shape == (4, 1) and float(rewards.sum()) == 2.0
    (passed,) = calls
    (entry,) = versioned_report(ZOO / "probe.py", version)
    message = next(p["message"] for p in entry["problems"] if p["code"] == "GRPO101")
    said = set(re.findall(r"(\w+)=", message.split(";")[0])) | {"completions"}
    assert said == passed - {"answer"}, f"TRL {version} passes {sorted(passed)}; the check says {sorted(said)}"


def release_params():
    cases = [p for p in collect_params() if not p.marks] + [
        pytest.param(path, index, id=f"{path.stem}::{index}") for path in sorted(ZOO.glob("*.py")) if path.stem not in ("probe", "none_rewards") for index in range(len(load_fixture(path).reward_funcs))
    ]
    return [pytest.param(version, *case.values, id=f"{version}::{case.id}") for version in RELEASES for case in cases]


@pytest.mark.parametrize(("version", "path", "index"), release_params())
def test_the_verdict_under_each_release_is_what_that_release_does(grpo_trainer, version, path, index):
    obj = load_fixture(path).reward_funcs[index]
    candidates, described = match_entry(versioned_report(path, version), obj)
    assert len(candidates) == 1, f"expected one CLI entry for {described}: {candidates}"
    errors = [p for p in candidates[0]["problems"] if p["severity"] == "error"]
    batch = make_batch(*parse_context(read_context(path)), grpo_trainer.processing_class)
    try:
        release(version).call(grpo_trainer, obj, batch)
        raised = None
    except Exception as exc:  # noqa: BLE001 - any exception is the release's verdict
        raised = exc
    if raised is not None:
        assert errors, f"TRL {version} raised but the check reports no error for {described}:\n" + "".join(traceback.format_exception(raised, limit=-2))
    else:
        assert not errors, f"the check reports errors for {described} under TRL {version}, which called it fine: {errors}"



@pytest.mark.parametrize("version", RELEASES)
@pytest.mark.parametrize("index", range(3))
def test_a_none_reward_raises_exactly_under_the_releases_the_check_warns_for(grpo_trainer, version, index):
    """Whether a None comes up depends on the data, so the check warns (GRPO118) rather than errs; the
    test batch does produce one, so every release it warns for must raise there, and no other."""
    path = ZOO / "none_rewards.py"
    obj = load_fixture(path).reward_funcs[index]
    (entry,) = match_entry(versioned_report(path, version), obj)[0]
    warned = any(p["code"] == "GRPO118" for p in entry["problems"])
    try:
        release(version).call(grpo_trainer, obj, make_batch(["answer"], "standard", grpo_trainer.processing_class))
        raised = False
    except TypeError:
        raised = True
    assert warned == raised, f"TRL {version} {'raised' if raised else 'accepted the None'}; the check {'warns' if warned else 'is silent'}"
