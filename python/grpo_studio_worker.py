"""GRPO Studio's reward worker: calls the user's reward functions as TRL 1.16's
GRPOTrainer._calculate_rewards does. `python -u grpo_studio_worker.py`; protocol in
src/scoring/workerProtocol.ts: JSON lines, requests on fd 3, responses on fd 4 (stdout and
stderr are the user's prints). EOF on fd 3 ends it with status 0. A score sends a `loaded` notice
when its imports are done and its calls begin: the host times the two apart. Stdlib only;
transformers gives the real TrainerState when the reward's module loaded it, and AutoTokenizer
for a tokenizer.

Imports: a reward file is imported under its dotted name (its stem, prefixed by the enclosing
folders that have __init__.py, stopping at a folder of `params.paths`), so `from rewards import x`
in the user's code finds the same module. The folder it resolves from goes on sys.path.
Reloads: the workspace modules (under those folders, outside sys.prefix and site-packages) are
one unit: if any of their files changed (mtime) since it was imported, all are dropped from
sys.modules before the next score, so an edited helper reaches the rewards importing it. No
bytecode is written: a .pyc of ours cannot hide a same-second, same-size edit.
Sources: a file given in `params.sources` (a script's top-level statements its rewards need, a
notebook's code cells) is not imported: that text runs, under the file's name, as the module; it
runs again only when the text or a workspace module changes.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import importlib.util
import inspect
import json
import math
import numbers
import os
import platform
import reprlib
import sys
import time
import traceback
from collections import defaultdict
from types import ModuleType, SimpleNamespace
from typing import Any, BinaryIO, Callable

sys.dont_write_bytecode = True
SELF = os.path.abspath(__file__)
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(SELF):
    del sys.path[0]  # the worker's own folder must not shadow user modules

_roots: set[str] = set()  # every import root seen so far
_imported: dict[str, tuple[str, int]] = {}  # workspace module name -> (file, mtime_ns when imported)
_instances: dict[Any, Any] = {}  # class (`instantiate`) -> its instance, kept as a training run keeps it
_tokenizers: dict[str, Any] = {}
_sourced: dict[str, tuple[str, ModuleType]] = {}  # file -> (the text it ran, its module)
PYTHON = {"executable": sys.executable, "version": platform.python_version()}
_loop = asyncio.new_event_loop()  # async rewards share one loop, as they do during a GRPOTrainer run


class InvalidReturn(Exception):
    """A reward result that GRPOTrainer would reject or that would silently spoil training."""


def module_name(file: str, paths: set[str]) -> tuple[str, str]:
    """Dotted module name of `file` and the folder it is imported from."""
    folder = os.path.dirname(file)
    stem = os.path.splitext(os.path.basename(file))[0]
    parts = [] if stem == "__init__" else [stem]
    while (not parts or folder not in paths) and os.path.isfile(os.path.join(folder, "__init__.py")):
        parts.insert(0, os.path.basename(folder))
        folder = os.path.dirname(folder)
    return ".".join(parts), folder


def mtime(file: str) -> int:
    try:
        return os.stat(file).st_mtime_ns
    except OSError:
        return -1


def in_workspace(file: str) -> bool:
    file = os.path.abspath(file)
    parts = file.split(os.sep)
    if file == SELF or "site-packages" in parts or "dist-packages" in parts:
        return False
    if any(file.startswith(os.path.join(p, "")) for p in (sys.prefix, sys.base_prefix)):
        return False
    return any(file.startswith(os.path.join(root, "")) for root in _roots)


def forget_changed_modules() -> None:
    """Drop every workspace module from sys.modules when any of them changed on disk."""
    if any(mtime(file) != stamp for file, stamp in _imported.values()):
        for name in _imported:
            sys.modules.pop(name, None)
        _imported.clear()
        _instances.clear()


def remember_workspace_modules() -> None:
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if name != "__main__" and isinstance(file, str) and name not in _imported and in_workspace(file):
            _imported[name] = (file, mtime(file))


def import_file(file: str, paths: set[str]) -> ModuleType:
    name, root = module_name(file, paths)
    if root not in sys.path:
        sys.path.insert(len(paths), root)
    _roots.add(root)
    stamp = mtime(file)
    module = importlib.import_module(name)
    if os.path.realpath(getattr(module, "__file__", None) or "") != os.path.realpath(file):
        raise ImportError(f"'import {name}' finds {module.__file__}, not {file}: rename one of them")
    _imported.setdefault(name, (file, stamp))
    return module


def import_source(file: str, source: str, paths: set[str]) -> ModuleType:
    """Runs `source` as the module of `file` (registered under the name an import would give it)."""
    if file.lower().endswith(".ipynb"):
        # Nothing imports a notebook: a name no `import` can reach, so it shadows no real module.
        name, root = "grpo_studio_notebook:" + file, os.path.dirname(file)
    else:
        name, root = module_name(file, paths)
    if root not in sys.path:
        sys.path.insert(len(paths), root)
    _roots.add(root)
    cached = _sourced.get(file)
    if cached and cached[0] == source and sys.modules.get(cached[1].__name__) is cached[1]:
        return cached[1]
    stamp = mtime(file)
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader=None, origin=file))
    module.__file__ = file
    sys.modules[name] = module
    try:
        exec(compile(source, file, "exec", dont_inherit=True), module.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    _sourced[file] = (source, module)
    _imported[name] = (file, stamp)
    return module


def trainer_state(fields: dict[str, Any] | None) -> Any:
    # The real TrainerState only when the user's code already loaded transformers: importing it
    # here would pull in torch (seconds) for a preview that only reads global_step and friends.
    transformers = sys.modules.get("transformers")
    try:
        state: Any = transformers.TrainerState() if transformers else SimpleNamespace(global_step=0, max_steps=0, epoch=0.0)
    except Exception:
        state = SimpleNamespace(global_step=0, max_steps=0, epoch=0.0)
    for key, value in (fields or {}).items():
        setattr(state, key, value)
    return state


def completion_ids(samples: list[dict[str, Any]], tokenizer: str | None) -> tuple[list[list[int]], bool, str | None]:
    """Token ids of each completion, whether they are placeholders (code points), and why.

    Those the policy sampled when every sample brings them (TRL passes the generated ids), else the
    tokenizer's encoding of the text, else code points.
    """
    if samples and all("completionIds" in s for s in samples):
        return [s["completionIds"] for s in samples], False, None
    completions = [s["completion"] for s in samples]
    texts = [c if isinstance(c, str) else "".join(str(m.get("content", "")) for m in c) for c in completions]
    warning = None
    if tokenizer:
        try:
            if tokenizer not in _tokenizers:
                from transformers import AutoTokenizer

                _tokenizers[tokenizer] = AutoTokenizer.from_pretrained(tokenizer)
            tok = _tokenizers[tokenizer]
            return [list(tok(t, add_special_tokens=False)["input_ids"]) for t in texts], False, None
        except Exception as e:
            warning = f"tokenizer {tokenizer!r} unusable ({type(e).__name__}: {e}); completion_ids are placeholders"
    return [list(map(ord, t)) for t in texts], True, warning


def is_async_callable(func: Any) -> bool:
    """trl.trainer.utils.is_async_callable (TRL 1.16)."""
    while isinstance(func, functools.partial):
        func = func.func
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(func.__call__)


def call_like_trl(func: Callable[..., Any], batch: tuple[list, list, list], kwargs: dict[str, Any]) -> Any:
    prompts, completions, ids = batch
    return func(prompts=prompts, completions=completions, completion_ids=ids, **kwargs)


def check_signature(func: Any, batch: tuple[list, list, list], kwargs: dict[str, Any]) -> dict[str, Any]:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError) as e:
        return {"binds": True, "message": f"signature cannot be inspected ({e}); only the call can tell"}
    try:
        call_like_trl(signature.bind, batch, kwargs)
    except TypeError as e:
        return {"binds": False, "message": str(e)}
    return {"binds": True}


def as_float(value: Any, index: int) -> float | None:
    if value is None:
        return None
    if type(value) is float and not math.isinf(value):  # the common case, without the checks below
        return value
    if isinstance(value, numbers.Real) or getattr(value, "shape", None) == ():
        try:
            number = float(value)
        except (TypeError, ValueError):
            pass
        else:
            if math.isinf(number):
                raise InvalidReturn(
                    f"value {index} is {number}: GRPOTrainer accepts it, but its group's mean and std become "
                    "inf/NaN, so every advantage of the group turns to 0 (no learning signal)"
                )
            return number
    raise InvalidReturn(
        f"value {index} is {type(value).__name__} {reprlib.repr(value)}: GRPOTrainer converts the rewards with "
        "torch.tensor(rewards, dtype=torch.float32), which fails (or mis-shapes) on it; "
        "return one float (or None) per completion"
    )


def validate(result: Any, n: int, name: str) -> tuple[list[float | None], list[str]]:
    try:
        items = [r for r in result]  # GRPOTrainer iterates the result
    except TypeError as e:
        raise InvalidReturn(
            f"returned {type(result).__name__}, not a list: GRPOTrainer iterates the result and raises TypeError: {e}"
        ) from None
    if len(items) != n:
        raise ValueError(
            f"The reward function '{name}' returned {len(items)} rewards, but {n} were expected (one per "
            "prompt-completion pair). Make sure the reward function returns exactly one reward per completion."
        )
    values = [as_float(r, i) for i, r in enumerate(items)]
    nans = [i for i, v in enumerate(values) if v is not None and math.isnan(v)]
    for i in nans:
        values[i] = None
    warnings = [f"NaN at {nans}: GRPOTrainer treats NaN like None (not applicable)"] if nans else []
    return values, warnings


def frames(tb: Any) -> list[dict[str, Any]]:
    return [
        {"file": f.filename, "line": f.lineno or 0, "name": f.name}
        for f in traceback.extract_tb(tb)
        if f.filename not in (__file__, SELF) and not f.filename.startswith("<frozen")
    ]


def definition(func: Any) -> list[dict[str, Any]]:
    """Where `func` is defined, as a one-frame traceback (for errors raised by the worker itself)."""
    while isinstance(func, functools.partial):
        func = func.func
    if not (inspect.isfunction(func) or inspect.ismethod(func)):
        func = type(func).__call__
    func = inspect.unwrap(func)
    code = getattr(func, "__code__", None)
    return [{"file": code.co_filename, "line": code.co_firstlineno, "name": func.__qualname__}] if code else []


def describe(error: BaseException, func: Any) -> dict[str, Any]:
    """The error as the protocol's RewardError; with no user frame left, the reward's definition."""
    tb = frames(error.__traceback__)
    if isinstance(error, SyntaxError) and error.filename:
        tb.append({"file": error.filename, "line": error.lineno or 0, "name": "<module>"})
    if not tb and func is not None:
        tb = definition(func)
    return {"type": type(error).__name__, "message": str(error), "traceback": tb}


def plain(value: Any) -> Any:
    """A JSON-safe copy: non-finite floats become null, arrays lists, unknown objects their str()."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "tolist"):
        return plain(value.tolist())
    return str(value)


