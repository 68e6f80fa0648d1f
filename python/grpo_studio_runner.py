"""GRPO Studio training runner: TRL's `trl grpo` script, or the user's own training script, plus a
run directory with events.jsonl.

    python python/grpo_studio_runner.py --config FILE [--max-steps N] [--run-dir DIR] [--resume]
                                        [--<any GRPOConfig / ModelConfig / script field> VALUE ...]
    python python/grpo_studio_runner.py --script FILE.py [--run-dir DIR] [--resume] [-- SCRIPT ARGS...]

With --script, the script runs as `python FILE.py ARGS` would run it, unedited: every GRPOTrainer
it creates gets GRPO Studio's callback (ScriptTrainers), and the same run folder, events, Stop and
Resume apply. With --config:

It reads the same YAML as `trl grpo --config FILE` with TRL's own TrlParser and dataclasses
(GRPOScriptArguments, GRPOConfig, ModelConfig, DatasetMixtureConfig) and trains with TRL's
GRPOTrainer, as trl/scripts/grpo.py does. On top of that:

- fields of our own (StudioScriptArguments: column_mapping, chat_format, system_prompt; run_dir and
  resume for the command line); plain `trl grpo` rejects them: it hands YAML keys it does not know
  to `accelerate launch`, which fails on them. Unknown keys are errors here too, except the ones
  `accelerate launch` accepts (num_processes, ...), which only apply under a launcher;
- reward functions may also be `path/to/file.py::name`; relative paths (model, datasets, reward
  files, dotted-path modules) are looked up in the cwd first, as TRL does, then next to the config
  file; `dataset_name` may be a local .jsonl/.json/.csv/.tsv/.parquet file;
- each run has a run directory, the trainer's output_dir (checkpoints, final model), default
  runs/<UTC yyyymmdd-hhmmss>-<config name>/ under the cwd; stdout's first line is `run_dir: <abs path>`;
- a file named STOP in the run dir, SIGINT or SIGTERM make the trainer save a checkpoint at the end
  of the current step and stop (status "stopped"; the STOP file is consumed); a second signal aborts
  (status "failed"); --resume continues from the latest checkpoint in the run dir.

The events written to <run dir>/events.jsonl are described in grpo_studio_callback.py.

Exit status: 0 finished or stopped; 1 failed (traceback on stderr and in the end event); 2 for
command-line or config errors found before anything ran.
"""

from __future__ import annotations

import signal

# Importing TRL takes seconds: keep a stop request (SIGINT/SIGTERM) that arrives meanwhile for the
# StopRequest below instead of dying from it.
_early_signals: list[str] = []
if __name__ == "__main__":
    for _sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(_sig, lambda signum, frame: _early_signals.append(signal.Signals(signum).name))

import errno  # noqa: E402
import importlib  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from transformers import TrainerCallback  # noqa: E402
from trl import DatasetMixtureConfig, GRPOConfig, ModelConfig, TrlParser  # noqa: E402
from trl.scripts.grpo import GRPOScriptArguments  # noqa: E402

from grpo_studio_callback import (  # noqa: E402
    EVENTS_FILE,
    STOP_FILE,
    EventLog,
    EventLogCallback,
    GRPOStudioCallback,
    ModelCardCallback,
    StopControlCallback,
    StopRequest,
    devices,
    is_main_rank,
    versions,
)

LOCK_FILE = "runner.lock"
RESERVE_FILE = "disk-reserve"  # space set aside so that a full disk's cause can still be written
RESERVE_BYTES = 1 << 20
EXIT_RUN_BUSY = 75  # EX_TEMPFAIL: another runner owns the run folder; grpo-studio train says so
DATASET_BUILDERS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".tsv": "csv", ".parquet": "parquet"}


@dataclass
class StudioScriptArguments(GRPOScriptArguments):
    """TRL's GRPO script arguments plus GRPO Studio's dataset options and run control."""

    column_mapping: dict[str, str] | str | None = field(
        default=None,
        metadata={"help": 'Rename dataset columns before training, e.g. {"question": "prompt"} (JSON on the CLI).'},
    )
    chat_format: bool = field(
        default=False,
        metadata={"help": "Make string prompts [{'role': 'user', 'content': prompt}]: the chat template applies."},
    )
    system_prompt: str | None = field(
        default=None,
        metadata={"help": "System message put before every prompt (implies chat_format)."},
    )
    run_dir: str | None = field(
        default=None, metadata={"help": "Run directory (default: runs/<timestamp>-<config name>/ under the cwd)."}
    )
    resume: bool = field(
        default=False, metadata={"help": "Continue from the latest checkpoint in the run directory."}
    )

    def __post_init__(self) -> None:
        if isinstance(self.column_mapping, str):
            self.column_mapping = json.loads(self.column_mapping)


