"""The tiny ONNX test models (onnx_fixtures.py) against PyTorch, through the reference loops (onnx_reference.py)."""

import json
import subprocess
import sys

import pytest

pytest.importorskip("onnx", reason="onnx is in python/requirements-test.txt")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is in python/requirements-test.txt")

import numpy as np  # noqa: E402

from onnx_fixtures import HEAD_DIM, NUM_KV_HEADS, NUM_LAYERS, ensure_onnx_fixtures  # noqa: E402
from onnx_reference import (  # noqa: E402
    encode_prompt,
    greedy_onnx,
    greedy_torch,
    load_tokenizer,
    load_torch_lm,
    onnx_session,
    reward_inputs,
    reward_logits_onnx,
    reward_logits_torch,
)
from tiny_model import REPO_ROOT  # noqa: E402

HERE = REPO_ROOT / "test" / "python"
NEW_TOKENS = 16
# Both 16 tokens once in the chat template; greedy decoding of the first reaches EOS at its 15th new token.
JA_PROMPTS = ["猫が好きです 🐱", "富士山は日本で一番高い山です。🗻"]
EN_PROMPTS = ["What is two plus two?", "The quick brown fox jumps over the lazy dog."]
ROUND_TRIP = [
    "こんにちは!今日はいい天気ですね。😊",
    "日本の首都は東京です。🗼🗻",
    "絵文字 ❤️ 👍🏽 👨‍👩‍👧 🇯🇵 and plain ASCII, tabs\tand\nnewlines",
    "未知の漢字: 鬱 龘 𠮷 — ｶﾀｶﾅ ＡＢＣ",
    "<|im_start|>user\n猫 🐱<|im_end|>\n",
]


@pytest.fixture(scope="module")
def dirs():
    return ensure_onnx_fixtures()


@pytest.fixture(scope="module")
def tokenizer(dirs):
    return load_tokenizer(dirs["lm"])


@pytest.fixture(scope="module")
def torch_lm(dirs):
    return load_torch_lm(dirs["lm"])


def equal_length(rows):
    """Left-truncate prompts to the shortest, keeping the generation prompt at their end."""
    n = min(len(r) for r in rows)
    return [r[len(r) - n:] for r in rows]


def chat_batch(tokenizer, prompts):
    rows = equal_length([encode_prompt(tokenizer, p, chat=True) for p in prompts])
    return rows + rows[:1]  # a repeated row too, as GRPO's num_generations copies are


def test_layout(dirs):
    for key in ("lm", "lm_nocache", "rm"):
        d = dirs[key]
        assert d.is_absolute()
        for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                     "model.safetensors", "onnx/model.onnx"):
            assert (d / name).is_file(), d / name
            assert (d / name).stat().st_size < 5 * 2**20, d / name
        assert not list((d / "onnx").glob("*.onnx_data")) and len(list((d / "onnx").iterdir())) == 1
        config = json.loads((d / "tokenizer_config.json").read_text(encoding="utf-8"))
        assert "{% for message in messages %}" in config["chat_template"]
        assert config["eos_token"] == "<|im_end|>" and config["pad_token"] == "<|endoftext|>"
        assert "bos_token" not in config  # the tokenizer has none
    for key in ("lm", "lm_nocache"):
        gen = json.loads((dirs[key] / "generation_config.json").read_text())
        assert (gen["eos_token_id"], gen["pad_token_id"]) == (2, 0)
    rm_config = json.loads((dirs["rm"] / "config.json").read_text())
    assert rm_config["architectures"] == ["Qwen2ForSequenceClassification"] and rm_config["pad_token_id"] == 0
    assert len(rm_config["id2label"]) == 1


def _io(session):
    inputs = {i.name: (i.type, i.shape) for i in session.get_inputs()}
    outputs = {o.name: (o.type, o.shape) for o in session.get_outputs()}
    return inputs, outputs


