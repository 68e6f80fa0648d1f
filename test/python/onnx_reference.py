"""Reference greedy decoding and reward scoring for the ONNX test models (see onnx_fixtures.py).

The TypeScript ONNX sampler (onnxruntime-node) is checked against these. As a library:

  greedy_onnx(model_dir, prompt_ids, max_new_tokens, eos_token_id=None)  onnxruntime, KV-cache loop
  greedy_torch(model_dir, prompt_ids, max_new_tokens, eos_token_id=None) transformers generate(do_sample=False)
  reward_logits_torch(rm_dir, texts) / reward_logits_onnx(rm_dir, texts)  one float per text

greedy_* take equal-length prompts (list of rows of token ids, no padding) and return, per row, the
generated token ids only (not the prompt), ending with the EOS token when the row produced one and
without the padding that follows it. eos_token_id=None reads the model's (generation_config.json, then
config.json); a negative eos_token_id never stops. A model directory whose ONNX graph has no
past_key_values inputs is decoded by rerunning the whole sequence at every step.

The loop (what a sampler is expected to do, and what transformers' generate does):
  step 0: input_ids = prompt [B, P], attention_mask = ones [B, P], position_ids = 0..P-1,
          past_key_values.{i}.key/value = float32 [B, num_kv_heads, 0, head_dim] (empty)
  step t: input_ids = [B, 1] the token picked at t-1 (pad_token_id for rows that already ended),
          attention_mask = ones [B, P + t], position_ids = [[P + t - 1]], past = the previous present.*
  a row ends at its first EOS; the loop ends when every row has ended or after max_new_tokens.

As a CLI (JSON on stdout):
  python test/python/onnx_reference.py generate --model DIR --prompt TEXT --num-generations G
      --max-new-tokens N [--chat] [--threads T] [--eos-token-id ID]
    -> {"prompt_ids", "sequences" (prompt + completion ids per row), "completion_ids", "completions"
        (decoded, skip_special_tokens), "seconds", "time_to_first_token", "tokens_per_second", ...}
       The timing covers the onnxruntime loop only (the session is created before); tokens_per_second
       is the generated tokens of all rows (EOS included, padding not) over seconds.
  python test/python/onnx_reference.py reward --model RM_DIR --text A [--text B ...]
    -> {"torch": [...], "onnx": [...], "input_ids": [...], "attention_mask": [...]}
       Texts are tokenized as TRL's GRPOTrainer._calculate_rewards does for reward models:
       padding=True, padding_side="right", add_special_tokens=False; the reward is logits[:, 0].
"""

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

PAST_PREFIX = "past_key_values."
PRESENT_PREFIX = "present."

_ORT_TYPES = {"tensor(float)": "float32", "tensor(float16)": "float16", "tensor(double)": "float64"}


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def _first_id(value):
    if isinstance(value, list):
        return value[0] if value else None
    return value


def model_special_ids(model_dir) -> tuple:
    """(eos_token_id, pad_token_id) from generation_config.json, then config.json; pad falls back to eos."""
    model_dir = Path(model_dir)
    gen, cfg = _read_json(model_dir / "generation_config.json"), _read_json(model_dir / "config.json")
    eos = _first_id(gen.get("eos_token_id", cfg.get("eos_token_id")))
    pad = gen.get("pad_token_id", cfg.get("pad_token_id"))
    return eos, eos if pad is None else pad


def onnx_session(model_dir, threads: int | None = None):
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(
        str(Path(model_dir) / "onnx" / "model.onnx"), sess_options=options, providers=["CPUExecutionProvider"]
    )


def _trim(rows, eos_token_id):
    out = []
    for row in rows:
        row = [int(t) for t in row]
        if eos_token_id is not None and eos_token_id >= 0 and eos_token_id in row:
            row = row[: row.index(eos_token_id) + 1]
        out.append(row)
    return out


def _check_prompts(prompt_ids):
    if not prompt_ids or len({len(row) for row in prompt_ids}) != 1 or not prompt_ids[0]:
        raise ValueError("prompt_ids must be a non-empty list of non-empty rows of equal length")


