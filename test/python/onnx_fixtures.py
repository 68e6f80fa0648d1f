"""Tiny random ONNX models in the Hugging Face / optimum / transformers.js layout, for offline tests.

No model hub is reachable here, so the ONNX test models are built from scratch, exported with
python/grpo_studio_export_onnx.py (the exporter the extension ships) and cached under test/fixtures/generated/ (git-ignored):

  tiny-lm-onnx/          Qwen2ForCausalLM with KV cache, like optimum's "text-generation-with-past"
                         decoder_model_merged / transformers.js onnx/model.onnx:
                           inputs  input_ids        int64   [batch, sequence_length]
                                   attention_mask   int64   [batch, past_sequence_length + sequence_length]
                                   position_ids     int64   [batch, sequence_length]
                                   past_key_values.{i}.key / .value
                                                    float32 [batch, num_kv_heads, past_sequence_length, head_dim]
                           outputs logits           float32 [batch, sequence_length, vocab]
                                   present.{i}.key / .value
                                                    float32 [batch, num_kv_heads, past_sequence_length + sequence_length, head_dim]
                         The first step is run with past tensors of past_sequence_length 0. Dynamic
                         dims are named batch_size, sequence_length, past_sequence_length and
                         total_sequence_length; attention_mask must be exactly past + sequence long.
  tiny-lm-onnx-nocache/  the same weights without past: inputs input_ids, attention_mask, position_ids;
                         output logits only.
  tiny-rm-onnx/          Qwen2ForSequenceClassification (num_labels=1) reward model: inputs input_ids,
                         attention_mask (right padding); output logits float32 [batch, 1] (pooled on the
                         last non-pad token, as transformers does).

Each folder also holds config.json, the tokenizer files (tokenizer.json, tokenizer_config.json with the
chat template, special_tokens_map.json) and model.safetensors, so tests can compare with PyTorch. The
tokenizer is tiny_model's byte-level BPE (Japanese + emoji corpus).

`python test/python/onnx_fixtures.py [--root DIR]` (re)builds what is missing or stale and prints a JSON
object of the absolute model directories.

`python test/python/onnx_fixtures.py --bench [--root DIR]` builds only the benchmark model instead (npm run
bench; the tests do not use it) and prints {"bench_lm": dir}:

  bench-lm-onnx/         a bigger Qwen2ForCausalLM (hidden 256, intermediate 1024, 4 layers, 8 heads / 4 KV
                         heads, head_dim 32), same tokenizer, exported exactly as tiny-lm-onnx (with KV cache),
                         so that a decoding step costs compute rather than per-call overhead.
"""

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))

from grpo_studio_export_onnx import export_causal_lm, export_graph  # noqa: E402
from tiny_model import CHAT_TEMPLATE, REPO_ROOT, _build_tokenizer  # noqa: E402

GENERATED_ROOT = REPO_ROOT / "test" / "fixtures" / "generated"
LM_NAME = "tiny-lm-onnx"
LM_NOCACHE_NAME = "tiny-lm-onnx-nocache"
RM_NAME = "tiny-rm-onnx"

# Bump when the recipe below changes, so cached copies are rebuilt.
RECIPE_VERSION = "2"
PRODUCER = "grpo-studio-test-fixtures"

NUM_LAYERS = 2
NUM_HEADS = 4
NUM_KV_HEADS = 2
HIDDEN = 64
HEAD_DIM = HIDDEN // NUM_HEADS
LM_SEED = 3
RM_SEED = 1
# Much wider than the usual 0.02: with 0.02 the random model repeats one token forever, which would not
# tell a broken KV-cache loop from a working one. With 0.2 (and seed 3) greedy completions vary from
# token to token, the top-2 logit gap stays above ~1e-3 (ONNX vs PyTorch differ by ~2e-6, so no argmax
# flips), and some prompts reach EOS: the chat prompt "猫が好きです 🐱" ends at its 15th new token.
INITIALIZER_RANGE = 0.2


