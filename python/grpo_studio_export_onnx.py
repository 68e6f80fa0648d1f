"""GRPO Studio: export a local Hugging Face causal LM to the ONNX layout the in-editor sampler reads.

    python grpo_studio_export_onnx.py --model DIR --out DIR

DIR (--model) is a transformers model folder (config.json, the weights, the tokenizer files), as
`save_pretrained` or a training run writes it. --out gets config.json, generation_config.json, the
tokenizer files copied from DIR, and onnx/model.onnx: the decoder with its KV cache, float32, in the
layout of Optimum's "text-generation-with-past" export:

    inputs  input_ids [batch, sequence], attention_mask [batch, past + sequence],
            position_ids [batch, sequence], past_key_values.{i}.key / .value [batch, kv_heads, past, head_dim]
    outputs logits [batch, sequence, vocab], present.{i}.key / .value [batch, kv_heads, past + sequence, head_dim]

Why torch.onnx.export and not Optimum: optimum-onnx (0.1.0, the newest) requires transformers < 4.58,
and transformers 5 changed the cache classes its exporter traces; the graph is traced here with
TorchScript (dynamo=False, which needs only the `onnx` package). When onnxruntime is installed the
export is checked against PyTorch on one prompt and the largest logit difference is printed.

The export is written into a temporary folder beside --out and moved into place when complete, so an
interrupted export leaves no half-written model. Progress goes to stderr. Exit status: 0 done; 2 bad
arguments (a folder that is not a causal LM); 1 anything else (the cause on stderr).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

OPSET = 17
# The files a tokenizer and its generation settings live in, copied as they are so the sampler reads
# exactly what transformers reads (chat template included).
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    "chat_template.json",
    "generation_config.json",
    "added_tokens.json",
)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Export a local causal LM to ONNX for in-editor sampling.")
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args(argv)


def kv_shape(config) -> tuple[int, int, int]:
    """(layers, key/value heads, head dim) of a decoder's config."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    heads = text.num_attention_heads
    kv_heads = getattr(text, "num_key_value_heads", None) or heads
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // heads
    return text.num_hidden_layers, kv_heads, head_dim


def past_names(prefix: str, layers: int) -> list[str]:
    return [f"{prefix}.{i}.{part}" for i in range(layers) for part in ("key", "value")]


def decoder_with_past(model, layers: int):
    """The model as (input_ids, attention_mask, position_ids, *flat past) -> (logits, *flat present)."""
    import torch
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    # transformers 5.2x names the cache `cache`; earlier releases `past_key_values`.
    cache_name = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"

    class DecoderWithPast(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, position_ids, *past):
            cache = DynamicCache()
            cache.layers = []
            for i in range(layers):
                # Filled directly (not through DynamicCache(ddp_cache_data)): its lazy initialization
                # concatenates onto a 1-D empty tensor, which does not trace.
                layer = DynamicLayer()
                layer.keys, layer.values = past[2 * i], past[2 * i + 1]
                layer.device, layer.is_initialized = past[2 * i].device, True
                cache.layers.append(layer)
            out = self.model(
                input_ids=input_ids,
                attention_mask=attention_mask,
                position_ids=position_ids,
                use_cache=True,
                return_dict=True,
                **{cache_name: cache},
            )
            present = []
            for layer in getattr(out, cache_name).layers:
                present += [layer.keys, layer.values]
            return (out.logits, *present)

    return DecoderWithPast()


def decoder_without_past(model):
    """The model as (input_ids, attention_mask, position_ids) -> logits."""
    import torch

    class Decoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, position_ids):
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, use_cache=False, return_dict=True
            ).logits

    return Decoder()


def export_graph(module, args: tuple, path: Path, input_names, output_names, dynamic_axes, producer: str) -> None:
    """torch.onnx.export (TorchScript), then onnx's checker; the graph's producer named."""
    import onnx
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # TracerWarnings about Python-side checks in transformers that are constant for these graphs
        # (an empty cache's numel() == 0, the padding check: the mask is always past + sequence long).
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
    onnx.checker.check_model(str(path))  # by path: a graph over 2 GB keeps its weights beside it
    if path.stat().st_size < 2**31 and not any(path.parent.glob("*.data")):
        graph = onnx.load(str(path))
        graph.producer_name = producer
        onnx.save(graph, str(path))