def load_reward(ref: dict[str, Any], paths: set[str], modules: dict[str, Any], sources: dict[str, str]) -> Any:
    file = os.path.abspath(ref["file"])
    if file not in modules:  # a failed import is reported to every reward of that file
        try:
            source = sources.get(ref["file"])
            modules[file] = import_file(file, paths) if source is None else import_source(file, source, paths)
        except (Exception, SystemExit) as e:
            modules[file] = e
    if isinstance(modules[file], BaseException):
        raise modules[file]
    obj = getattr(modules[file], ref["attr"])
    if ref.get("instantiate"):
        if obj not in _instances:
            _instances[obj] = obj()
        obj = _instances[obj]
    return obj


def score_one(ref: dict[str, Any], func: Any, batch: tuple[list, list, list], columns: dict[str, Any],
              state: dict[str, Any] | None) -> dict[str, Any]:
    """Calls `func`, the reward `load_reward` gave (or the exception it raised)."""
    metrics: dict[str, list] = defaultdict(list)
    extra: dict[str, list] = defaultdict(list)

    def log_extra(column: str, values: list) -> None:
        extra[column].extend(values)

    def log_metric(name: str, value: float) -> None:
        metrics[name].append(value)

    outcome: dict[str, Any] = {"name": ref["name"], "ms": 0.0, "warnings": [], "metrics": {}, "extra": {}}
    if isinstance(func, BaseException):
        outcome["error"] = describe(func, None)
        return outcome
    try:
        # After the imports: the reward's module decides whether transformers is loaded.
        kwargs = dict(columns, trainer_state=trainer_state(state), log_extra=log_extra, log_metric=log_metric)
        outcome["signature"] = check_signature(func, batch, kwargs)
        start = time.perf_counter()
        try:
            result = call_like_trl(func, batch, kwargs)
            if is_async_callable(func):
                result = _loop.run_until_complete(result)
        finally:
            outcome["ms"] = round((time.perf_counter() - start) * 1000, 3)
        outcome["values"], outcome["warnings"] = validate(result, len(batch[0]), ref["name"])
    except (Exception, SystemExit) as e:
        outcome["error"] = describe(e, func)
    outcome["metrics"], outcome["extra"] = plain(metrics), plain(extra)
    return outcome


