"""schemas/trl-grpo.json is what python/grpo_studio_schema.py makes of the installed TRL."""

import json
import subprocess
import sys

from conftest import REPO_ROOT


def test_committed_schema_matches_the_installed_trl():
    produced = subprocess.run(
        [sys.executable, str(REPO_ROOT / "python" / "grpo_studio_schema.py")], capture_output=True, text=True, check=True
    ).stdout
    committed = (REPO_ROOT / "schemas" / "trl-grpo.json").read_text(encoding="utf-8")
    assert json.loads(produced) == json.loads(committed), "regenerate: python python/grpo_studio_schema.py > schemas/trl-grpo.json"
