"""python/grpo_studio_export_onnx.py ("GRPO: Export Model for In-Editor Sampling") on the example's real
model: the in-editor sampler's greedy completions from the export equal transformers' greedy
completions on the same prompts; and the exporter's refusals."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from onnx_fixtures import ensure_onnx_fixtures
from smollm2_fixture import ensure_smollm2
from tiny_model import REPO_ROOT

EXPORTER = REPO_ROOT / "python" / "grpo_studio_export_onnx.py"
CLI = REPO_ROOT / "dist" / "cli.js"
NEW_TOKENS = 40
PROMPTS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [{"role": "user", "content": "Name three colors."}],
    [{"role": "system", "content": "Answer with emojis."}, {"role": "user", "content": "How are you today?"}],
    [{"role": "user", "content": "富士山の高さは？"}],
]


def export(model: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(EXPORTER), "--model", str(model), "--out", str(out)], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def smollm2_export(tmp_path_factory) -> tuple[Path, Path]:
    model = ensure_smollm2()
    out = tmp_path_factory.mktemp("export") / "エクスポート dir" / "SmolLM2"
    done = export(model, out)
    assert done.returncode == 0, done.stderr
    return model, out


def test_greedy_completions_of_the_export_equal_transformers(smollm2_export, tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_dir, export_dir = smollm2_export
    manifest = json.loads((export_dir / "grpo-studio-export.json").read_text())
    assert manifest["source"] == str(model_dir) and manifest["largest_logit_difference"] < 1e-3
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": p}, ensure_ascii=False) + "\n" for p in PROMPTS), encoding="utf-8")
    sampled = tmp_path / "greedy.jsonl"
    done = subprocess.run(
        ["node", str(CLI), "sample", "--model", str(export_dir), "--prompts", str(prompts), "--num-generations", "1",
         "--temperature", "0", "--max-new-tokens", str(NEW_TOKENS), "--out", str(sampled)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    onnx_answers = [json.loads(line)["completion"][0]["content"] for line in sampled.read_text(encoding="utf-8").splitlines()]

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    expected = []
    for messages in PROMPTS:
        # As GRPOTrainer renders a conversational prompt: the chat template, then no special tokens added.
        text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        ids = tokenizer(text, return_tensors="pt", add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(**ids, do_sample=False, max_new_tokens=NEW_TOKENS, pad_token_id=tokenizer.pad_token_id)
        expected.append(tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True))
    assert onnx_answers == expected
    assert "Paris" in expected[0]  # a real model, not noise


def test_refusals_say_what_to_do(tmp_path: Path) -> None:
    fixtures = ensure_onnx_fixtures()
    reward_model = export(fixtures["rm"], tmp_path / "rm")
    assert reward_model.returncode == 2
    assert "not a causal LM" in reward_model.stderr and not (tmp_path / "rm").exists()
    missing = export(tmp_path / "nowhere", tmp_path / "out")
    assert missing.returncode == 2 and "model folder not found" in missing.stderr
    (tmp_path / "empty").mkdir()
    empty = export(tmp_path / "empty", tmp_path / "out")
    assert empty.returncode == 2 and "no config.json" in empty.stderr
    assert not list(tmp_path.glob(".*partial*")), "an unfinished export is not left behind"