# ---------------------------------------------------------------------------------------------
# Config: parsing, paths, datasets, rewards


def _accelerate_launch_flags() -> dict[str, bool]:
    """YAML keys that `trl grpo` hands to `accelerate launch` (num_processes, mixed_precision, ...),
    each with whether it is a flag without a value (`multi_gpu: true` is `--multi_gpu`)."""
    from accelerate.commands.launch import launch_command_parser

    flags = {}
    for action in launch_command_parser()._actions:
        for option in action.option_strings:
            if option.startswith("--") and option != "--help":
                flags[option[2:]] = action.nargs == 0
    return flags


def _accelerate_launch_keys() -> set[str]:
    return set(_accelerate_launch_flags()) | {"accelerate_config"}


ParsedArgs = tuple[StudioScriptArguments, GRPOConfig, ModelConfig, DatasetMixtureConfig, dict[str, str]]


def parse_args(argv: list[str]) -> ParsedArgs:
    parser = TrlParser(
        (StudioScriptArguments, GRPOConfig, ModelConfig, DatasetMixtureConfig),
        prog="grpo_studio_runner.py",
    )
    if "--config" not in argv:
        parser.error("--config FILE is required")
    *parsed, config_rest, cli_rest = parser.parse_args_and_config(
        argv, return_remaining_strings=True, separate_remaining_strings=True
    )
    if cli_rest:
        parser.error(f"unrecognized arguments: {' '.join(cli_rest)}")
    # Unknown YAML keys: `trl grpo` passes them to `accelerate launch`, which rejects what it does
    # not know. Do the same rather than ignore a typo (or a field TRL has removed).
    launch_keys = _accelerate_launch_keys()
    unknown = [k[2:] for k in config_rest[::2] if k[2:] not in launch_keys]
    if unknown:
        parser.error(f"unknown keys in the config file: {', '.join(unknown)}")
    launcher = {k[2:]: v for k, v in zip(config_rest[::2], config_rest[1::2])}
    script_args, training_args, model_args, dataset_args = parsed
    return script_args, training_args, model_args, dataset_args, launcher