def test_onnx_io_names_and_shapes(dirs, tokenizer):
    vocab = len(tokenizer)
    inputs, outputs = _io(onnx_session(dirs["lm"]))
    past = [f"past_key_values.{i}.{kv}" for i in range(NUM_LAYERS) for kv in ("key", "value")]
    present = [f"present.{i}.{kv}" for i in range(NUM_LAYERS) for kv in ("key", "value")]
    assert list(inputs) == ["input_ids", "attention_mask", "position_ids", *past]
    assert list(outputs) == ["logits", *present]
    assert inputs["input_ids"] == ("tensor(int64)", ["batch_size", "sequence_length"])
    assert inputs["attention_mask"] == ("tensor(int64)", ["batch_size", "total_sequence_length"])
    assert inputs["position_ids"] == ("tensor(int64)", ["batch_size", "sequence_length"])
    for name in past:
        assert inputs[name] == ("tensor(float)", ["batch_size", NUM_KV_HEADS, "past_sequence_length", HEAD_DIM])
    for name in present:
        assert outputs[name] == ("tensor(float)", ["batch_size", NUM_KV_HEADS, "total_sequence_length", HEAD_DIM])
    assert outputs["logits"] == ("tensor(float)", ["batch_size", "sequence_length", vocab])

    inputs, outputs = _io(onnx_session(dirs["lm_nocache"]))
    assert list(inputs) == ["input_ids", "attention_mask", "position_ids"]
    assert all(t == "tensor(int64)" and s == ["batch_size", "sequence_length"] for t, s in inputs.values())
    assert outputs == {"logits": ("tensor(float)", ["batch_size", "sequence_length", vocab])}

    inputs, outputs = _io(onnx_session(dirs["rm"]))
    assert inputs == {
        "input_ids": ("tensor(int64)", ["batch_size", "sequence_length"]),
        "attention_mask": ("tensor(int64)", ["batch_size", "sequence_length"]),
    }
    assert outputs == {"logits": ("tensor(float)", ["batch_size", 1])}


def test_cache_steps_match_full_pass(dirs, torch_lm):
    """Empty past first, then one and several tokens per step, against PyTorch and the no-cache graph."""
    import torch

    session, nocache = onnx_session(dirs["lm"]), onnx_session(dirs["lm_nocache"])
    ids = np.random.default_rng(0).integers(3, torch_lm.config.vocab_size, size=(3, 12), dtype=np.int64)
    with torch.no_grad():
        expected = torch_lm(input_ids=torch.from_numpy(ids)).logits.numpy()
    positions = np.tile(np.arange(12, dtype=np.int64), (3, 1))
    full = nocache.run(["logits"], {"input_ids": ids, "attention_mask": np.ones_like(ids), "position_ids": positions})
    np.testing.assert_allclose(full[0], expected, atol=1e-4, rtol=0)

    names = [o.name for o in session.get_outputs()]
    past = {f"past_key_values.{i}.{kv}": np.zeros((3, NUM_KV_HEADS, 0, HEAD_DIM), np.float32)
            for i in range(NUM_LAYERS) for kv in ("key", "value")}
    start = 0
    for step in (5, 1, 1, 3, 2):  # 12 tokens in 5 calls
        end = start + step
        out = dict(zip(names, session.run(names, {
            "input_ids": ids[:, start:end],
            "attention_mask": np.ones((3, end), np.int64),
            "position_ids": positions[:, start:end],
            **past,
        })))
        assert out["logits"].shape == (3, step, torch_lm.config.vocab_size)
        np.testing.assert_allclose(out["logits"], expected[:, start:end], atol=1e-4, rtol=0)
        past = {f"past_key_values.{k[len('present.'):]}": v for k, v in out.items() if k.startswith("present.")}
        assert all(v.shape == (3, NUM_KV_HEADS, end, HEAD_DIM) for v in past.values())
        start = end


@pytest.mark.parametrize("model", ["lm", "lm_nocache"])
@pytest.mark.parametrize("prompts", [JA_PROMPTS, EN_PROMPTS], ids=["ja-emoji", "en"])
def test_greedy_onnx_matches_transformers(dirs, tokenizer, torch_lm, model, prompts):
    rows = chat_batch(tokenizer, prompts)
    assert len(rows) == 3 and len({len(r) for r in rows}) == 1 and rows[0] != rows[1]
    onnx_ids = greedy_onnx(dirs[model], rows, NEW_TOKENS)
    torch_ids = greedy_torch(dirs["lm"], rows, NEW_TOKENS, model=torch_lm)
    assert onnx_ids == torch_ids
    # Not a degenerate model: completions vary token to token and row to row.
    assert len(set(onnx_ids[1])) > NEW_TOKENS // 2 and onnx_ids[0] != onnx_ids[1]
    assert onnx_ids[2] == onnx_ids[0]
    for row in onnx_ids:
        assert len(row) == NEW_TOKENS or row[-1] == tokenizer.eos_token_id


