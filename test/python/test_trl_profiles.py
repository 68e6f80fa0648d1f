"""The TRL profiles (src/discovery/core/trlProfile.ts) against each release's own source: for several
releases, what `_calculate_rewards` passes and whether async rewards are awaited, read from that
release's `trl/trainer/grpo_trainer.py` (the wheel from PyPI, cached under test/fixtures/generated),
must be what `grpo-studio check --trl-version X` says TRL X does."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tiny_model import REPO_ROOT

CLI = REPO_ROOT / "dist" / "cli.js"
WHEELS = REPO_ROOT / "test" / "fixtures" / "generated" / "trl-wheels"
RELEASES = ["0.14.0", "0.16.0", "0.18.0", "0.20.0", "0.22.2", "0.24.0", "0.27.0", "0.28.0", "1.0.0", "1.9.0"]
PROBE = "def bare_reward(completions):\n    return [0.0 for c in completions]\n\n\nasync def async_reward(completions, **kwargs):\n    return [0.0 for c in completions]\n"


def trainer_source(version: str) -> str:
    wheel = next(WHEELS.glob(f"trl-{version}-*.whl"), None)
    if wheel is None:
        WHEELS.mkdir(parents=True, exist_ok=True)
        got = subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", f"trl=={version}", "--no-deps", "-d", str(WHEELS)], capture_output=True, text=True
        )
        wheel = next(WHEELS.glob(f"trl-{version}-*.whl"), None)
        if got.returncode != 0 or wheel is None:
            pytest.skip(f"trl=={version} could not be downloaded from PyPI: {got.stderr.strip()[-300:]}")
    with zipfile.ZipFile(wheel) as archive:
        return archive.read("trl/trainer/grpo_trainer.py").decode("utf-8")


def passed_keywords(source: str) -> set[str]:
    """The keywords the release hands every reward function, as its own code writes them."""
    call = re.search(r"output_reward_func = reward_func\((.*?)\)\n", source, re.S)
    keywords = set(re.findall(r"(\w+)=", call.group(1))) if call else set()
    keywords |= set(re.findall(r'(?<!\w)reward_kwargs\["(\w+)"\] = ', source))
    if re.search(r"reward_func\(\s*prompts=prompts, completions=completions", source):
        keywords |= {"prompts", "completions"}
    if "completion_ids=completion_ids_list" in source:
        keywords.add("completion_ids")
    # Only with environment_factory set (a run with tool environments), not for every reward.
    keywords.discard("environments")
    return keywords


@pytest.mark.parametrize("version", RELEASES)
def test_the_profile_is_what_the_release_does(version: str, tmp_path: Path) -> None:
    source = trainer_source(version)
    (tmp_path / "r.py").write_text(PROBE)
    result = subprocess.run(
        ["node", str(CLI), "check", "--json", "--trl-version", version, "r.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "GRPO_STUDIO_PYTHON"},
    )
    report = json.loads(result.stdout)
    assert report["trl"] == {"version": version, "source": "--trl-version"}
    problems = {f["name"]: f["problems"] for f in report["functions"]}
    missing = next(p for p in problems["bare_reward"] if p["code"] == "GRPO101")["message"]
    said = set(re.findall(r"(\w+)=", missing.split(";")[0]))
    assert said | {"completions"} == passed_keywords(source), f"TRL {version} passes {sorted(passed_keywords(source))}; check says {sorted(said)}"
    awaits = "iscoroutinefunction(reward_func)" in source or "_has_async" in source
    flagged = any(p["code"] == "GRPO117" for p in problems["async_reward"])
    assert flagged == (not awaits), f"TRL {version} {'awaits' if awaits else 'does not await'} async rewards"