def _config(tokenizer, **overrides):
    """The models' Qwen2 config (HIDDEN, NUM_LAYERS, ...), with `overrides`."""
    from transformers import Qwen2Config

    settings = dict(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN,
        intermediate_size=128,
        num_hidden_layers=NUM_LAYERS,
        num_attention_heads=NUM_HEADS,
        num_key_value_heads=NUM_KV_HEADS,
        max_position_embeddings=512,
        initializer_range=INITIALIZER_RANGE,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
    )
    settings.update(overrides)
    return Qwen2Config(**settings)


def _build_lm(tokenizer):
    import torch
    from transformers import Qwen2ForCausalLM

    torch.manual_seed(LM_SEED)
    model = Qwen2ForCausalLM._from_config(_config(tokenizer), attn_implementation="eager").eval()
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    return model


def _build_rm(tokenizer):
    import torch
    from transformers import Qwen2ForSequenceClassification

    torch.manual_seed(RM_SEED)
    config = _config(tokenizer, num_labels=1)
    return Qwen2ForSequenceClassification._from_config(config, attn_implementation="eager").eval()


def _save_tokenizer(tokenizer, out: Path):
    """tokenizer.json + tokenizer_config.json (chat template inline) + special_tokens_map.json."""
    tokenizer.save_pretrained(out, save_jinja_files=False)
    (out / "chat_template.jinja").unlink(missing_ok=True)
    config_path = out / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    special = {
        name: getattr(tokenizer, name)
        for name in ("bos_token", "eos_token", "unk_token", "pad_token")
        if getattr(tokenizer, name, None) is not None
    }
    extra = [t for t in tokenizer.all_special_tokens if t not in special.values()]
    # The pre-transformers-5 fields that transformers.js and older loaders read.
    config.update(special)
    config["chat_template"] = CHAT_TEMPLATE
    config["tokenizer_class"] = "Qwen2Tokenizer"
    config["model_max_length"] = 512
    config["clean_up_tokenization_spaces"] = False
    config["add_bos_token"] = False
    config["additional_special_tokens"] = extra
    config.pop("extra_special_tokens", None)
    config["added_tokens_decoder"] = {
        str(i): {
            "content": tok.content,
            "lstrip": tok.lstrip,
            "normalized": tok.normalized,
            "rstrip": tok.rstrip,
            "single_word": tok.single_word,
            "special": tok.special,
        }
        for i, tok in sorted(tokenizer.added_tokens_decoder.items())
    }
    config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    special_map = dict(special)
    special_map["additional_special_tokens"] = extra
    (out / "special_tokens_map.json").write_text(
        json.dumps(special_map, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _rm_wrapper(model):
    import torch

    class RewardModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask, return_dict=True).logits

    return RewardModel()


def _export_lm(model, out: Path, with_past: bool):
    """The causal LMs go through the exporter the extension ships (GRPO: Export Model for In-Editor Sampling)."""
    export_causal_lm(model, out, with_past=with_past, producer=PRODUCER)


def _export_rm(model, out: Path):
    import torch

    input_ids = torch.randint(3, model.config.vocab_size, (2, 5), dtype=torch.long)
    attention_mask = torch.ones(2, 5, dtype=torch.long)
    # One right-padded row in the example, so both pooling cases are traced through the same ops.
    input_ids[1, 3:] = model.config.pad_token_id
    attention_mask[1, 3:] = 0
    export_graph(
        _rm_wrapper(model),
        (input_ids, attention_mask),
        out / "onnx" / "model.onnx",
        ["input_ids", "attention_mask"],
        ["logits"],
        {
            "input_ids": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "sequence_length"},
            "logits": {0: "batch_size"},
        },
        PRODUCER,
    )


def _build_into(tmp_root: Path):
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    tokenizer = _build_tokenizer()
    lm = _build_lm(tokenizer)
    rm = _build_rm(tokenizer)
    for name, model in ((LM_NAME, lm), (LM_NOCACHE_NAME, lm), (RM_NAME, rm)):
        out = tmp_root / name
        out.mkdir()
        _save_tokenizer(tokenizer, out)
        model.save_pretrained(out)
    _export_lm(lm, tmp_root / LM_NAME, with_past=True)
    _export_lm(lm, tmp_root / LM_NOCACHE_NAME, with_past=False)
    _export_rm(rm, tmp_root / RM_NAME)