def load_or_error(ref: dict[str, Any], paths: set[str], modules: dict[str, Any], sources: dict[str, str]) -> Any:
    try:
        return load_reward(ref, paths, modules, sources)
    except (Exception, SystemExit) as e:
        return e


def score(params: dict[str, Any], loaded: Callable[[], None]) -> dict[str, Any]:
    """Scores the samples; `loaded` is called between the set-up (tokenizer, imports) and the calls."""
    paths = [os.path.abspath(p) for p in params.get("paths", [])]
    for i, path in enumerate(paths):
        if path not in sys.path:
            sys.path.insert(i, path)
    _roots.update(paths)
    importlib.invalidate_caches()
    forget_changed_modules()

    samples = params["samples"]
    prompts = [s["prompt"] for s in samples]
    completions = [s["completion"] for s in samples]
    ids, placeholder_ids, ids_warning = completion_ids(samples, params.get("tokenizer"))
    # As GRPOTrainer: the first sample's columns but prompt/completion/completion_ids, then its own kwargs.
    rows = [s.get("columns") or {} for s in samples]
    keys = [k for k in (rows[0] if rows else {}) if k not in ("prompt", "completion", "completion_ids")]
    columns: dict[str, Any] = {k: [row.get(k) for row in rows] for k in keys}

    modules: dict[str, Any] = {}
    sources = params.get("sources") or {}
    funcs = [load_or_error(ref, set(paths), modules, sources) for ref in params["rewards"]]
    loaded()
    state = params.get("trainerState")
    batch = (prompts, completions, ids)
    rewards = [score_one(ref, func, batch, columns, state) for ref, func in zip(params["rewards"], funcs)]
    if ids_warning:
        for outcome in rewards:
            outcome["warnings"].append(ids_warning)
    remember_workspace_modules()
    return {"rewards": rewards, "placeholderIds": placeholder_ids, "python": PYTHON}