def test_greedy_stops_rows_at_eos(dirs, tokenizer, torch_lm):
    rows = chat_batch(tokenizer, JA_PROMPTS)
    eos = tokenizer.eos_token_id
    for model in ("lm", "lm_nocache"):
        onnx_ids = greedy_onnx(dirs[model], rows, 32)
        assert onnx_ids == greedy_torch(dirs["lm"], rows, 32, model=torch_lm)
        assert len(onnx_ids[0]) == 15 and onnx_ids[0][-1] == eos and eos not in onnx_ids[0][:-1]
        assert len(onnx_ids[1]) == 32 and eos not in onnx_ids[1]
    # Every row ended: the loop stops early; a negative EOS id never stops.
    assert greedy_onnx(dirs["lm"], [rows[0], rows[0]], 32) == [onnx_ids[0], onnx_ids[0]]
    assert len(greedy_onnx(dirs["lm"], [rows[0]], 20, eos_token_id=-1)[0]) == 20
    # Any token can be the stop token.
    stop = onnx_ids[1][5]
    first = onnx_ids[1].index(stop)
    assert greedy_onnx(dirs["lm"], rows, 32, eos_token_id=stop)[1] == onnx_ids[1][: first + 1]


def test_reward_onnx_matches_torch_right_padded(dirs):
    texts = [
        "こんにちは!今日はいい天気ですね。😊🎉",
        "a",
        "The quick brown fox jumps over the lazy dog. 🦊",
        "<|im_start|>user\n猫が好き?<|im_end|>\n<|im_start|>assistant\nはい 🐱<|im_end|>\n",
        "絵文字 ✨",
    ]
    inputs = reward_inputs(dirs["rm"], texts)
    lengths = inputs["attention_mask"].sum(-1)
    assert len(set(lengths.tolist())) == len(texts)
    # Right padding: ones then zeros, pad token in the padded places.
    for row, n in zip(inputs["attention_mask"], lengths):
        assert row[:n].all() and not row[n:].any()
    assert (inputs["input_ids"][inputs["attention_mask"] == 0] == 0).all()

    torch_logits = reward_logits_torch(dirs["rm"], texts)
    onnx_logits = reward_logits_onnx(dirs["rm"], texts)
    np.testing.assert_allclose(onnx_logits, torch_logits, atol=1e-4, rtol=0)
    # Padding does not change a text's reward.
    alone = [reward_logits_onnx(dirs["rm"], [t])[0] for t in texts]
    np.testing.assert_allclose(alone, torch_logits, atol=1e-4, rtol=0)
    assert np.ptp(torch_logits) > 1e-2  # rewards differ between texts


@pytest.mark.parametrize("key", ["lm", "rm"])
def test_tokenizer_round_trips_japanese_and_emoji(dirs, key):
    from tokenizers import Tokenizer

    raw = Tokenizer.from_file(str(dirs[key] / "tokenizer.json"))  # what a JS/TS tokenizer reads
    hf = load_tokenizer(dirs[key])
    for text in ROUND_TRIP:
        ids = raw.encode(text, add_special_tokens=False).ids
        assert raw.decode(ids, skip_special_tokens=False) == text
        assert hf(text, add_special_tokens=False)["input_ids"] == ids
        assert hf.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False) == text
    assert raw.encode("<|im_start|><|im_end|><|endoftext|>", add_special_tokens=False).ids == [1, 2, 0]
    prompt = hf.apply_chat_template([{"role": "user", "content": "猫 🐱"}], tokenize=False, add_generation_prompt=True)
    assert prompt == "<|im_start|>user\n猫 🐱<|im_end|>\n<|im_start|>assistant\n"


def _run(script, *args):
    result = subprocess.run(
        [sys.executable, str(HERE / script), *map(str, args)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_clis(dirs, tokenizer):
    assert _run("onnx_fixtures.py") == {key: str(path) for key, path in dirs.items()}

    out = _run("onnx_reference.py", "generate", "--model", dirs["lm"], "--prompt", JA_PROMPTS[0],
               "--num-generations", 2, "--max-new-tokens", 32, "--chat", "--threads", 1)
    assert out["prompt_ids"] == encode_prompt(tokenizer, JA_PROMPTS[0], chat=True)
    assert out["completion_ids"] == greedy_onnx(dirs["lm"], [out["prompt_ids"]] * 2, 32)
    assert out["sequences"] == [out["prompt_ids"] + row for row in out["completion_ids"]]
    assert out["completions"] == tokenizer.batch_decode(out["completion_ids"], skip_special_tokens=True)
    assert out["steps"] == 15 and out["generated_tokens"] == 30 and out["kv_cache"] is True
    assert out["seconds"] > 0 and 0 < out["time_to_first_token"] <= out["seconds"] and out["tokens_per_second"] > 0

    texts = ["猫 🐱", "The answer is 4."]
    out = _run("onnx_reference.py", "reward", "--model", dirs["rm"], "--text", texts[0], "--text", texts[1])
    assert len(out["torch"]) == len(out["onnx"]) == 2
    np.testing.assert_allclose(out["onnx"], out["torch"], atol=1e-4, rtol=0)
    assert out["input_ids"] == reward_inputs(dirs["rm"], texts)["input_ids"].tolist()