def _fresh(root: Path) -> bool:
    for name in (LM_NAME, LM_NOCACHE_NAME, RM_NAME):
        stamp = root / name / "RECIPE_VERSION"
        if not (stamp.is_file() and stamp.read_text().strip() == RECIPE_VERSION):
            return False
        if not (root / name / "onnx" / "model.onnx").is_file():
            return False
    return True


def ensure_onnx_fixtures(root: Path = GENERATED_ROOT) -> dict:
    """Return {"lm": dir, "lm_nocache": dir, "rm": dir} (absolute Paths), building them first if missing or stale.

    All three are built together (the LM folders share weights) into a temporary directory and renamed
    into place, so an interrupted build never leaves a half-written folder behind.
    """
    root = Path(root).resolve()
    dirs = {"lm": root / LM_NAME, "lm_nocache": root / LM_NOCACHE_NAME, "rm": root / RM_NAME}
    if _fresh(root):
        return dirs
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tiny-onnx-", dir=root))
    try:
        _build_into(tmp)
        for name in (LM_NAME, LM_NOCACHE_NAME, RM_NAME):
            (tmp / name / "RECIPE_VERSION").write_text(RECIPE_VERSION + "\n")
            for path in (tmp / name).rglob("*"):
                path.chmod(0o755 if path.is_dir() else 0o644)  # safetensors writes 0600
            (tmp / name).chmod(0o755)
        for name in (LM_NAME, LM_NOCACHE_NAME, RM_NAME):
            shutil.rmtree(root / name, ignore_errors=True)
            try:
                (tmp / name).rename(root / name)
            except OSError:
                # Another process renamed its own build into place in between: same recipe, keep it.
                stamp = root / name / "RECIPE_VERSION"
                if not (stamp.is_file() and stamp.read_text().strip() == RECIPE_VERSION):
                    raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dirs


BENCH_LM_NAME = "bench-lm-onnx"
BENCH_RECIPE_VERSION = "2"
BENCH_LM_SEED = 5
BENCH_SHAPE = dict(hidden_size=256, intermediate_size=1024, num_hidden_layers=4, num_attention_heads=8, num_key_value_heads=4)


def _build_bench_lm(tokenizer):
    import torch
    from transformers import Qwen2ForCausalLM

    config = _config(tokenizer, **BENCH_SHAPE)
    torch.manual_seed(BENCH_LM_SEED)
    model = Qwen2ForCausalLM._from_config(config, attn_implementation="eager").eval()
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    return model


def ensure_bench_fixture(root: Path = GENERATED_ROOT) -> dict:
    """Return {"bench_lm": dir} (absolute Path), building bench-lm-onnx first if missing or stale."""
    root = Path(root).resolve()
    out = root / BENCH_LM_NAME
    stamp = out / "RECIPE_VERSION"
    if stamp.is_file() and stamp.read_text().strip() == BENCH_RECIPE_VERSION and (out / "onnx" / "model.onnx").is_file():
        return {"bench_lm": out}
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".bench-onnx-", dir=root))
    try:
        tokenizer = _build_tokenizer()
        model = _build_bench_lm(tokenizer)
        build = tmp / BENCH_LM_NAME
        build.mkdir()
        _save_tokenizer(tokenizer, build)
        model.save_pretrained(build)
        _export_lm(model, build, with_past=True)
        (build / "RECIPE_VERSION").write_text(BENCH_RECIPE_VERSION + "\n")
        for path in build.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        build.chmod(0o755)
        shutil.rmtree(out, ignore_errors=True)
        try:
            build.rename(out)
        except OSError:
            if not (stamp.is_file() and stamp.read_text().strip() == BENCH_RECIPE_VERSION):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"bench_lm": out}


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description="Build the tiny ONNX test models (cached).")
    parser.add_argument("--root", type=Path, default=GENERATED_ROOT, help=f"parent directory (default: {GENERATED_ROOT})")
    parser.add_argument("--bench", action="store_true", help=f"build only the benchmark model ({BENCH_LM_NAME}) instead")
    args = parser.parse_args(argv)
    dirs = ensure_bench_fixture(args.root) if args.bench else ensure_onnx_fixtures(args.root)
    print(json.dumps({key: str(path) for key, path in dirs.items()}))


if __name__ == "__main__":
    main()
