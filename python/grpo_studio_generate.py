"""GRPO Studio: one answer per prompt line from a local model, for "GRPO: Compare Generations".

    python grpo_studio_generate.py --model PATH [--tokenizer PATH] --prompts FILE.jsonl --out FILE.jsonl
                                   [--max-new-tokens N] [--temperature T] [--top-p P] [--top-k K]
                                   [--min-p M] [--repetition-penalty R] [--seed S] [--chat]

--prompts: one JSON object per line with "prompt": a string (TRL's standard format) or a list of
{"role", "content"} messages (TRL's conversational format). Message lists go through the
tokenizer's chat template (add_generation_prompt=True), as GRPOTrainer does; `--chat` makes string
prompts a single user message first. Prompt tokens are made without special tokens, as TRL does.

--out: one line per prompt, in order: {"prompt", "completion"} in TRL's shapes: a string completion
for a string prompt, [{"role": "assistant", "content": ...}] for a message list.

Greedy decoding with --temperature 0 (the default); sampling otherwise, with GRPOConfig's filters
(--top-p, --top-k, --min-p; --repetition-penalty applies to both), each line seeded by --seed plus
its index, so a line's answer does not depend on the others and a run is repeatable on the same
machine (a prompt repeated on several lines gets several samples). CUDA when available, else
CPU. A LoRA adapter folder (adapter_config.json) loads through peft when installed. Progress `generated i/N` goes to stderr.

Exit status: 0 done; 2 bad arguments or inputs (missing model folder or file, unreadable prompts);
1 anything else (traceback on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import traceback
from pathlib import Path
from typing import Any

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
ADAPTER_FILE = "adapter_config.json"
HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


class InputError(Exception):
    """A problem with the arguments or input files (exit status 2)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Generate one answer per prompt with a local model.")
    parser.add_argument("--model", required=True, help="model folder (a run's checkpoint, its final model, or a base model)")
    parser.add_argument("--tokenizer", help="tokenizer folder (default: the model folder)")
    parser.add_argument("--prompts", required=True, help="JSONL file with a 'prompt' per line")
    parser.add_argument("--out", required=True, help="JSONL file to write")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--temperature", type=float, default=0.0, help="0: greedy (default)")
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--top-k", type=int, default=0, help="0: no top-k filtering (default)")
    parser.add_argument("--min-p", type=float)
    parser.add_argument("--repetition-penalty", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chat", action="store_true", help="apply the chat template to string prompts too")
    args = parser.parse_args(argv)
    if args.max_new_tokens < 1:
        parser.error("--max-new-tokens must be at least 1")
    if args.temperature < 0:
        parser.error("--temperature must not be negative")
    if not 0 < args.top_p <= 1:
        parser.error("--top-p must be in (0, 1]")
    if args.top_k < 0:
        parser.error("--top-k must not be negative")
    if args.min_p is not None and not 0 <= args.min_p <= 1:
        parser.error("--min-p must be in [0, 1]")
    if args.repetition_penalty <= 0:
        parser.error("--repetition-penalty must be above 0")
    return args


def check_model_folder(model: str) -> bool:
    """Raises InputError naming what is missing; returns whether the folder is a LoRA adapter."""
    folder = Path(model)
    if not folder.is_dir():
        if HUB_ID.fullmatch(model) and not folder.parent.is_dir():
            return False  # `org/name`: a model id, loaded from the local Hugging Face cache
        raise InputError(f"model folder not found: {model}")
    if (folder / ADAPTER_FILE).is_file():
        return True
    if not (folder / "config.json").is_file():
        raise InputError(f"{folder / 'config.json'} is missing: {model} is not a saved model folder")
    if not any((folder / name).is_file() for name in WEIGHT_FILES):
        raise InputError(f"{folder / WEIGHT_FILES[0]} is missing (nor {', '.join(WEIGHT_FILES[1:])}): no weights in {model}")
    return False


def read_prompts(file: str) -> list[str | list[dict[str, Any]]]:
    try:
        lines = Path(file).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError(f"prompts file not found: {file}") from None
    prompts: list[str | list[dict[str, Any]]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{file}:{number}: not JSON: {error}") from None
        prompt = row.get("prompt") if isinstance(row, dict) else None
        is_messages = isinstance(prompt, list) and all(isinstance(m, dict) and "role" in m and "content" in m for m in prompt)
        if not (isinstance(prompt, str) or is_messages):
            raise InputError(f"{file}:{number}: no 'prompt' string or message list")
        prompts.append(prompt)
    if not prompts:
        raise InputError(f"{file}: no prompts")
    return prompts


def load(model_path: str, tokenizer_path: str, adapter: bool, device: str) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = "auto"
    if adapter:
        try:
            from peft import AutoPeftModelForCausalLM
        except ImportError:
            raise InputError(f"{model_path} is a LoRA adapter ({ADAPTER_FILE}); loading it needs peft (pip install peft)") from None
        model = AutoPeftModelForCausalLM.from_pretrained(model_path, dtype=dtype)
    else:
        model = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype)
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_path)
    return model.to(device).eval(), tokenizer


def generate(args: argparse.Namespace) -> int:
    adapter = check_model_folder(args.model)
    tokenizer_path = args.tokenizer or args.model
    if Path(tokenizer_path).is_dir() and not (Path(tokenizer_path) / "tokenizer_config.json").is_file():
        raise InputError(f"{Path(tokenizer_path) / 'tokenizer_config.json'} is missing: pass --tokenizer (e.g. the base model)")
    prompts = read_prompts(args.prompts)

    import torch
    from transformers import GenerationConfig, set_seed

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        model, tokenizer = load(args.model, tokenizer_path, adapter, device)
    except OSError as error:  # a model id missing from the cache (offline), or an unreadable folder
        raise InputError(f"cannot load {args.model}: {error}") from None
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    sample = args.temperature > 0
    config = GenerationConfig(
        max_new_tokens=args.max_new_tokens,
        do_sample=sample,
        temperature=args.temperature if sample else None,
        top_p=args.top_p if sample else None,
        top_k=args.top_k if sample else None,
        min_p=args.min_p if sample else None,
        repetition_penalty=args.repetition_penalty,
        pad_token_id=pad_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    rows: list[dict[str, Any]] = []
    for index, prompt in enumerate(prompts):
        set_seed(args.seed + index)  # each answer is the same whatever the others are
        messages = [{"role": "user", "content": prompt}] if args.chat and isinstance(prompt, str) else prompt
        if isinstance(messages, list):
            if not tokenizer.chat_template:
                raise InputError(f"{tokenizer_path} has no chat template for message prompts")
            text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        else:
            text = messages
        inputs = tokenizer(text, return_tensors="pt", add_special_tokens=False).to(device)
        with torch.no_grad():
            output = model.generate(**inputs, generation_config=config)
        answer = tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
        completion: Any = [{"role": "assistant", "content": answer}] if isinstance(messages, list) else answer
        rows.append({"prompt": messages, "completion": completion})
        print(f"generated {index + 1}/{len(prompts)}", file=sys.stderr, flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        return generate(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception:  # noqa: BLE001 - reported with its traceback
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    sys.exit(main())
