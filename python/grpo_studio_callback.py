"""GRPO Studio's trainer callback: streams a GRPOTrainer's run into a run folder that the editor
(Runs view, dashboard, Compare Runs, `grpo-studio report`) follows like the runs it starts.

On its own, e.g. in a cluster job (`pip install ./python` from the extension's folder):

    from grpo_studio_callback import GRPOStudioCallback
    trainer = GRPOTrainer(..., callbacks=[GRPOStudioCallback("runs/lora-1")])

The runner (python/grpo_studio_runner.py) uses the same pieces for run configs and scripts.

<run dir>/events.jsonl: rank 0 appends one JSON object per line, each line with one write, fsync'd.
Every event has "event" and "time" (unix seconds); NaN and infinities are written as null.
  start           config_file, argv, config {script, training, model, datasets, launcher_only},
                  versions, devices, pid, max_steps (null when epochs decide), resumed_from
                  (null, or {checkpoint, step}: events of an earlier session with a larger step
                  were superseded; after a STOP there are none)
  train_begin     step (0, or the checkpoint's step), max_steps (exact)
  log             step, metrics: the dict TRL logs (loss, reward, rewards/<name>/mean, kl, ...);
                  at most one per step (steps after the last logging_steps come with the summary)
  completions     step, rows: up to 16 of the latest generation batch (prompt, completion as TRL
                  has them: strings, or message lists in chat format; rewards {name: value};
                  advantage; extra {column: value} from log_extra)
  eval            step, metrics (eval_* keys)          summary  step, metrics (train_runtime, ...)
  checkpoint      step, path                           stop_requested  step, reason
  end             status "finished" (step, model_path) | "stopped" (step) | "failed" (step, error)
A file named STOP in the run folder makes the trainer save a checkpoint at the end of the current
step and stop (the file is consumed).
"""

from __future__ import annotations

import inspect
import json
import math
import os
import platform
import signal
import sys
import time
from pathlib import Path
from typing import Any

from transformers import Trainer, TrainerCallback, TrainerControl, TrainerState, TrainingArguments

EVENTS_FILE = "events.jsonl"
STOP_FILE = "STOP"
COMPLETION_ROWS = 16  # rows of each logged generation batch copied into a completions event
SUMMARY_KEYS = {"train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos", "train_loss"}


def is_main_rank() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


# ---------------------------------------------------------------------------------------------
# events.jsonl


