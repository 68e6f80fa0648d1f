"""Python onnxruntime side of the ONNX sampler benchmark (bench/onnx.bench.ts, run by `npm run bench`).

Greedy decoding with the KV cache, timed over repeated runs in one process on one open session:

  tiled      the same loop as GRPO Studio's OnnxCausalLm.generate: the prompt is run once with batch 1,
             its present.* cache repeated to G rows (np.repeat), then G rows decode one token per step.
             Each step builds input_ids [G, 1], attention_mask ones [G, P + t], position_ids [G, 1] and
             feeds the previous present.* back; the next token is the argmax of the last logits row.
  reference  test/python/onnx_reference.py's greedy_onnx_session as it is: the prompt repeated G times
             in the first batch.

EOS never stops a row here (the benchmark wants G * max_new_tokens tokens on both sides). Timing covers
the decoding loop only (session created and prompt tokenized before), as onnx_reference.py's CLI does.

  python bench/onnx_reference_loop.py --model DIR --prompt TEXT --num-generations G --max-new-tokens N
      --threads T --repeats R [--loop tiled|reference] [--serve]
    -> {"prompt_ids", "cold": {...}, "runs": [{"seconds", "time_to_first_token", "tokens"}...],
        "completion_ids" (of the last run)}
       `cold` is the first run on the fresh session (onnxruntime allocates its buffers then), `runs` the
       ones after it. The prompt is encoded with the `tokenizers` library from tokenizer.json
       (add_special_tokens=False), which is what AutoTokenizer wraps, without importing transformers.
  --serve: prints {"prompt_ids"} once the session is open, then runs one loop per line read from stdin
       ("tiled" or "reference") and answers each with one JSON line {"seconds", "time_to_first_token",
       "tokens", "completion_ids"}; any other line ends it. bench/onnx.bench.ts uses this to alternate
       Python and TypeScript runs one by one, so that both see the same machine load.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "test" / "python"))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from onnx_reference import PAST_PREFIX, PRESENT_PREFIX, greedy_onnx_session, model_special_ids, onnx_session  # noqa: E402


def tiled_greedy(session, prompt_ids, rows, max_new_tokens):
    """(completion ids per row, seconds, time_to_first_token) for the loop OnnxCausalLm.generate runs."""
    import numpy as np

    inputs = {i.name: i for i in session.get_inputs()}
    past_inputs = [name for name in inputs if name.startswith(PAST_PREFIX)]
    output_names = [o.name for o in session.get_outputs()]
    prompt_len = len(prompt_ids)
    start = time.perf_counter()
    feeds = {
        "input_ids": np.asarray([prompt_ids], dtype=np.int64),
        "attention_mask": np.ones((1, prompt_len), dtype=np.int64),
        "position_ids": np.arange(prompt_len, dtype=np.int64)[None, :],
    }
    for name in past_inputs:
        _, heads, _, head_dim = inputs[name].shape
        feeds[name] = np.zeros((1, heads, 0, head_dim), dtype=np.float32)
    outputs = dict(zip(output_names, session.run(output_names, feeds)))
    past = {name: np.repeat(outputs[PRESENT_PREFIX + name[len(PAST_PREFIX):]], rows, axis=0) for name in past_inputs}
    logits = outputs["logits"]
    generated = []
    first = None
    for step in range(max_new_tokens):
        last = logits[:, -1, :]
        next_tokens = last.argmax(-1).astype(np.int64)
        if next_tokens.shape[0] == 1:  # the first step's logits are the shared prompt's
            next_tokens = np.repeat(next_tokens, rows)
        if first is None:
            first = time.perf_counter() - start
        generated.append(next_tokens)
        if step + 1 == max_new_tokens:
            break
        total = prompt_len + step + 1
        feeds = {
            "input_ids": next_tokens[:, None],
            "attention_mask": np.ones((rows, total), dtype=np.int64),
            "position_ids": np.full((rows, 1), total - 1, dtype=np.int64),
            **past,
        }
        outputs = dict(zip(output_names, session.run(output_names, feeds)))
        past = {name: outputs[PRESENT_PREFIX + name[len(PAST_PREFIX):]] for name in past_inputs}
        logits = outputs["logits"]
    seconds = time.perf_counter() - start
    return np.stack(generated, axis=1).tolist(), seconds, first


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--num-generations", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--loop", choices=("tiled", "reference"), default="tiled")
    parser.add_argument("--serve", action="store_true", help="run on command: one JSON line per stdin line")
    args = parser.parse_args(argv)

    from tokenizers import Tokenizer

    prompt_ids = Tokenizer.from_file(str(args.model / "tokenizer.json")).encode(args.prompt, add_special_tokens=False).ids
    _, pad = model_special_ids(args.model)
    session = onnx_session(args.model, args.threads)
    rows, n = args.num_generations, args.max_new_tokens

    def once(loop):
        if loop == "tiled":
            ids, seconds, first = tiled_greedy(session, prompt_ids, rows, n)
        else:
            timing = {}
            ids = greedy_onnx_session(session, [prompt_ids] * rows, n, -1, pad, timing)
            seconds, first = timing["seconds"], timing["time_to_first_token"]
        return {"seconds": seconds, "time_to_first_token": first, "tokens": sum(len(row) for row in ids)}, ids

    def emit(value):
        sys.stdout.write(json.dumps(value) + "\n")
        sys.stdout.flush()

    if args.serve:
        # "tiled" / "reference": one run, answered {"seconds", "time_to_first_token", "tokens", "completion_ids"}.
        emit({"prompt_ids": prompt_ids})
        for line in sys.stdin:
            command = line.strip()
            if command not in ("tiled", "reference"):
                break
            run, ids = once(command)
            emit({**run, "completion_ids": ids})
        return

    runs = []
    for _ in range(args.repeats + 1):
        run, ids = once(args.loop)
        runs.append(run)
    emit({"prompt_ids": prompt_ids, "cold": runs[0], "runs": runs[1:], "completion_ids": ids})


if __name__ == "__main__":
    main()
