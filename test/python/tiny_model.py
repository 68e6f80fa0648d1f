"""A tiny random Qwen2 model with a locally trained byte-level BPE tokenizer, for offline tests.

No model hub is reachable here, so the test model is built from scratch and cached under
test/fixtures/generated/tiny-qwen2/ (git-ignored). AutoModelForCausalLM / AutoTokenizer load it
from that directory. Run this file directly to (re)build it and print its path; `--out DIR` builds it
elsewhere, e.g. `--out examples/emoji-length/models/tiny-qwen2` for the example's run.tiny.yaml.
"""

import shutil
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL_DIR = REPO_ROOT / "test" / "fixtures" / "generated" / "tiny-qwen2"
# Where examples/emoji-length/run.tiny.yaml looks for it (git-ignored too).
EXAMPLE_MODEL_DIR = REPO_ROOT / "examples" / "emoji-length" / "models" / "tiny-qwen2"

# Bump when the recipe below changes, so cached copies are rebuilt.
RECIPE_VERSION = "2"

# Qwen-style chat template: <|im_start|>role\ncontent<|im_end|>\n ...
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

CORPUS = """
The quick brown fox jumps over the lazy dog. What is two plus two? The answer is 4.
Write a short, friendly reply. Use emoji if you like! 😊 🎉 ✨ 🚀 👍 🤔 ❤️ 🔥 🌸 🍣
Reward functions score completions: one float per completion, or None when not applicable.
def reward(completions, **kwargs): return [float(len(c)) for c in completions]
User: Tell me about Tokyo. Assistant: Tokyo is the capital of Japan. 🗼
こんにちは!今日はいい天気ですね。😊
日本の首都は東京です。富士山は日本で一番高い山です。🗻
質問: 二足す二は? 答え: 四です。🎉
猫が好きです。犬も好きです。🐱🐶
ありがとうございます!またね ✨
人工知能は言語モデルを使って文章を生成します。🤖
強化学習では報酬関数が大切です。GRPOはグループごとに報酬を正規化します。
絵文字をたくさん使ってください 🎈🎊🎁🌟💡
""".strip()


def _corpus_lines():
    lines = CORPUS.splitlines()
    # A few KB of text: the lines above plus numbered variants.
    return lines + [f"{i}: {line}" for i in range(8) for line in lines]


def _build_tokenizer():
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    # Same normalizer and pre-tokenizer as transformers' Qwen2Tokenizer, which is what AutoTokenizer
    # loads for a qwen2 model: the tokenizer behaves the same when trained and when loaded.
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1024,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus_lines(), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def _build_model(tokenizer):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=96,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def ensure_tiny_model(model_dir: Path = MODEL_DIR) -> Path:
    """Return the directory of the tiny model, building it first if it is missing or stale."""
    stamp = model_dir / "RECIPE_VERSION"
    if stamp.is_file() and stamp.read_text().strip() == RECIPE_VERSION:
        return model_dir
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tiny-qwen2-", dir=model_dir.parent))
    try:
        tokenizer = _build_tokenizer()
        tokenizer.save_pretrained(tmp)
        _build_model(tokenizer).save_pretrained(tmp)
        (tmp / "RECIPE_VERSION").write_text(RECIPE_VERSION + "\n")
        tmp.chmod(0o755)
        shutil.rmtree(model_dir, ignore_errors=True)
        tmp.rename(model_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return model_dir


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Build the tiny offline test model.")
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help=f"target directory (default: {MODEL_DIR})")
    path = ensure_tiny_model(parser.parse_args().out.resolve())
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    print(path)
    print(f"{type(model).__name__}: {sum(p.numel() for p in model.parameters()):,} parameters")
    print(f"{type(tokenizer).__name__}: {len(tokenizer)} tokens")
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": "こんにちは 😊"}], tokenize=False, add_generation_prompt=True
    )
    print(repr(text), tokenizer(text)["input_ids"])


def copy_example(to: Path) -> Path:
    """The emoji-length example with its tiny model, without a developer's runs or bigger models."""

    def ignore(folder: str, names: list[str]) -> list[str]:
        skipped = [n for n in names if n in ("runs", "__pycache__")]
        if Path(folder).name == "models":
            skipped += [n for n in names if n != EXAMPLE_MODEL_DIR.name]
        return skipped

    shutil.copytree(EXAMPLE_MODEL_DIR.parents[1], to, ignore=ignore)
    return to