def handle(line: bytes, notify: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """The response to one request line; `notify` sends a score's `loaded` notice ahead of it."""
    try:
        request = json.loads(line)
    except ValueError as e:
        return {"id": None, "error": {"message": f"bad request line: {e}"}}
    request_id = request.get("id") if isinstance(request, dict) else None
    try:
        method = request["method"]
        if method == "ping":
            result: Any = {"pong": True, "python": PYTHON}
        elif method == "score":
            result = score(request["params"], lambda: notify({"id": request_id, "loaded": True}))
        else:
            raise ValueError(f"unknown method {method!r}")
    except Exception as e:
        return {"id": request_id, "error": {"message": f"{type(e).__name__}: {e}"}}
    return {"id": request_id, "result": result}


def send(stream: BinaryIO, response: dict[str, Any]) -> None:
    try:
        text = json.dumps(response, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        text = json.dumps({"id": response.get("id"), "error": {"message": f"response cannot be sent: {e}"}})
    # A lone surrogate (possible in user strings) leaves as a \udXXX escape, which JSON reads back.
    stream.write((text + "\n").encode("utf-8", "backslashreplace"))
    stream.flush()


def main() -> None:
    for fd in (3, 4):
        os.set_inheritable(fd, False)  # subprocesses of rewards must not hold the protocol pipes open
    with os.fdopen(3, "rb") as requests, os.fdopen(4, "wb") as responses:
        for line in requests:
            if line.strip():
                send(responses, handle(line, functools.partial(send, responses)))


if __name__ == "__main__":
    main()