def export_causal_lm(model, out: Path, with_past: bool = True, producer: str = "grpo-studio") -> None:
    """Traces `model` into out/onnx/model.onnx (with or without its KV cache)."""
    import torch

    layers, kv_heads, head_dim = kv_shape(model.config)
    batch, seq, past_len = 2, 3, 4
    input_ids = torch.randint(3, model.config.get_text_config().vocab_size, (batch, seq), dtype=torch.long)
    total = past_len + seq if with_past else seq
    attention_mask = torch.ones(batch, total, dtype=torch.long)
    position_ids = torch.arange(total - seq, total, dtype=torch.long).unsqueeze(0).expand(batch, -1).contiguous()
    input_names = ["input_ids", "attention_mask", "position_ids"]
    output_names = ["logits"]
    dynamic_axes = {
        "input_ids": {0: "batch_size", 1: "sequence_length"},
        "attention_mask": {0: "batch_size", 1: "total_sequence_length" if with_past else "sequence_length"},
        "position_ids": {0: "batch_size", 1: "sequence_length"},
        "logits": {0: "batch_size", 1: "sequence_length"},
    }
    args = [input_ids, attention_mask, position_ids]
    module = decoder_without_past(model)
    if with_past:
        for name in past_names("past_key_values", layers):
            args.append(torch.randn(batch, kv_heads, past_len, head_dim))
            dynamic_axes[name] = {0: "batch_size", 2: "past_sequence_length"}
        input_names += past_names("past_key_values", layers)
        for name in past_names("present", layers):
            dynamic_axes[name] = {0: "batch_size", 2: "total_sequence_length"}
        output_names += past_names("present", layers)
        module = decoder_with_past(model, layers)
    export_graph(module, tuple(args), out / "onnx" / "model.onnx", input_names, output_names, dynamic_axes, producer)


def largest_logit_difference(model, graph: Path, tokenizer) -> float | None:
    """max |ONNX - PyTorch| over the logits of one prompt, or None without onnxruntime."""
    try:
        import onnxruntime
    except ImportError:
        return None
    import numpy as np
    import torch

    ids = tokenizer("The capital of France is", return_tensors="pt", add_special_tokens=False)["input_ids"]
    if ids.shape[1] == 0:
        ids = torch.tensor([[1, 2, 3]])
    mask = torch.ones_like(ids)
    positions = torch.arange(ids.shape[1]).unsqueeze(0)
    with torch.no_grad():
        expected = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=False).logits.numpy()
    session = onnxruntime.InferenceSession(str(graph), providers=["CPUExecutionProvider"])
    layers, kv_heads, head_dim = kv_shape(model.config)
    feed = {"input_ids": ids.numpy(), "attention_mask": mask.numpy(), "position_ids": positions.numpy()}
    for name in past_names("past_key_values", layers):
        feed[name] = np.zeros((1, kv_heads, 0, head_dim), dtype=np.float32)
    actual = session.run(["logits"], feed)[0]
    return float(np.abs(actual - expected).max())


def export(model_dir: Path, out: Path) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    if not (model_dir / "config.json").is_file():
        raise ValueError(f"{model_dir} has no config.json: give a transformers model folder (save_pretrained's layout)")
    config = AutoConfig.from_pretrained(model_dir)
    architectures = getattr(config, "architectures", None) or []
    if architectures and not any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in architectures):
        raise ValueError(f"{model_dir} holds a {', '.join(architectures)}, not a causal LM: only causal LMs sample completions")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    started = time.monotonic()
    print(f"loading {model_dir}", file=sys.stderr, flush=True)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        count = sum(p.numel() for p in model.parameters())
        print(f"exporting {count / 1e6:.1f}M parameters to ONNX", file=sys.stderr, flush=True)
        export_causal_lm(model, build)
        config.save_pretrained(build)
        for name in TOKENIZER_FILES:
            if (model_dir / name).is_file():
                shutil.copy2(model_dir / name, build / name)
        if not (build / "tokenizer.json").is_file():
            tokenizer.save_pretrained(build)  # a slow tokenizer's folder: the fast tokenizer.json the sampler reads
        if not (build / "generation_config.json").is_file():
            model.generation_config.save_pretrained(build)
        print("checking the export against PyTorch", file=sys.stderr, flush=True)
        difference = largest_logit_difference(model, build / "onnx" / "model.onnx", tokenizer)
        (build / "grpo-studio-export.json").write_text(
            json.dumps(
                {
                    "source": str(model_dir),
                    "exporter": f"torch.onnx.export (TorchScript) {torch.__version__}, opset {OPSET}",
                    "largest_logit_difference": difference,
                    "seconds": round(time.monotonic() - started, 1),
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        for path in build.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        build.chmod(0o755)  # mkdtemp makes it private
        if out.exists():
            shutil.rmtree(out)
        os.replace(build, out)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    checked = "not checked: onnxruntime is not installed" if difference is None else f"largest logit difference {difference:.2e}"
    print(f"exported to {out} in {time.monotonic() - started:.0f} s ({checked})", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if not args.model.is_dir():
        print(f"error: model folder not found: {args.model}", file=sys.stderr)
        return 2
    try:
        import onnx  # noqa: F401
    except ImportError:
        print(f"error: the onnx package is missing in {sys.executable}: pip install onnx (onnxruntime too, to check the export)", file=sys.stderr)
        return 1
    try:
        export(args.model.resolve(), args.out.resolve())
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - the cause, then the traceback for the output channel
        import traceback

        traceback.print_exc()
        print(f"error: the export failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
