"""The editor and the CLI name run folders as the runner does when it picks one itself.

python/grpo_studio_runner.py names `runs/<timestamp>-<config name>` when it runs without --run-dir
(plain `python grpo_studio_runner.py --config ...`); src/training/core/runFolder.ts names the
folders of the runs the editor and `grpo-studio train` start, and finds the one `--resume` continues.
"""

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "python"))
import grpo_studio_runner  # noqa: E402

HELPER = REPO_ROOT / "out" / "fidelity" / "run_name_cli.js"
CONFIGS = ["run.tiny.yaml", "設定 v1.yaml", "my run (LoRA r=16).yml", "a+b&c;d.yaml", "日本語_テスト-2.yaml", "émoji 🎉 run.yaml"]


def test_run_folder_names_match_the_runner(tmp_path, monkeypatch):
    assert HELPER.exists(), "run `node scripts/test.mjs python` (it builds out/fidelity/run_name_cli.js)"
    monkeypatch.chdir(tmp_path)
    args = SimpleNamespace(run_dir=None, resume=False)
    runner_names = [grpo_studio_runner._pick_run_dir(args, Path(name)).name.split("-", 2)[2] for name in CONFIGS]
    result = subprocess.run(["node", str(HELPER)], input="\n".join(CONFIGS), capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == runner_names