def json_safe(value: Any) -> Any:
    """NaN and infinities become null (JSON has neither); everything else stays as TRL gave it."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if hasattr(value, "item"):  # numpy / torch scalars
        return json_safe(value.item())
    return str(value)


class EventLog:
    """Append-only JSON Lines file: each event is one os.write of a whole line, then fsync."""

    def __init__(self, path: Path | None):
        self.path = path
        self._fd: int | None = None
        self._cut = False  # a write failed part-way (a full disk): the next line starts on its own
        if path is not None:
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            # A line cut short by a crash (only possible for a SIGKILL inside a multi-page write)
            # stays alone on its line instead of swallowing the next event.
            if os.fstat(self._fd).st_size > 0:
                with open(path, "rb") as f:
                    f.seek(-1, os.SEEK_END)
                    if f.read(1) != b"\n":
                        self._write(b"\n")

    def _write(self, data: bytes) -> None:
        assert self._fd is not None
        if self._cut:
            data = b"\n" + data
        written = 0
        try:
            while written < len(data):  # regular files only write short on a full disk or a fatal signal
                written += os.write(self._fd, data[written:])
        except OSError:
            self._cut = self._cut or written > 0
            raise
        self._cut = False
        os.fsync(self._fd)

    def emit(self, event: str, **fields: Any) -> None:
        if self._fd is None:
            return
        record = json_safe({"event": event, "time": round(time.time(), 3), **fields})
        self._write((json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# Stop requests


class StopRequest:
    """First SIGINT/SIGTERM (or a STOP file) asks for a graceful stop; a second signal aborts."""

    def __init__(self, stop_file: Path, early_signal: str | None = None):
        self.stop_file = stop_file
        self.signal_name: str | None = early_signal  # one that arrived before this existed
        self.parent_gone = False

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self.signal_name is not None:
            raise KeyboardInterrupt(f"second {signal.Signals(signum).name}: aborted without a checkpoint")
        self.signal_name = signal.Signals(signum).name
        print(f"{self.signal_name}: stopping after this step (send it again to abort)", file=sys.stderr, flush=True)

    def watch_parent(self) -> None:
        """A foreground runner (grpo-studio train) stops when the command that started it is gone:
        it holds our stdin open, and its end (even kill -9) closes it."""
        import threading

        def wait_for_eof() -> None:
            # The raw descriptor: a daemon thread blocked in the buffered stdin would hold its lock
            # at interpreter shutdown, which Python treats as fatal.
            try:
                while os.read(0, 65536):
                    pass
            except OSError:
                pass
            self.parent_gone = True
            print("the command that started this run has exited: stopping after this step", file=sys.stderr, flush=True)

        threading.Thread(target=wait_for_eof, name="grpo-studio-parent", daemon=True).start()

    def reason(self) -> str | None:
        if self.signal_name is not None:
            return self.signal_name
        if self.parent_gone:
            return "parent_exited"
        return "stop_file" if self.stop_file.exists() else None


class StopControlCallback(TrainerCallback):
    """Honours a stop request (the STOP file or a signal) at a step end: log, checkpoint, stop."""

    def __init__(self, events: EventLog, stop: StopRequest):
        self.events = events
        self.stop = stop
        self.trainer: Any = None  # set once GRPOTrainer exists (callbacks are not given the trainer)
        self.stop_reason: str | None = None

    def _stop_requested_anywhere(self) -> str | None:
        reason = self.stop.reason()
        accelerator = getattr(self.trainer, "accelerator", None)
        if accelerator is not None and accelerator.num_processes > 1:
            # Every rank must stop at the same step: a checkpoint is a collective operation.
            import torch

            flag = torch.tensor([1.0 if reason else 0.0], device=accelerator.device)
            if accelerator.gather(flag).max().item() > 0:
                return reason or "another rank"
            return None
        return reason

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any):
        if self.stop_reason is None:
            reason = self._stop_requested_anywhere()
            if reason is not None:
                self.stop_reason = reason
                if state.is_world_process_zero:
                    self.events.emit("stop_requested", step=state.global_step, reason=reason)
                    self.stop.stop_file.unlink(missing_ok=True)
        if self.stop_reason is not None:
            control.should_log = True
            control.should_save = True
            control.should_training_stop = True
        return control


class EventLogCallback(TrainerCallback):
    """Writes TRL's logs, a sample of its completions and its checkpoints to events.jsonl."""

    def __init__(self, events: EventLog):
        self.events = events
        self.trainer: Any = None  # set once GRPOTrainer exists: its latest generation batch is read
        self._last_rows: list[dict[str, Any]] | None = None
        self._saved_steps: set[int] = set()
        self._last_logged_step = -1

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any):
        if state.is_world_process_zero:  # max_steps is known now, also for epoch-based configs
            self.events.emit("train_begin", step=state.global_step, max_steps=state.max_steps)

    def on_log(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, logs=None, **kwargs: Any):
        if not state.is_world_process_zero or not logs:
            return
        logs = dict(logs)
        if "train_runtime" in logs:
            # Trainer's closing summary. GRPOTrainer.log adds the metrics gathered since the last
            # log: when steps remain unlogged (logging_steps), they are that step's log.
            summary = {key: logs.pop(key) for key in list(logs) if key in SUMMARY_KEYS}
            if set(logs) - {"epoch"} and state.global_step > self._last_logged_step:
                self._emit_log(state, logs)
            self.events.emit("summary", step=state.global_step, metrics=summary)
        elif all(key.startswith("eval_") or key == "epoch" for key in logs):
            self.events.emit("eval", step=state.global_step, metrics=logs)
        else:
            self._emit_log(state, logs)

    def _emit_log(self, state: TrainerState, metrics: dict[str, Any]) -> None:
        self._last_logged_step = state.global_step
        self.events.emit("log", step=state.global_step, metrics=metrics)
        rows = self._completion_rows()
        if rows and rows != self._last_rows:  # the same generation batch can span several steps
            self._last_rows = rows
            self.events.emit("completions", step=state.global_step, rows=rows)

    def _completion_rows(self) -> list[dict[str, Any]]:
        # GRPOTrainer keeps the latest generation batch (gathered from all ranks) in `_logs` for its
        # own completions table (log_completions); it is filled whether or not that option is on.
        logs = getattr(self.trainer, "_logs", None)
        if not logs:
            return []
        prompts, completions, advantages = list(logs["prompt"]), list(logs["completion"]), list(logs["advantages"])
        rewards = {name: list(values) for name, values in logs["rewards"].items()}
        extra = {name: list(values) for name, values in logs["extra"].items()}
        rows = []
        for i in range(min(len(prompts), len(completions), COMPLETION_ROWS)):
            row: dict[str, Any] = {
                "prompt": prompts[i],
                "completion": completions[i],
                "rewards": {name: values[i] for name, values in rewards.items() if i < len(values)},
                "advantage": advantages[i] if i < len(advantages) else None,
            }
            if extra:
                row["extra"] = {name: values[i] for name, values in extra.items() if i < len(values)}
            rows.append(json_safe(row))
        return rows

    def on_save(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any):
        if state.is_world_process_zero and state.global_step not in self._saved_steps:
            self._saved_steps.add(state.global_step)
            path = Path(args.output_dir, f"checkpoint-{state.global_step}").resolve()
            self.events.emit("checkpoint", step=state.global_step, path=str(path))


