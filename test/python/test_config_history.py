"""schemas/trl-grpo-history.json (scripts/trl_config_history.py) against TRL itself: the newest
release in it is the installed one, with the same GRPOConfig fields and defaults, and what it says
of older releases is what their own wheels' grpo_config.py declare."""

from __future__ import annotations

import dataclasses
import importlib.util
import json

import pytest
from test_trl_profiles import WHEELS, trainer_source
from tiny_model import REPO_ROOT

HISTORY = json.loads((REPO_ROOT / "schemas" / "trl-grpo-history.json").read_text(encoding="utf-8"))
spec = importlib.util.spec_from_file_location("trl_config_history", REPO_ROOT / "scripts" / "trl_config_history.py")
generator = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generator)


def at(version: str) -> dict[str, object]:
    """{field: default} of GRPOConfig in `version`, as the history tells it."""
    key = generator.version_key
    fields = {}
    for name, field in HISTORY["fields"].items():
        if any(key(first) <= key(version) <= key(last) for first, last in field["in"]):
            fields[name] = [value for since, value in field["default"] if key(since) <= key(version)][-1]
    return fields


def test_the_newest_release_is_the_installed_trl_with_its_fields_and_defaults():
    import trl
    from trl import GRPOConfig

    assert HISTORY["releases"][-1] == trl.__version__
    declared = set()
    for cls in GRPOConfig.__mro__:
        if cls.__module__.startswith("trl."):
            declared |= set(cls.__dict__.get("__annotations__", {}))
    assert set(at(trl.__version__)) == declared
    for field in dataclasses.fields(GRPOConfig):
        if field.name in declared and field.default is not dataclasses.MISSING and not isinstance(at(trl.__version__)[field.name], dict):
            assert at(trl.__version__)[field.name] == field.default, field.name


@pytest.mark.parametrize("version", ["0.14.0", "0.18.2", "0.22.2", "0.28.0", "1.0.0"])
def test_an_older_release_is_what_its_own_grpo_config_declares(version):
    trainer_source(version)  # downloads the wheel into the cache when it is not there yet
    wheel = next(WHEELS.glob(f"trl-{version}-*.whl"))
    declared = generator.release_fields(wheel)
    assert at(version) == {name: field["default"] for name, field in declared.items()}


def test_the_facts_users_meet():
    assert "max_prompt_length" in at("0.27.2") and "max_prompt_length" not in at("0.28.0")
    assert at("0.18.2")["beta"] == 0.04 and at("0.19.0")["beta"] == 0.0
    assert at("0.17.0")["temperature"] == 0.9 and at("0.18.0")["temperature"] == 1.0
    assert at("0.21.0")["scale_rewards"] is True and at("0.22.0")["scale_rewards"] == "group"