def launch_keys_in_config(argv: list[str]) -> dict[str, str]:
    """The config file's `accelerate launch` keys, read before the dataclasses are: GRPOConfig's
    checks may need the launched world size (a per-device batch that divides num_generations only
    across all processes). A file that cannot be read gives none; parse_args reports it."""
    import yaml

    try:
        with open(argv[argv.index("--config") + 1], encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except (IndexError, ValueError, OSError, yaml.YAMLError):
        return {}
    if not isinstance(data, dict):
        return {}
    keys = _accelerate_launch_keys()
    return {key: str(value) for key, value in data.items() if key in keys}


def _gpu_count() -> int:
    try:
        import torch

        return torch.cuda.device_count()
    except ImportError:
        return 0


def relaunch_under_accelerate(argv: list[str], launcher: dict[str, str]) -> None:
    """A config or script asking for several GPU processes (num_processes > 1 with several GPUs, or
    an accelerate config_file, e.g. DeepSpeed/FSDP) is re-run under `accelerate launch` with its
    launcher keys, as `trl grpo` does. exec keeps the pid, so whoever started the runner (the editor
    records it) still follows the same process. Without GPUs num_processes is noted and ignored."""
    if "WORLD_SIZE" in os.environ or os.environ.get("GRPO_STUDIO_RELAUNCHED"):  # already under a launcher
        return
    wants_processes = int(launcher.get("num_processes", "1") or 1) > 1 and _gpu_count() > 1
    if not wants_processes and "config_file" not in launcher:
        return
    flags = _accelerate_launch_flags()
    options = []
    for key, value in launcher.items():
        if not flags.get(key):
            options += [f"--{key}", value]
        elif value.strip().lower() in ("true", "1", "yes"):
            options.append(f"--{key}")
    os.environ["GRPO_STUDIO_RELAUNCHED"] = "1"
    os.execv(sys.executable, [sys.executable, "-m", "accelerate.commands.launch", *options, os.path.abspath(__file__), *argv])


def distributed_state() -> Any:
    """accelerate's process state as the trainer will see it; on a machine without GPUs it must be
    told so, or ranks started by torchrun each think they are alone (and a broadcast goes nowhere)."""
    from accelerate import PartialState

    return PartialState(cpu=_gpu_count() == 0)


def _resolve(path: str | None, config_dir: Path) -> str | None:
    """A relative path that does not exist from the cwd, but does next to the config file, is taken from there."""
    if not path or os.path.isabs(path) or os.path.exists(path):
        return path
    candidate = config_dir / path
    return str(candidate) if candidate.exists() else path


def _check_local_path(key: str, value: str | None, config_dir: Path) -> None:
    """A model path that is meant to be local but is not there fails now, not after the hub has been
    tried for half a minute: meant to be local when it is absolute, starts with `.`, or its first
    folder exists here (`models/nope` with a `models/` folder); `org/name` stays a hub id."""
    if not value or os.path.exists(value):
        return
    first = Path(value).parts[0]
    local = os.path.isabs(value) or value.startswith((".", "~")) or any((base / first).is_dir() for base in (Path.cwd(), config_dir))
    if local:
        where = " and ".join(dict.fromkeys(str(p) for p in (Path.cwd(), config_dir.resolve())))
        raise FileNotFoundError(f"{key}: {value} does not exist (looked in {where}); fix the path in the config")


def resolve_paths(
    script_args: StudioScriptArguments, model_args: ModelConfig, dataset_args: DatasetMixtureConfig, config_dir: Path
) -> None:
    model_args.model_name_or_path = _resolve(model_args.model_name_or_path, config_dir)
    script_args.reward_model_name_or_path = _resolve(script_args.reward_model_name_or_path, config_dir)
    for key, value in (("model_name_or_path", model_args.model_name_or_path), ("reward_model_name_or_path", script_args.reward_model_name_or_path)):
        _check_local_path(key, value, config_dir)
    script_args.dataset_name = _resolve(script_args.dataset_name, config_dir)
    for ds in dataset_args.datasets:
        ds.path = _resolve(ds.path, config_dir)
        ds.data_dir = _resolve(ds.data_dir, config_dir)
        if isinstance(ds.data_files, str):
            ds.data_files = _resolve(ds.data_files, config_dir)
        elif isinstance(ds.data_files, list):
            ds.data_files = [_resolve(f, config_dir) for f in ds.data_files]
        elif isinstance(ds.data_files, dict):
            ds.data_files = {k: _resolve(f, config_dir) if isinstance(f, str) else f for k, f in ds.data_files.items()}


def load_datasets(
    script_args: StudioScriptArguments, training_args: GRPOConfig, dataset_args: DatasetMixtureConfig
) -> tuple[Any, Any]:
    """As trl/scripts/grpo.py, plus local files as dataset_name, column renames and chat prompts."""
    from datasets import load_dataset
    from trl import get_dataset

    if dataset_args.datasets:
        dataset = get_dataset(dataset_args)
    elif script_args.dataset_name:
        name = script_args.dataset_name
        builder = DATASET_BUILDERS.get(Path(name).suffix.lower())
        if builder and os.path.isfile(name):
            kwargs = {"delimiter": "\t"} if name.lower().endswith(".tsv") else {}
            dataset = load_dataset(builder, data_files=name, streaming=script_args.dataset_streaming, **kwargs)
        else:
            dataset = load_dataset(name, name=script_args.dataset_config, streaming=script_args.dataset_streaming)
    else:
        raise ValueError("Either `datasets` or `dataset_name` must be provided.")

    train = dataset[script_args.dataset_train_split]
    evaluation = dataset[script_args.dataset_test_split] if training_args.eval_strategy != "no" else None
    return prepare_prompts(train, script_args), prepare_prompts(evaluation, script_args)


def _local_json_files(script_args: StudioScriptArguments, dataset_args: DatasetMixtureConfig) -> list[str]:
    names: list[Any] = [script_args.dataset_name]
    for ds in dataset_args.datasets:
        files = ds.data_files
        names += [files] if isinstance(files, str) else list(files.values()) if isinstance(files, dict) else list(files or [])
    flat = [n for item in names for n in (item if isinstance(item, list) else [item])]
    return [n for n in flat if isinstance(n, str) and n.lower().endswith((".jsonl", ".json")) and os.path.isfile(n)]


def _with_bad_line(error: Exception, script_args: StudioScriptArguments, dataset_args: DatasetMixtureConfig) -> Exception:
    """datasets says only `DatasetGenerationError` for a malformed JSON Lines row past its first
    chunk; the line is in its log. Name the file and line, as the pre-flight does for early ones."""
    if type(error).__name__ != "DatasetGenerationError":
        return error
    for name in _local_json_files(script_args, dataset_args):
        if not name.lower().endswith(".jsonl"):
            continue
        with open(name, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except ValueError as bad:
                    return ValueError(f"{name}:{number} is not valid JSON ({bad}): fix that line")
                if not isinstance(value, dict):
                    return ValueError(f"{name}:{number} is not a JSON object: fix that line")
    return error


def prepare_prompts(dataset: Any, script_args: StudioScriptArguments) -> Any:
    """Renames columns (column_mapping), then makes prompts chat messages if asked to."""
    if dataset is None:
        return None
    if script_args.column_mapping:
        dataset = dataset.rename_columns(dict(script_args.column_mapping))
    system_prompt = script_args.system_prompt
    if not (script_args.chat_format or system_prompt):
        return dataset

    def to_chat(example: dict[str, Any]) -> dict[str, Any]:
        prompt = example["prompt"]
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
        if system_prompt and not (messages and messages[0].get("role") == "system"):
            messages = [{"role": "system", "content": system_prompt}, *messages]
        return {"prompt": messages}

    return dataset.map(to_chat)


def _load_file_function(spec: str, config_dir: Path) -> Any:
    """`path/to/file.py::name`: the file is imported under a private module name."""
    file_part, _, name = spec.rpartition("::")
    path = Path(_resolve(file_part, config_dir) or file_part).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"reward file not found: {file_part} (looked in {os.getcwd()} and {config_dir})")
    module_name = "grpo_studio_rewards_" + re.sub(r"\W", "_", str(path.with_suffix("")))
    module = sys.modules.get(module_name)
    if module is None:
        sys.path.insert(0, str(path.parent))  # so the file can import its neighbours
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        assert module_spec is not None and module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        module_spec.loader.exec_module(module)
    return getattr(module, name)


def load_reward_funcs(script_args: StudioScriptArguments, config_dir: Path) -> list[Any]:
    """trl/scripts/grpo.py's rules (model first, built-in names, dotted paths) plus file.py::name."""
    from trl.rewards import (
        accuracy_reward,
        get_soft_overlong_punishment,
        reasoning_accuracy_reward,
        think_format_reward,
    )

    registry = {  # the same registry as trl/scripts/grpo.py
        "accuracy_reward": accuracy_reward,
        "reasoning_accuracy_reward": reasoning_accuracy_reward,
        "think_format_reward": think_format_reward,
        "get_soft_overlong_punishment": get_soft_overlong_punishment(max_completion_len=1280, soft_punish_cache=256),
    }
    reward_funcs: list[Any] = []
    if script_args.reward_model_name_or_path:
        reward_funcs.append(script_args.reward_model_name_or_path)
    for spec in script_args.reward_funcs or []:
        if spec in registry:
            reward_funcs.append(registry[spec])
        elif "::" in spec:
            reward_funcs.append(_load_file_function(spec, config_dir))
        elif os.path.isdir(_resolve(spec, config_dir) or spec):  # a local reward model
            reward_funcs.append(_resolve(spec, config_dir))
        elif "." in spec:
            module_path, func_name = spec.rsplit(".", 1)
            for directory in (str(config_dir), os.getcwd()):  # cwd ends up first, as in TRL
                if directory not in sys.path:
                    sys.path.insert(0, directory)
            reward_funcs.append(getattr(importlib.import_module(module_path), func_name))
        else:
            raise ValueError(
                f"Could not load reward function '{spec}'. Expected one of {list(registry)}, a dotted import "
                "path, path/to/file.py::name or a reward model directory."
            )
    return reward_funcs


def make_trainer(
    script_args: StudioScriptArguments,
    training_args: GRPOConfig,
    model_args: ModelConfig,
    dataset_args: DatasetMixtureConfig,
    config_dir: Path,
    callbacks: list[TrainerCallback],
) -> Any:
    """The GRPOTrainer of a run config, as trl/scripts/grpo.py builds it (paths already resolved)."""
    from trl import GRPOTrainer, get_peft_config, get_quantization_config

    reward_funcs = load_reward_funcs(script_args, config_dir)
    model_init_kwargs = dict(  # as trl/scripts/grpo.py
        revision=model_args.model_revision,
        trust_remote_code=training_args.trust_remote_code,
        attn_implementation=model_args.attn_implementation,
        dtype=model_args.dtype,
    )
    if training_args.model_init_kwargs is not None:
        model_init_kwargs.update(training_args.model_init_kwargs)
    training_args.model_init_kwargs = model_init_kwargs
    try:
        train_dataset, eval_dataset = load_datasets(script_args, training_args, dataset_args)
    except Exception as error:
        raise _with_bad_line(error, script_args, dataset_args) from error
    return GRPOTrainer(
        model=model_args.model_name_or_path,
        reward_funcs=reward_funcs,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        quantization_config=get_quantization_config(model_args),
        peft_config=get_peft_config(model_args),
        callbacks=callbacks,
    )


# ---------------------------------------------------------------------------------------------
# Run directory


# ---------------------------------------------------------------------------------------------
# The run folder: its owner and its checkpoints


class RunBusy(ValueError):
    """Another live runner owns the run folder."""

    @classmethod
    def of(cls, run_dir: Path, pid: str) -> RunBusy:
        return cls(f"{run_dir} is still training (pid {pid}): stop it first (GRPO: Stop Run, or create {run_dir / STOP_FILE})")


class RunLock:
    """The run folder's owner: an OS lock on runner.lock, held for this process's life, so a crash
    or kill -9 never leaves it held. The file says whose it is (the pid)."""

    def __init__(self, run_dir: Path):
        self.run_dir = run_dir
        self._fd: int | None = None

    def _try_lock(self, fd: int) -> bool:
        try:
            if os.name == "nt":
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def holder(self) -> str | None:
        """The pid of a live owner, or None when nobody holds the lock (probed, not kept)."""
        path = self.run_dir / LOCK_FILE
        if not path.exists():
            return None
        fd = os.open(path, os.O_RDWR)
        try:
            if self._try_lock(fd):
                return None
            return Path(path).read_text(encoding="utf-8").strip() or "?"
        finally:
            os.close(fd)  # closing releases a probe's lock

    def acquire(self) -> None:
        fd = os.open(self.run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        if not self._try_lock(fd):
            pid = Path(self.run_dir / LOCK_FILE).read_text(encoding="utf-8").strip() or "?"
            os.close(fd)
            raise RunBusy.of(self.run_dir, pid)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd  # kept open: the lock lasts as long as this process


def _checkpoint_problem(path: Path) -> str | None:
    """Why Trainer cannot resume from this checkpoint (a save cut short by a crash or a full disk)."""
    try:
        json.loads((path / "trainer_state.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "no trainer_state.json"
    except (OSError, ValueError) as error:
        return f"trainer_state.json is unreadable ({error})"
    weights = ("model.safetensors", "adapter_model.safetensors", "pytorch_model.bin", "model.safetensors.index.json", "pytorch_model.bin.index.json")
    if not any((path / name).exists() for name in weights):
        return "no model weights"
    return None


def last_complete_checkpoint(run_dir: Path) -> tuple[Path | None, list[str]]:
    """The newest checkpoint-N that Trainer can load, and why each newer one was skipped."""
    numbered = []
    for child in run_dir.glob("checkpoint-*") if run_dir.is_dir() else []:
        match = re.fullmatch(r"checkpoint-(\d+)", child.name)
        if match and child.is_dir():
            numbered.append((int(match.group(1)), child))
    skipped = []
    for _, path in sorted(numbered, reverse=True):
        problem = _checkpoint_problem(path)
        if problem is None:
            return path, skipped
        skipped.append(f"{path.name}: {problem}")
    return None, skipped


class DiskReserve:
    """A megabyte set aside in the run folder while the run trains and given back when the disk
    fills, so that the log and the end event can still say why the run stopped."""

    def __init__(self, run_dir: Path):
        self.path = run_dir / RESERVE_FILE

    def take(self) -> None:
        try:
            with open(self.path, "wb") as f:
                f.write(bytes(RESERVE_BYTES))
                f.flush()
                os.fsync(f.fileno())
        except OSError:
            self.release()
            raise

    def release(self) -> None:
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            pass


_DISK_FULL_TEXT = re.compile(r"No space left on device|StorageFull|Disk quota exceeded|os error 28\b", re.IGNORECASE)


def is_disk_full(error: BaseException | None) -> bool:
    """Whether a full disk caused this failure, anywhere along its chain of causes (torch and
    safetensors wrap the OSError in errors of their own)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if _DISK_FULL_TEXT.search(str(error)):
            return True
        error = error.__cause__ or error.__context__
    return False


def disk_full_message(run_dir: Path) -> str:
    free_mb = shutil.disk_usage(run_dir).free / 1e6
    checkpoint, skipped = last_complete_checkpoint(run_dir)
    if checkpoint is None:
        resume = "no checkpoint was complete yet, so a new run starts from step 0"
    else:
        resume = f"it continues from {checkpoint.name}, the newest complete checkpoint"
        if skipped:
            resume += f" ({'; '.join(skipped)})"
    return (
        f"the disk is full ({free_mb:.0f} MB free at {run_dir}): free some space, then resume the run "
        f"(GRPO: Resume Run, or grpo-studio train --resume --run-dir {run_dir}); {resume}"
    )


def _pick_run_dir(script_args: StudioScriptArguments, config_path: Path) -> Path:
    if script_args.run_dir:
        run_dir = Path(script_args.run_dir).resolve()
    else:
        name = re.sub(r"[^\w.-]+", "-", config_path.stem)
        runs = Path.cwd() / "runs"
        if script_args.resume:  # the newest run of this config that has a checkpoint
            candidates = sorted(p for p in runs.glob(f"*-{name}") if last_complete_checkpoint(p)[0])
            if not candidates:
                raise ValueError(f"--resume: no run of {config_path.name} with a checkpoint under {runs}")
            run_dir = candidates[-1]
        else:
            run_dir = runs / f"{datetime.now(timezone.utc).strftime('%Y%m%d-%H%M%S')}-{name}"
    holder = RunLock(run_dir).holder()
    if holder is not None:
        raise RunBusy.of(run_dir, holder)
    if script_args.resume:
        checkpoint, skipped = last_complete_checkpoint(run_dir)
        if checkpoint is None:
            detail = f" ({'; '.join(skipped)})" if skipped else ""
            raise ValueError(f"--resume: no complete checkpoint in {run_dir}{detail}")
    if not script_args.resume and (run_dir / EVENTS_FILE).exists():
        raise ValueError(f"{run_dir} already holds a run: use --resume or another --run-dir")
    return run_dir


def choose_run_dir(script_args: StudioScriptArguments, config_path: Path) -> Path:
    """Rank 0 picks and checks the run dir; under a launcher every rank gets its answer."""
    run_dir: Path | None = None
    error: str | None = None
    busy = False
    if is_main_rank():
        try:
            run_dir = _pick_run_dir(script_args, config_path)
        except ValueError as e:
            error, busy = str(e), isinstance(e, RunBusy)
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        from accelerate.utils import broadcast_object_list

        distributed_state()  # initializes the process group, as the trainer would
        run_dir, error, busy = broadcast_object_list([run_dir, error, busy], from_process=0)
    if error is not None or run_dir is None:
        raise (RunBusy if busy else ValueError)(error)
    return Path(run_dir)


# ---------------------------------------------------------------------------------------------


@dataclass
class Session:
    """A run folder this process owns: locked, with room set aside, and the checkpoint to resume."""

    run_dir: Path
    reserve: DiskReserve
    checkpoint: str | None
    skipped: list[str]
    stop: StopRequest


def open_session(run_args: Any, source: Path) -> Session | int:
    """Picks, locks and reports the run folder (`run_dir: <path>` on stdout); an exit status when it cannot."""
    main_rank = is_main_rank()
    try:
        run_dir = choose_run_dir(run_args, source)
        if main_rank:
            run_dir.mkdir(parents=True, exist_ok=True)
            RunLock(run_dir).acquire()
    except ValueError as error:
        if main_rank:
            print(error, file=sys.stderr)
        return EXIT_RUN_BUSY if isinstance(error, RunBusy) else 2
    reserve = DiskReserve(run_dir)
    if main_rank:
        try:
            reserve.take()
        except OSError as error:
            print(disk_full_message(run_dir) if is_disk_full(error) else f"cannot write in {run_dir}: {error}", file=sys.stderr)
            return 1
    checkpoint: str | None = None
    skipped: list[str] = []
    if run_args.resume:
        found, skipped = last_complete_checkpoint(run_dir)
        checkpoint = str(found)
        if main_rank:
            for reason in skipped:
                print(f"resuming from {found.name}, the newest complete checkpoint; skipped {reason}", file=sys.stderr)
    if main_rank:
        print(f"run_dir: {run_dir}", flush=True)
    stop = StopRequest(run_dir / STOP_FILE, _early_signals[0] if _early_signals else None)  # a STOP file is consumed when honoured
    stop.install()
    if main_rank and os.environ.get("GRPO_STUDIO_STOP_WITH_PARENT") == "1":
        stop.watch_parent()
    return Session(run_dir, reserve, checkpoint, skipped, stop)


def resumed_from(checkpoint: str | None, skipped: list[str]) -> dict[str, Any] | None:
    if checkpoint is None:
        return None
    state = json.loads(Path(checkpoint, "trainer_state.json").read_text())
    return {"checkpoint": str(Path(checkpoint).resolve()), "step": state.get("global_step"), "skipped": skipped}


def failure_cause(error: BaseException, session: Session) -> str:
    """The traceback, with what to do when the disk is full (its reserve is given back for it)."""
    cause = traceback.format_exc()
    if is_disk_full(error) and is_main_rank():
        cause += disk_full_message(session.run_dir) + "\n"
        session.reserve.release()  # room for the lines that say so
    return cause


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--script"]:
        return run_script(argv)
    relaunch_under_accelerate(argv, launch_keys_in_config(argv))
    script_args, training_args, model_args, dataset_args, launcher = parse_args(argv)
    launcher_only = list(launcher)
    config_path = Path(argv[argv.index("--config") + 1]).resolve()
    config_dir = config_path.parent

    main_rank = is_main_rank()
    session = open_session(script_args, config_path)
    if isinstance(session, int):
        return session
    run_dir, reserve, checkpoint, skipped, stop = session.run_dir, session.reserve, session.checkpoint, session.skipped, session.stop

    events = EventLog(run_dir / EVENTS_FILE if main_rank else None)
    stop_control = StopControlCallback(events, stop)
    event_log = EventLogCallback(events)
    trainer = None
    try:
        training_args.output_dir = str(run_dir)  # checkpoints and the final model go to the run dir
        resolve_paths(script_args, model_args, dataset_args, config_dir)
        if checkpoint is None and training_args.resume_from_checkpoint:  # TRL's own field, from the YAML
            checkpoint = _resolve(training_args.resume_from_checkpoint, config_dir)
        events.emit(
            "start",
            config_file=str(config_path),
            argv=argv,
            resumed_from=resumed_from(checkpoint, skipped),
            max_steps=training_args.max_steps if training_args.max_steps > 0 else None,  # else see train_begin
            config={
                "script": asdict(script_args),
                "training": training_args.to_dict(),
                "model": asdict(model_args),
                "datasets": asdict(dataset_args),
                "launcher_only": launcher_only,
            },
            versions=versions(),
            devices=devices(training_args),
            pid=os.getpid(),
        )
        if launcher_only and main_rank and "WORLD_SIZE" not in os.environ:
            note = f"note: {', '.join(launcher_only)} only apply under `trl grpo` / `accelerate launch`"
            print(note, file=sys.stderr)

        model_card = ModelCardCallback()
        trainer = make_trainer(script_args, training_args, model_args, dataset_args, config_dir, [event_log, stop_control, model_card])
        event_log.trainer = stop_control.trainer = model_card.trainer = trainer
        trainer.train(resume_from_checkpoint=checkpoint)

        import transformers
        from packaging.version import Version

        step = trainer.state.global_step
        stopped = stop_control.stop_reason is not None and step < trainer.state.max_steps
        if not stopped:  # as trl/scripts/grpo.py: the final model next to the checkpoints
            trainer.save_model(training_args.output_dir)
        if Version(transformers.__version__) >= Version("5.18.0"):
            trainer.end()  # finishes the trackers, destroys the process group
        if stopped:
            events.emit("end", status="stopped", step=step)
        else:
            events.emit("end", status="finished", step=step, model_path=str(run_dir))
        return 0
    except BaseException as error:  # noqa: BLE001 - every failure, interrupts included, ends the run
        if isinstance(error, SystemExit) and error.code in (0, None):
            raise
        step = trainer.state.global_step if trainer is not None else None
        cause = failure_cause(error, session)
        try:
            events.emit("end", status="failed", step=step, error=cause)
            print(cause, file=sys.stderr, end="", flush=True)
        except OSError:
            pass  # the disk is still full: the run reads as failed without an end event
        return 1
    finally:
        reserve.release()
        if main_rank:  # a Stop that came too late for this session must not stop the next one
            stop.stop_file.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# A user's own training script as a run


class ScriptTrainers:
    """Puts GRPO Studio's callback on every GRPOTrainer the script creates, without editing it: the
    first trainer's run is the session's folder, a later one's `<run dir>-2`, `-3`, ... Each
    trainer's checkpoints and final model go to its run folder (its output_dir, as for run
    configs); a resumed session gives its checkpoint to the first trainer's own `train()`."""

    def __init__(self, session: Session, script: Path, argv: list[str]):
        self.session = session
        self.script = script
        self.argv = argv
        self.callbacks: list[GRPOStudioCallback] = []

    def install(self) -> None:
        import functools

        import trl

        trainers = self
        cls = trl.GRPOTrainer
        original_init, original_train = cls.__init__, cls.train

        @functools.wraps(original_init)
        def __init__(trainer: Any, *args: Any, **kwargs: Any) -> None:
            callback = trainers.next_callback()
            given = kwargs.get("args", args[2] if len(args) > 2 else None)
            script_output_dir = getattr(given, "output_dir", None)
            if given is not None:
                given.output_dir = str(callback.run_dir)
            original_init(trainer, *args, **kwargs)
            trainer.args.output_dir = str(callback.run_dir)
            callback.start_fields["config"] = {"script": {"file": str(trainers.script), "output_dir": script_output_dir}}
            callback.bind(trainer)
            trainer.add_callback(callback)
            trainer._grpo_studio_callback = callback

        @functools.wraps(original_train)
        def train(trainer: Any, resume_from_checkpoint: Any = None, *args: Any, **kwargs: Any) -> Any:
            callback = getattr(trainer, "_grpo_studio_callback", None)
            if callback is None:
                return original_train(trainer, resume_from_checkpoint, *args, **kwargs)
            if trainers.stopped():
                print("stopped: the script's next training is not started", file=sys.stderr, flush=True)
                raise SystemExit(0)
            if callback is trainers.callbacks[0] and resume_from_checkpoint is None and trainers.session.checkpoint:
                resume_from_checkpoint = trainers.session.checkpoint
                callback.start_fields["resumed_from"] = resumed_from(trainers.session.checkpoint, trainers.session.skipped)
            try:
                return original_train(trainer, resume_from_checkpoint, *args, **kwargs)
            except BaseException as error:
                if not (isinstance(error, SystemExit) and error.code in (0, None)):
                    callback.fail(trainer.state.global_step, failure_cause(error, trainers.session))
                raise

        cls.__init__ = __init__
        cls.train = train

    def next_callback(self) -> GRPOStudioCallback:
        k = len(self.callbacks) + 1
        run_dir = self.session.run_dir if k == 1 else self.session.run_dir.with_name(f"{self.session.run_dir.name}-{k}")
        if k > 1 and is_main_rank():
            run_dir.mkdir(parents=True, exist_ok=True)
            RunLock(run_dir).acquire()
            print(f"run_dir: {run_dir}", flush=True)
        callback = GRPOStudioCallback(run_dir, stop=self.session.stop, start_fields={"config_file": str(self.script), "argv": self.argv})
        self.callbacks.append(callback)
        return callback

    def stopped(self) -> bool:
        return any(c.stop_reason is not None for c in self.callbacks)

    def fail_outside_training(self, cause: str) -> None:
        """A failure no trainer's train() reported (loading the model, the dataset): the run says so."""
        callback = self.callbacks[0] if self.callbacks else self.next_callback()
        if not callback.ended:
            callback.fail(callback.trainer.state.global_step if callback.trainer else None, cause)


def run_script(argv: list[str]) -> int:
    """`--script FILE [--run-dir DIR] [--resume] [--num-processes N] [--accelerate-config FILE] [-- SCRIPT ARGS...]`:
    the script, top to bottom, as `python FILE ARGS` (or `accelerate launch ... FILE ARGS`)."""
    import argparse
    import runpy
    from types import SimpleNamespace

    ours, script_argv = (argv[: argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    parser = argparse.ArgumentParser(prog="grpo_studio_runner.py --script")
    parser.add_argument("--script", required=True)
    parser.add_argument("--run-dir")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--num-processes", type=int)
    parser.add_argument("--accelerate-config")
    options = parser.parse_args(ours)
    launcher = {"num_processes": str(options.num_processes)} if options.num_processes else {}
    if options.accelerate_config:
        launcher["config_file"] = options.accelerate_config
    relaunch_under_accelerate(argv, launcher)
    if (options.num_processes or 1) > 1 and not os.environ.get("GRPO_STUDIO_RELAUNCHED") and "WORLD_SIZE" not in os.environ:
        print(f"note: --num-processes {options.num_processes} needs as many GPUs (found {_gpu_count()}): training in one process", file=sys.stderr)
    script = Path(options.script).resolve()
    if not script.is_file():
        print(f"no such script: {options.script}", file=sys.stderr)
        return 2
    session = open_session(SimpleNamespace(run_dir=options.run_dir, resume=options.resume), script)
    if isinstance(session, int):
        return session
    trainers = ScriptTrainers(session, script, [str(script), *script_argv])
    trainers.install()
    sys.argv = [str(script), *script_argv]
    sys.path.insert(0, str(script.parent))
    try:
        runpy.run_path(str(script), run_name="__main__")
        if not any(c.started for c in trainers.callbacks):
            what = "called train() on no GRPOTrainer" if trainers.callbacks else "created no GRPOTrainer"
            trainers.fail_outside_training(f"{script.name} ran to its end but {what}: nothing was trained\n")
            print(f"{script.name} {what}: nothing was trained", file=sys.stderr)
            return 1
        return 0
    except BaseException as error:  # noqa: BLE001 - every failure, interrupts included, ends the run
        if isinstance(error, SystemExit) and error.code in (0, None):
            return 0
        cause = failure_cause(error, session)
        try:
            trainers.fail_outside_training(cause)
            print(cause, file=sys.stderr, end="", flush=True)
        except OSError:
            pass
        return 1
    finally:
        session.reserve.release()
        if is_main_rank():
            session.stop.stop_file.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