class ModelCardCallback(TrainerCallback):
    """TRL's model card names a base model loaded from a folder "[None](https://huggingface.co/None)"
    (it links hub ids only): the card it writes with each checkpoint names that folder instead."""

    UNNAMED = "fine-tuned version of [None](https://huggingface.co/None)"

    def __init__(self) -> None:
        self.trainer: Any = None  # set once GRPOTrainer exists

    def on_save(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any):
        config = getattr(getattr(self.trainer, "model", None), "config", None)
        base = getattr(config, "_name_or_path", None)
        card = Path(args.output_dir, "README.md")
        if not state.is_world_process_zero or not base or not card.is_file():
            return
        text = card.read_text(encoding="utf-8")
        if self.UNNAMED in text:
            card.write_text(text.replace(self.UNNAMED, f"fine-tuned version of `{Path(base).name}` (a local model: `{base}`)"), encoding="utf-8")




# ---------------------------------------------------------------------------------------------
# Versions and devices, for the start event


def versions() -> dict[str, str]:
    import accelerate
    import datasets
    import torch
    import transformers
    import trl

    versions = {"python": platform.python_version()}
    for module in (torch, transformers, trl, datasets, accelerate):
        versions[module.__name__] = module.__version__
    try:
        import peft

        versions["peft"] = peft.__version__
    except ImportError:
        pass
    return versions


def devices(training_args: TrainingArguments) -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {"device": str(training_args.device), "world_size": training_args.world_size}
    if torch.cuda.is_available():
        info["cuda"] = [
            {
                "name": torch.cuda.get_device_name(i),
                "memory_gb": round(torch.cuda.get_device_properties(i).total_memory / 2**30, 1),
            }
            for i in range(torch.cuda.device_count())
        ]
    info["cpu_count"] = os.cpu_count()
    return info



# ---------------------------------------------------------------------------------------------
# The callback on its own


def _calling_trainer() -> Any:
    """The Trainer whose callback handler is calling us (callbacks are not handed the trainer)."""
    frame = inspect.currentframe()
    while frame is not None:
        candidate = frame.f_locals.get("self")
        if isinstance(candidate, Trainer):
            return candidate
        frame = frame.f_back
    return None


class GRPOStudioCallback(TrainerCallback):
    """A run folder for this trainer: a start event when training begins, TRL's logs, a sample of
    each generation batch, checkpoints, and an end event (finished, or stopped by a STOP file)."""

    def __init__(self, run_dir: str | os.PathLike[str], *, stop: StopRequest | None = None,
                 start_fields: dict[str, Any] | None = None):
        self.run_dir = Path(run_dir).resolve()
        main = is_main_rank()
        if main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        self.events = EventLog(self.run_dir / EVENTS_FILE if main else None)
        self.stop = stop or StopRequest(self.run_dir / STOP_FILE)
        self.start_fields = start_fields or {}
        self._log = EventLogCallback(self.events)
        self._control = StopControlCallback(self.events, self.stop)
        self._card = ModelCardCallback()
        self.trainer: Any = None
        self.started = False  # training began (the start event is written by the main rank)
        self.ended = False  # an end event was written

    def bind(self, trainer: Any) -> None:
        self.trainer = self._log.trainer = self._control.trainer = self._card.trainer = trainer

    @property
    def stop_reason(self) -> str | None:
        return self._control.stop_reason

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any):
        if self.trainer is None:
            self.bind(_calling_trainer())
        if state.is_world_process_zero:
            self._start(args)
        self.started = True
        self._log.on_train_begin(args, state, control, **kwargs)

    def _start(self, args: TrainingArguments | None) -> None:
        fields = {"config_file": "", "argv": sys.argv, "resumed_from": None, **self.start_fields}
        config = fields["config"] = dict(fields.get("config") or {})
        if args is not None:
            config["training"] = args.to_dict()
        max_steps = args.max_steps if args is not None and args.max_steps > 0 else None
        self.events.emit("start", **fields, max_steps=max_steps, versions=versions(),
                         devices=devices(args) if args is not None else {}, pid=os.getpid())

    def on_log(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, logs=None, **kwargs: Any):
        self._log.on_log(args, state, control, logs=logs, **kwargs)

    def on_save(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any):
        self._log.on_save(args, state, control, **kwargs)
        self._card.on_save(args, state, control, **kwargs)

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any):
        return self._control.on_step_end(args, state, control, **kwargs)

    def on_train_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any):
        if not state.is_world_process_zero:
            return
        if self.stop_reason is not None and state.global_step < state.max_steps:
            self.events.emit("end", status="stopped", step=state.global_step)
        else:
            self.events.emit("end", status="finished", step=state.global_step, model_path=args.output_dir)
        self.ended = True

    def fail(self, step: int | None, error: str) -> None:
        """The end of a session that raised (the trainer calls no callback then), with its start if
        it failed before training began (loading the model, the dataset)."""
        if not self.started:
            self._start(getattr(self.trainer, "args", None))
        self.events.emit("end", status="failed", step=step, error=error)
        self.ended = True