def greedy_onnx_session(session, prompt_ids, max_new_tokens, eos_token_id, pad_token_id, timing=None):
    """greedy_onnx on an open session. `timing`, a dict, receives seconds and time_to_first_token."""
    import numpy as np

    _check_prompts(prompt_ids)
    inputs = {i.name: i for i in session.get_inputs()}
    past_inputs = [name for name in inputs if name.startswith(PAST_PREFIX)]
    output_names = [o.name for o in session.get_outputs()]
    batch, prompt_len = len(prompt_ids), len(prompt_ids[0])
    eos = -1 if eos_token_id is None else int(eos_token_id)
    pad = eos if pad_token_id is None else int(pad_token_id)

    sequence = np.asarray(prompt_ids, dtype=np.int64)  # prompt + generated so far
    finished = np.zeros(batch, dtype=bool)
    generated = []
    feeds = {}
    if past_inputs:
        for name in past_inputs:
            _, heads, _, head_dim = inputs[name].shape
            feeds[name] = np.zeros((batch, heads, 0, head_dim), dtype=_ORT_TYPES[inputs[name].type])

    start = time.perf_counter()
    first = None
    for step in range(max_new_tokens):
        total = sequence.shape[1]
        if past_inputs and step > 0:
            feeds["input_ids"] = sequence[:, -1:]
            feeds["position_ids"] = np.full((batch, 1), total - 1, dtype=np.int64)
        else:
            # Step 0 (cache) or every step (no cache): the whole sequence.
            feeds["input_ids"] = sequence
            feeds["position_ids"] = np.tile(np.arange(total, dtype=np.int64), (batch, 1))
        feeds["attention_mask"] = np.ones((batch, total), dtype=np.int64)
        feeds = {name: value for name, value in feeds.items() if name in inputs}
        outputs = dict(zip(output_names, session.run(output_names, feeds)))
        next_tokens = outputs["logits"][:, -1, :].argmax(-1).astype(np.int64)
        next_tokens = np.where(finished, pad, next_tokens)
        if first is None:
            first = time.perf_counter() - start
        generated.append(next_tokens)
        sequence = np.concatenate([sequence, next_tokens[:, None]], axis=1)
        finished |= next_tokens == eos
        if past_inputs:
            for name in past_inputs:
                feeds[name] = outputs[PRESENT_PREFIX + name[len(PAST_PREFIX):]]
        if finished.all():
            break
    seconds = time.perf_counter() - start
    if timing is not None:
        timing.update(seconds=seconds, time_to_first_token=first, steps=len(generated), prompt_length=prompt_len)
    rows = np.stack(generated, axis=1).tolist() if generated else [[] for _ in range(batch)]
    return _trim(rows, eos)


def greedy_onnx(model_dir, prompt_ids, max_new_tokens, eos_token_id=None, pad_token_id=None, threads=None):
    """Greedy decoding with onnxruntime (KV cache when the graph has past inputs); completion ids per row."""
    default_eos, default_pad = model_special_ids(model_dir)
    eos = default_eos if eos_token_id is None else eos_token_id
    pad = default_pad if pad_token_id is None else pad_token_id
    return greedy_onnx_session(onnx_session(model_dir, threads), prompt_ids, max_new_tokens, eos, pad)


def load_torch_lm(model_dir):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(model_dir), attn_implementation="eager").eval()


def greedy_torch(model_dir, prompt_ids, max_new_tokens, eos_token_id=None, pad_token_id=None, model=None):
    """transformers generate(do_sample=False) on model.safetensors; same return shape as greedy_onnx."""
    import torch
    from transformers import GenerationConfig

    _check_prompts(prompt_ids)
    default_eos, default_pad = model_special_ids(model_dir)
    eos = default_eos if eos_token_id is None else eos_token_id
    pad = default_pad if pad_token_id is None else pad_token_id
    model = model or load_torch_lm(model_dir)
    config = GenerationConfig(
        do_sample=False,
        max_new_tokens=max_new_tokens,
        min_new_tokens=0,
        eos_token_id=eos if eos is not None and eos >= 0 else None,
        pad_token_id=pad,
        bos_token_id=None,
        use_cache=True,
    )
    input_ids = torch.tensor(prompt_ids, dtype=torch.long)
    with torch.no_grad():
        out = model.generate(
            input_ids=input_ids, attention_mask=torch.ones_like(input_ids), generation_config=config
        )
    return _trim(out[:, input_ids.shape[1]:].tolist(), eos)


