"""python/grpo_studio_generate.py on the tiny model: output lines, determinism, clear errors."""

import json
import subprocess
import sys

import pytest

from tiny_model import REPO_ROOT, ensure_tiny_model

SCRIPT = REPO_ROOT / "python" / "grpo_studio_generate.py"


@pytest.fixture(scope="module")
def model():
    return ensure_tiny_model()


def generate(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=120)


def write_prompts(path, prompts):
    path.write_text("".join(json.dumps({"prompt": p}, ensure_ascii=False) + "\n" for p in prompts), encoding="utf-8")
    return path


def read_rows(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_one_line_per_prompt_in_trl_shapes(model, tmp_path):
    prompts = write_prompts(tmp_path / "p.jsonl", ["富士山の高さは？", [{"role": "user", "content": "日本の首都は？😀"}]])
    out = tmp_path / "out.jsonl"
    result = generate("--model", model, "--prompts", prompts, "--out", out, "--max-new-tokens", 8)
    assert result.returncode == 0, result.stderr
    rows = read_rows(out)
    assert [r["prompt"] for r in rows] == ["富士山の高さは？", [{"role": "user", "content": "日本の首都は？😀"}]]
    assert isinstance(rows[0]["completion"], str)
    assert rows[1]["completion"][0]["role"] == "assistant" and isinstance(rows[1]["completion"][0]["content"], str)
    assert "generated 2/2" in result.stderr


def test_chat_flag_wraps_string_prompts(model, tmp_path):
    prompts = write_prompts(tmp_path / "p.jsonl", ["こんにちは"])
    out = tmp_path / "out.jsonl"
    assert generate("--model", model, "--prompts", prompts, "--out", out, "--max-new-tokens", 4, "--chat").returncode == 0
    (row,) = read_rows(out)
    assert row["prompt"] == [{"role": "user", "content": "こんにちは"}]
    assert row["completion"][0]["role"] == "assistant"


@pytest.mark.parametrize("temperature", ["0", "1.0"])
def test_same_seed_same_answers(model, tmp_path, temperature):
    prompts = write_prompts(tmp_path / "p.jsonl", ["富士山の高さは？", "日本の首都はどこ？"])
    outs = []
    for k in range(2):
        out = tmp_path / f"out{k}.jsonl"
        result = generate("--model", model, "--prompts", prompts, "--out", out, "--max-new-tokens", 12, "--temperature", temperature, "--seed", 7)
        assert result.returncode == 0, result.stderr
        outs.append(out.read_text(encoding="utf-8"))
    assert outs[0] == outs[1]


def test_a_repeated_prompt_gets_several_samples_and_the_filters_apply(model, tmp_path):
    """Sampling as GRPOConfig does: each line its own seed; top_k=1 leaves only the greedy token."""
    prompts = write_prompts(tmp_path / "p.jsonl", ["富士山の高さは？"] * 4)

    def answers(*options):
        out = tmp_path / "out.jsonl"
        result = generate("--model", model, "--prompts", prompts, "--out", out, "--max-new-tokens", 12, "--seed", 3, *options)
        assert result.returncode == 0, result.stderr
        return [row["completion"] for row in read_rows(out)]

    sampled = answers("--temperature", "1.5", "--top-p", "1.0", "--repetition-penalty", "1.0")
    assert len(set(sampled)) > 1, "the samples of one prompt differ"
    greedy = answers("--temperature", "0")
    assert answers("--temperature", "1.5", "--top-k", "1") == greedy, "top-k 1 is greedy decoding"
    assert answers("--temperature", "1.5", "--min-p", "1.0") == greedy, "min-p 1 keeps only the likeliest token"
    bad = generate("--model", model, "--prompts", prompts, "--out", tmp_path / "x.jsonl", "--top-p", "0")
    assert bad.returncode == 2 and "--top-p must be in (0, 1]" in bad.stderr


def test_missing_model_folder_is_named(tmp_path):
    prompts = write_prompts(tmp_path / "p.jsonl", ["x"])
    result = generate("--model", tmp_path / "nope", "--prompts", prompts, "--out", tmp_path / "o.jsonl")
    assert result.returncode == 2
    assert f"model folder not found: {tmp_path / 'nope'}" in result.stderr
    assert "Traceback" not in result.stderr


def test_folder_without_config_names_the_missing_file(tmp_path):
    (tmp_path / "empty").mkdir()
    prompts = write_prompts(tmp_path / "p.jsonl", ["x"])
    result = generate("--model", tmp_path / "empty", "--prompts", prompts, "--out", tmp_path / "o.jsonl")
    assert result.returncode == 2
    assert str(tmp_path / "empty" / "config.json") in result.stderr and "missing" in result.stderr


def test_bad_prompts_file_exits_2(model, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "x"}\n', encoding="utf-8")
    result = generate("--model", model, "--prompts", bad, "--out", tmp_path / "o.jsonl")
    assert result.returncode == 2 and "bad.jsonl:1" in result.stderr
