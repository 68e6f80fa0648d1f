"""Tiny random ONNX models in the Hugging Face / optimum / transformers.js layout, for offline tests.

No model hub is reachable here, so the ONNX test models are built from scratch, exported with
torch.onnx.export and cached under test/fixtures/generated/ (git-ignored):

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
import warnings
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tiny_model import CHAT_TEMPLATE, REPO_ROOT, _build_tokenizer  # noqa: E402

GENERATED_ROOT = REPO_ROOT / "test" / "fixtures" / "generated"
LM_NAME = "tiny-lm-onnx"
LM_NOCACHE_NAME = "tiny-lm-onnx-nocache"
RM_NAME = "tiny-rm-onnx"

# Bump when the recipe below changes, so cached copies are rebuilt.
RECIPE_VERSION = "1"
OPSET = 17

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
    """The models' Qwen2 config at the current shape (HIDDEN, NUM_LAYERS, ...), with `overrides`."""
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


def _lm_wrapper(model, with_past: bool):
    import torch
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    class DecoderWithPast(torch.nn.Module):
        """(input_ids, attention_mask, position_ids, *flat past) -> (logits, *flat present)."""

        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, position_ids, *past):
            layers = []
            for i in range(NUM_LAYERS):
                # Filled directly (not through DynamicCache(ddp_cache_data)): its lazy initialization
                # concatenates onto a 1-D empty tensor, which does not export.
                layer = DynamicLayer()
                layer.keys, layer.values = past[2 * i], past[2 * i + 1]
                layer.device, layer.is_initialized = past[2 * i].device, True
                layers.append(layer)
            cache = DynamicCache()
            cache.layers = layers
            out = self.model(
                input_ids=input_ids,
                attention_mask=attention_mask,
                position_ids=position_ids,
                cache=cache,
                use_cache=True,
                return_dict=True,
            )
            present = []
            for layer in out.cache.layers:
                present += [layer.keys, layer.values]
            return (out.logits, *present)

    class DecoderNoPast(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, position_ids):
            return self.model(
                input_ids=input_ids,
                attention_mask=attention_mask,
                position_ids=position_ids,
                use_cache=False,
                return_dict=True,
            ).logits

    return DecoderWithPast() if with_past else DecoderNoPast()


def _rm_wrapper(model):
    import torch

    class RewardModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask, return_dict=True).logits

    return RewardModel()


def _export(module, args, path: Path, input_names, output_names, dynamic_axes):
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # TracerWarnings about Python-side checks in transformers that are constant for these graphs
        # (DynamicLayer.get_seq_length's numel() == 0, prepare_padding_mask's padding_length > 0: the
        # attention mask is always past + sequence long), and the aten::index opset note.
        warnings.simplefilter("ignore")
        with torch.no_grad():
            torch.onnx.export(
                module,
                args,
                str(path),
                input_names=input_names,
                output_names=output_names,
                dynamic_axes=dynamic_axes,
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
    import onnx

    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    model.producer_name = "grpo-studio-test-fixtures"
    onnx.save(model, str(path))


def _past_names(prefix):
    names = []
    for i in range(NUM_LAYERS):
        names += [f"{prefix}.{i}.key", f"{prefix}.{i}.value"]
    return names


def _export_lm(model, out: Path, with_past: bool):
    import torch

    batch, seq, past_len = 2, 3, 4
    input_ids = torch.randint(3, model.config.vocab_size, (batch, seq), dtype=torch.long)
    total = past_len + seq if with_past else seq
    attention_mask = torch.ones(batch, total, dtype=torch.long)
    position_ids = torch.arange(total - seq, total, dtype=torch.long).unsqueeze(0).expand(batch, -1).contiguous()
    input_names = ["input_ids", "attention_mask", "position_ids"]
    dynamic_axes = {
        "input_ids": {0: "batch_size", 1: "sequence_length"},
        "attention_mask": {0: "batch_size", 1: "total_sequence_length" if with_past else "sequence_length"},
        "position_ids": {0: "batch_size", 1: "sequence_length"},
        "logits": {0: "batch_size", 1: "sequence_length"},
    }
    output_names = ["logits"]
    args = [input_ids, attention_mask, position_ids]
    if with_past:
        for name in _past_names("past_key_values"):
            args.append(torch.randn(batch, NUM_KV_HEADS, past_len, HEAD_DIM))
            dynamic_axes[name] = {0: "batch_size", 2: "past_sequence_length"}
        input_names += _past_names("past_key_values")
        for name in _past_names("present"):
            dynamic_axes[name] = {0: "batch_size", 2: "total_sequence_length"}
        output_names += _past_names("present")
    _export(_lm_wrapper(model, with_past), tuple(args), out / "onnx" / "model.onnx", input_names, output_names, dynamic_axes)


def _export_rm(model, out: Path):
    import torch

    input_ids = torch.randint(3, model.config.vocab_size, (2, 5), dtype=torch.long)
    attention_mask = torch.ones(2, 5, dtype=torch.long)
    # One right-padded row in the example, so both pooling cases are traced through the same ops.
    input_ids[1, 3:] = model.config.pad_token_id
    attention_mask[1, 3:] = 0
    _export(
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
BENCH_RECIPE_VERSION = "1"
BENCH_LM_SEED = 5
# The module-level shape the export helpers above read, for the benchmark model only.
BENCH_SHAPE = {"NUM_LAYERS": 4, "NUM_HEADS": 8, "NUM_KV_HEADS": 4, "HIDDEN": 256, "HEAD_DIM": 32}
BENCH_INTERMEDIATE = 1024


@contextmanager
def _model_shape(**shape):
    """Temporarily give the export helpers (_lm_wrapper, _past_names, _export_lm) another shape."""
    saved = {name: globals()[name] for name in shape}
    globals().update(shape)
    try:
        yield
    finally:
        globals().update(saved)


def _build_bench_lm(tokenizer):
    import torch
    from transformers import Qwen2ForCausalLM

    with _model_shape(**BENCH_SHAPE):
        config = _config(tokenizer, intermediate_size=BENCH_INTERMEDIATE)
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
        with _model_shape(**BENCH_SHAPE):
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