def load_tokenizer(model_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    if tokenizer.pad_token_id is None:  # as GRPOTrainer does for reward models
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def reward_inputs(rm_dir, texts, return_tensors="np", tokenizer=None):
    """The reward model's inputs, tokenized as trl's GRPOTrainer._calculate_rewards does."""
    tokenizer = tokenizer or load_tokenizer(rm_dir)
    return tokenizer(
        text=list(texts), return_tensors=return_tensors, padding=True, padding_side="right", add_special_tokens=False
    )


def reward_logits_torch(rm_dir, texts) -> list:
    import torch
    from transformers import AutoModelForSequenceClassification

    tokenizer = load_tokenizer(rm_dir)
    model = AutoModelForSequenceClassification.from_pretrained(str(rm_dir), attn_implementation="eager").eval()
    model.config.get_text_config().pad_token_id = tokenizer.pad_token_id  # as GRPOTrainer does
    inputs = reward_inputs(rm_dir, texts, "pt", tokenizer)
    with torch.inference_mode():
        return model(**inputs).logits[:, 0].tolist()


def reward_logits_onnx(rm_dir, texts, threads=None) -> list:
    import numpy as np

    session = onnx_session(rm_dir, threads)
    inputs = reward_inputs(rm_dir, texts, "np")
    names = {i.name for i in session.get_inputs()}
    feeds = {k: np.asarray(v, dtype=np.int64) for k, v in inputs.items() if k in names}
    (logits,) = session.run(["logits"], feeds)
    return [float(x) for x in logits[:, 0]]


def encode_prompt(tokenizer, prompt: str, chat: bool) -> list:
    if chat:
        prompt = tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
        )
    return tokenizer(prompt, add_special_tokens=False)["input_ids"]


def _cmd_generate(args):
    tokenizer = load_tokenizer(args.model)
    prompt_ids = encode_prompt(tokenizer, args.prompt, args.chat)
    default_eos, pad = model_special_ids(args.model)
    eos = default_eos if args.eos_token_id is None else args.eos_token_id
    session = onnx_session(args.model, args.threads)
    timing = {}
    completion_ids = greedy_onnx_session(
        session, [prompt_ids] * args.num_generations, args.max_new_tokens, eos, pad, timing
    )
    tokens = sum(len(row) for row in completion_ids)
    return {
        "model": str(Path(args.model).resolve()),
        "prompt_ids": prompt_ids,
        "sequences": [prompt_ids + row for row in completion_ids],
        "completion_ids": completion_ids,
        "completions": tokenizer.batch_decode(completion_ids, skip_special_tokens=True),
        "eos_token_id": eos,
        "pad_token_id": pad,
        "kv_cache": any(i.name.startswith(PAST_PREFIX) for i in session.get_inputs()),
        "steps": timing["steps"],
        "generated_tokens": tokens,
        "seconds": timing["seconds"],
        "time_to_first_token": timing["time_to_first_token"],
        "tokens_per_second": tokens / timing["seconds"] if timing["seconds"] > 0 else None,
        "threads": args.threads,
    }


def _cmd_reward(args):
    inputs = reward_inputs(args.model, args.text, "np")
    return {
        "torch": reward_logits_torch(args.model, args.text),
        "onnx": reward_logits_onnx(args.model, args.text, args.threads),
        "input_ids": inputs["input_ids"].tolist(),
        "attention_mask": inputs["attention_mask"].tolist(),
    }


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description="Reference ONNX / PyTorch decoding for the tiny ONNX test models.")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="greedy decoding with onnxruntime (KV-cache loop)")
    gen.add_argument("--model", required=True, type=Path)
    gen.add_argument("--prompt", required=True)
    gen.add_argument("--num-generations", type=int, default=1)
    gen.add_argument("--max-new-tokens", type=int, default=16)
    gen.add_argument("--chat", action="store_true", help="apply the chat template (add_generation_prompt=True)")
    gen.add_argument("--threads", type=int, default=None, help="intra_op_num_threads (default: onnxruntime's)")
    gen.add_argument("--eos-token-id", type=int, default=None, help="default: the model's; negative: never stop")
    rew = sub.add_parser("reward", help="reward-model logits, PyTorch and onnxruntime")
    rew.add_argument("--model", required=True, type=Path)
    rew.add_argument("--text", action="append", required=True)
    rew.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    result = _cmd_generate(args) if args.command == "generate" else _cmd_reward(args)
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
