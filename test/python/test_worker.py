"""The reward worker (python/grpo_studio_worker.py), started the way the extension starts it:
requests on fd 3, responses on fd 4, stdin /dev/null, stdout/stderr drained by the parent.
"""

import fcntl
import itertools
import json
import os
import queue
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from conftest import REPO_ROOT

WORKER = REPO_ROOT / "python" / "grpo_studio_worker.py"
_stems = itertools.count()


class Worker:
    """A worker process plus threads that drain its response pipe, stdout and stderr."""

    def __init__(self, cwd):
        req_r, self.req_w = os.pipe()
        res_r, res_w = os.pipe()
        # Above 4, so that dup2 onto 3 and 4 in the child cannot overwrite one of them.
        child_in, child_out = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (req_r, res_w))
        os.close(req_r)
        os.close(res_w)

        def map_fds():
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        self.proc = subprocess.Popen(
            [sys.executable, "-u", str(WORKER)],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(3, 4),
            preexec_fn=map_fds,
        )
        os.close(child_in)
        os.close(child_out)
        self.responses = os.fdopen(res_r, "rb")
        self.lines: queue.Queue = queue.Queue()
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.next_id = 1
        self._threads = [
            threading.Thread(target=self._read_responses, daemon=True),
            threading.Thread(target=self._drain, args=(self.proc.stdout, self.stdout), daemon=True),
            threading.Thread(target=self._drain, args=(self.proc.stderr, self.stderr), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _read_responses(self):
        for line in self.responses:
            self.lines.put((time.monotonic(), line))
        self.lines.put((time.monotonic(), None))  # EOF

    @staticmethod
    def _drain(stream, sink):
        while chunk := stream.read1(65536):
            sink.extend(chunk)

    def send_line(self, data: bytes):
        os.write(self.req_w, data)

    def next_response(self, timeout=60):
        self.arrived, line = self.lines.get(timeout=timeout)
        return None if line is None else json.loads(line)

    def request(self, method, params=None):
        request = {"id": self.next_id, "method": method}
        if params is not None:
            request["params"] = params
        self.next_id += 1
        self.sent = time.monotonic()
        self.send_line(json.dumps(request).encode() + b"\n")
        self.notices = []
        while True:
            response = self.next_response()
            assert response is not None, f"worker ended; stderr:\n{self.stderr.decode(errors='replace')}"
            assert response["id"] == request["id"]
            if "loaded" not in response:
                return response
            self.notices.append((self.arrived, response))

    def close(self):
        if self.req_w is not None:
            os.close(self.req_w)
            self.req_w = None
        try:
            return self.proc.wait(timeout=30)
        finally:
            for thread in self._threads:
                thread.join(timeout=10)


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    w = Worker(tmp_path_factory.mktemp("cwd"))
    yield w
    assert w.close() == 0


def reward_file(folder: Path, source: str, stem: str = "") -> Path:
    """A reward module in `folder`, with a name no other test uses (they share one worker)."""
    path = folder / f"{stem or 'rewards'}_{next(_stems)}.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def ref(path: Path, attr: str, **extra):
    return {"name": attr, "file": str(path), "attr": attr, **extra}


def sample(prompt, completion, **columns):
    return {"prompt": prompt, "completion": completion, "columns": columns}


SAMPLES = [sample("Say hi", "hi 😀", answer="hi"), sample("日本の首都は?", "東京です", answer="京都")]


def score(worker, rewards, samples=SAMPLES, paths=(), **params):
    response = worker.request("score", {"paths": list(paths), "rewards": rewards, "samples": samples, **params})
    assert "result" in response, response
    return response["result"]


def outcome(worker, path, attr, samples=SAMPLES, **params):
    """The one RewardOutcome of `attr` in `path`."""
    [result] = score(worker, [ref(path, attr)], samples, **params)["rewards"]
    return result


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


# ---------------------------------------------------------------- protocol


def test_ping(worker):
    result = worker.request("ping")["result"]
    assert result["pong"] is True
    assert result["python"]["executable"] == sys.executable
    assert result["python"]["version"] == ".".join(map(str, sys.version_info[:3]))


def test_bad_lines_get_errors_and_the_worker_goes_on(worker):
    worker.send_line(b"{not json\n")
    bad = worker.next_response()
    assert bad["id"] is None and bad["error"]["message"].startswith("bad request line")
    worker.send_line(json.dumps({"id": 99, "method": "nope"}).encode() + b"\n")
    unknown = worker.next_response()
    assert unknown["id"] == 99 and "nope" in unknown["error"]["message"]
    worker.send_line(json.dumps({"id": 100, "method": "score", "params": {}}).encode() + b"\n")
    assert worker.next_response()["error"]["message"].startswith("KeyError")
    assert worker.request("ping")["result"]["pong"] is True


def test_a_score_says_when_its_imports_are_done_and_its_calls_begin(worker, tmp_path):
    path = reward_file(tmp_path, """
        import time
        time.sleep(1)

        def slow(completions, **kwargs):
            time.sleep(1)
            return [1.0 for c in completions]
    """)
    result = score(worker, [ref(path, "slow")])
    assert [r["values"] for r in result["rewards"]] == [[1.0, 1.0]]
    [(loaded_at, notice)] = worker.notices
    assert notice == {"id": worker.next_id - 1, "loaded": True}
    assert loaded_at - worker.sent >= 0.9, "after the module's import"
    assert worker.arrived - loaded_at >= 0.9, "before the reward's call"
    broken = reward_file(tmp_path, "import no_such_module_here\n")
    assert score(worker, [ref(broken, "anything")])["rewards"][0]["error"]["type"] == "ModuleNotFoundError"
    assert len(worker.notices) == 1, "a failed import ends the set-up too"


def test_eof_on_requests_exits_0(tmp_path):
    w = Worker(tmp_path)
    assert w.request("ping")["result"]["pong"]
    assert w.close() == 0
    assert w.next_response() is None


def test_os_exit_in_a_reward_ends_the_worker_without_a_partial_line(tmp_path):
    path = reward_file(tmp_path, """
        import os, sys
        def crash(completions, **kwargs):
            print("about to exit")
            os._exit(3)
    """)
    w = Worker(tmp_path)
    w.send_line(json.dumps({"id": 1, "method": "score", "params": {
        "paths": [], "rewards": [ref(path, "crash")], "samples": SAMPLES}}).encode() + b"\n")
    assert w.next_response() == {"id": 1, "loaded": True}  # the import went well; the call ends it
    assert w.next_response() is None  # EOF on fd 4 with no partial line
    assert w.close() == 3
    assert b"about to exit" in w.stdout


# ---------------------------------------------------------------- calling like GRPOTrainer


def test_standard_and_conversational_samples_use_python_len(worker, tmp_path):
    path = reward_file(tmp_path, """
        def text_len(completions, **kwargs):
            return [float(len(c if isinstance(c, str) else c[0]["content"])) for c in completions]

        def prompt_len(prompts, **kwargs):
            return [len(p) for p in prompts]
    """)
    standard = [sample("絵文字", "😀"), sample("q", "こんにちは😀🎉")]
    assert outcome(worker, path, "text_len", standard)["values"] == [1.0, 7.0]
    assert outcome(worker, path, "prompt_len", standard)["values"] == [3.0, 1.0]
    chat = [
        sample([{"role": "system", "content": "s"}, {"role": "user", "content": "日本"}],
               [{"role": "assistant", "content": "東京です😀"}]),
        sample([{"role": "user", "content": "hi"}], [{"role": "assistant", "content": "👍🏽"}]),
    ]
    assert outcome(worker, path, "text_len", chat)["values"] == [5.0, 2.0]  # 👍🏽 is two code points
    assert outcome(worker, path, "prompt_len", chat)["values"] == [2.0, 1.0]  # a prompt is a message list


def test_keyword_arguments_columns_trainer_state_and_logging(worker, tmp_path):
    # A module that imports transformers gets the real TrainerState (else a light stand-in).
    path = reward_file(tmp_path, """
        import transformers

        def inspect_call(*args, prompts, completions, completion_ids, **kwargs):
            assert not args
            state = kwargs["trainer_state"]
            kwargs["log_extra"]("kwargs", [",".join(sorted(kwargs))] * len(completions))
            kwargs["log_extra"]("answer", kwargs["answer"])
            kwargs["log_extra"]("state", [type(state).__name__, f"{state.global_step}/{state.max_steps}/{state.epoch}"])
            kwargs["log_metric"]("calls", 1)
            kwargs["log_metric"]("calls", 2.5)
            return [float(c.startswith(a)) for c, a in zip(completions, kwargs["answer"])]
    """)
    samples = [sample("p1", "hi there", answer="hi", level=1, completion_ids=[9]),  # TRL drops completion_ids
               sample("p2", "no", answer="yes", level=2)]
    state = {"global_step": 7, "max_steps": 100, "epoch": 0.5}
    result = outcome(worker, path, "inspect_call", samples, trainerState=state)
    assert result["values"] == [1.0, 0.0]
    assert result["signature"] == {"binds": True}
    assert result["extra"]["kwargs"] == ["answer,level,log_extra,log_metric,trainer_state"] * 2
    assert result["extra"]["answer"] == ["hi", "yes"]
    assert result["extra"]["state"] == ["TrainerState", "7/100/0.5"]
    assert result["metrics"] == {"calls": [1, 2.5]}
    assert result["ms"] >= 0 and result["warnings"] == [] and "error" not in result


def test_completion_ids_placeholder_and_real(worker, tmp_path):
    from tiny_model import ensure_tiny_model
    from transformers import AutoTokenizer

    path = reward_file(tmp_path, """
        def ids(completions, completion_ids, log_extra, **kwargs):
            log_extra("ids", completion_ids)
            return [float(len(i)) for i in completion_ids]
    """)
    placeholder = score(worker, [ref(path, "ids")])
    assert placeholder["placeholderIds"] is True
    assert placeholder["rewards"][0]["extra"]["ids"] == [[ord(c) for c in s["completion"]] for s in SAMPLES]

    model_dir = ensure_tiny_model()
    real = score(worker, [ref(path, "ids")], tokenizer=str(model_dir))
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    assert real["placeholderIds"] is False
    expected = [tokenizer(s["completion"], add_special_tokens=False)["input_ids"] for s in SAMPLES]
    assert real["rewards"][0]["extra"]["ids"] == expected

    missing = score(worker, [ref(path, "ids")], tokenizer=str(tmp_path / "no-such-tokenizer"))
    assert missing["placeholderIds"] is True
    assert "completion_ids are placeholders" in missing["rewards"][0]["warnings"][0]

    # Sampled completions bring the ids the policy drew: those are what TRL passes, no tokenizer is loaded.
    sampled = [{**s, "completionIds": [7, 8, 9][: i + 2]} for i, s in enumerate(SAMPLES)]
    given = score(worker, [ref(path, "ids")], sampled, tokenizer=str(tmp_path / "no-such-tokenizer"))
    assert given["placeholderIds"] is False and given["rewards"][0]["warnings"] == []
    assert given["rewards"][0]["extra"]["ids"] == [[7, 8], [7, 8, 9]]
    some = score(worker, [ref(path, "ids")], [sampled[0], SAMPLES[1]])
    assert some["placeholderIds"] is True, "ids on some samples only: all are tokenized alike"


def test_async_partial_and_instances(worker, tmp_path):
    path = reward_file(tmp_path, """
        import asyncio, functools

        loops = []

        async def async_reward(completions, **kwargs):
            await asyncio.sleep(0)
            loops.append(asyncio.get_running_loop())
            return [float(loops[0] is loops[-1])] * len(completions)  # one loop, as in a GRPOTrainer run

        def scaled(completions, scale, **kwargs):
            return [scale * len(c) for c in completions]

        partial_reward = functools.partial(scaled, scale=0.5)
        async_partial = functools.partial(async_reward)

        class Judge:
            async def __call__(self, completions, **kwargs):
                return [2.0] * len(completions)

        judge = Judge()

        class Counter:
            def __init__(self):
                self.calls = 0

            def __call__(self, completions, **kwargs):
                self.calls += 1
                return [float(self.calls)] * len(completions)
    """)
    assert outcome(worker, path, "async_reward")["values"] == [1.0, 1.0]
    assert outcome(worker, path, "async_reward")["values"] == [1.0, 1.0]
    assert outcome(worker, path, "async_partial")["values"] == [1.0, 1.0]
    assert outcome(worker, path, "partial_reward")["values"] == [2.0, 2.0]
    assert outcome(worker, path, "judge")["values"] == [2.0, 2.0]
    counter = {"name": "Counter", "file": str(path), "attr": "Counter", "instantiate": True}
    first = score(worker, [counter])["rewards"][0]
    second = score(worker, [counter])["rewards"][0]
    assert (first["values"], second["values"]) == ([1.0, 1.0], [2.0, 2.0])  # one instance, as in training


# ---------------------------------------------------------------- return values


def test_return_values(worker, tmp_path):
    path = reward_file(tmp_path, """
        import numpy as np, torch

        def with_none(completions, **kwargs):
            return [None, True]

        def numpy_array(completions, **kwargs):
            return np.array([0.25, 3], dtype=np.float32)

        def numpy_scalars(completions, **kwargs):
            return [np.float64(1.5), np.int64(2)]

        def tensor(completions, **kwargs):
            return torch.tensor([1.0, -1.0])

        def generator(completions, **kwargs):
            return (len(c) for c in completions)
    """)
    assert outcome(worker, path, "with_none")["values"] == [None, 1.0]
    assert outcome(worker, path, "numpy_array")["values"] == [0.25, 3.0]
    assert outcome(worker, path, "numpy_scalars")["values"] == [1.5, 2.0]
    assert outcome(worker, path, "tensor")["values"] == [1.0, -1.0]
    assert outcome(worker, path, "generator")["values"] == [4.0, 4.0]


def test_rejected_return_values(worker, tmp_path):
    path = reward_file(tmp_path, """
        def wrong_length(completions, **kwargs):
            return [1.0]

        def strings(completions, **kwargs):
            return ["1.0", "2.0"]

        def nested(completions, **kwargs):
            return [[1.0], [2.0]]

        def dicts(completions, **kwargs):
            return [{"score": 1.0}] * len(completions)

        def scalar(completions, **kwargs):
            return 1.0

        def infinite(completions, **kwargs):
            return [float("inf"), 1.0]
    """)
    wrong = outcome(worker, path, "wrong_length")
    assert "values" not in wrong
    assert wrong["error"]["type"] == "ValueError"
    assert "returned 1 rewards, but 2 were expected" in wrong["error"]["message"]
    definition = {"file": str(path), "line": line_of(path, "def wrong_length"), "name": "wrong_length"}
    assert wrong["error"]["traceback"] == [definition]  # no frame of the user's: the function's definition
    for attr, shown in [("strings", "str '1.0'"), ("nested", "list [1.0]"), ("dicts", "dict"), ("infinite", "inf")]:
        error = outcome(worker, path, attr)["error"]
        assert error["type"] == "InvalidReturn", attr
        assert f"value 0 is {shown}" in error["message"], error
    assert "GRPOTrainer" in outcome(worker, path, "dicts")["error"]["message"]
    assert "not a list" in outcome(worker, path, "scalar")["error"]["message"]


def test_nan_is_null_with_a_warning(worker, tmp_path):
    path = reward_file(tmp_path, """
        import math
        def nan(completions, log_metric, **kwargs):
            log_metric("nan_metric", math.nan)
            return [math.nan, 0.5]
    """)
    result = outcome(worker, path, "nan")
    assert result["values"] == [None, 0.5]
    assert "NaN at [0]" in result["warnings"][0]
    assert result["metrics"] == {"nan_metric": [None]}


# ---------------------------------------------------------------- errors


def test_exception_traceback_points_to_the_users_line(worker, tmp_path):
    path = reward_file(tmp_path, """
        def helper(c):
            return c.lower()  # raises for conversational completions

        def bad(completions, **kwargs):
            return [float(len(helper(c))) for c in completions]
    """)
    chat = [sample([{"role": "user", "content": "q"}], [{"role": "assistant", "content": "a"}])]
    error = outcome(worker, path, "bad", chat)["error"]
    assert error["type"] == "AttributeError"
    assert "'list' object has no attribute 'lower'" in error["message"]
    frames = error["traceback"]
    assert all(f["file"] == str(path) for f in frames), frames  # no worker (or importlib) frames
    assert [(f["line"], f["name"]) for f in frames][-1] == (line_of(path, "c.lower()"), "helper")
    assert frames[0]["name"] == "bad"


def test_signature_that_cannot_bind(worker, tmp_path):
    path = reward_file(tmp_path, """
        def no_kwargs(completions):
            return [1.0 for _ in completions]

        def one_per_call(completion, **kwargs):
            return [1.0]
    """)
    result = outcome(worker, path, "no_kwargs")
    assert result["signature"]["binds"] is False
    assert "unexpected keyword argument 'prompts'" in result["signature"]["message"]
    assert result["error"]["type"] == "TypeError"
    assert "unexpected keyword argument" in result["error"]["message"]
    assert result["error"]["traceback"][-1]["line"] == line_of(path, "def no_kwargs")
    missing = outcome(worker, path, "one_per_call")
    assert missing["signature"]["binds"] is False and "completion" in missing["signature"]["message"]
    assert missing["error"]["type"] == "TypeError"


def test_import_errors_are_reported_per_reward(worker, tmp_path):
    broken = reward_file(tmp_path, """
        def a(completions, **kwargs):
            return [1.0] * len(completions)

        raise RuntimeError("no GPU here")

        def b(completions, **kwargs):
            return [1.0] * len(completions)
    """)
    syntax = reward_file(tmp_path, "def c(completions, **kwargs):\n    return [1.0 for c in completions\n")
    fine = reward_file(tmp_path, """
        def ok(completions, **kwargs):
            return [0.0] * len(completions)
    """)
    refs = [ref(broken, "a"), ref(broken, "b"), ref(syntax, "c"), ref(fine, "ok"), ref(fine, "missing")]
    rewards = score(worker, refs)["rewards"]
    for result in rewards[:2]:
        assert result["error"]["type"] == "RuntimeError" and result["error"]["message"] == "no GPU here"
        where = {"file": str(broken), "line": line_of(broken, "raise RuntimeError"), "name": "<module>"}
        assert result["error"]["traceback"][-1] == where
        assert "signature" not in result, "nothing to inspect when the module could not be imported"
    assert rewards[2]["error"]["type"] == "SyntaxError"
    assert rewards[2]["error"]["traceback"][-1]["file"] == str(syntax)
    assert rewards[3]["values"] == [0.0, 0.0]
    assert rewards[4]["error"]["type"] == "AttributeError"


# ---------------------------------------------------------------- process hygiene


def test_large_output_and_stdin(worker, tmp_path):
    path = reward_file(tmp_path, """
        import sys
        def loud(completions, **kwargs):
            for _ in range(5 * 1024):
                print("x" * 1023)
            print("done", file=sys.stderr)
            return [1.0] * len(completions)

        def reads_stdin(completions, **kwargs):
            return [float(len(sys.stdin.read()))] * len(completions)
    """)
    before = len(worker.stdout)
    assert outcome(worker, path, "loud")["values"] == [1.0, 1.0]
    assert outcome(worker, path, "reads_stdin")["values"] == [0.0, 0.0]
    assert len(worker.stdout) - before >= 5 * 1024 * 1024


# ---------------------------------------------------------------- imports and reloads


def test_reimport_after_the_file_or_a_helper_changes(worker, tmp_path):
    helper = reward_file(tmp_path, "BONUS = 10.0\n", stem="helper")
    path = reward_file(tmp_path, f"""
        from {helper.stem} import BONUS
        def changing(completions, **kwargs):
            return [1.0 + BONUS] * len(completions)
    """)
    assert outcome(worker, path, "changing", paths=[str(tmp_path)])["values"] == [11.0, 11.0]

    def edit(file, old, new):  # same size, same second: a cached .pyc would look valid
        before = file.stat()
        file.write_text(file.read_text().replace(old, new))
        os.utime(file, ns=(before.st_atime_ns, before.st_mtime_ns + 1))

    edit(path, "1.0 + BONUS", "2.0 + BONUS")
    assert outcome(worker, path, "changing", paths=[str(tmp_path)])["values"] == [12.0, 12.0]
    edit(helper, "10.0", "20.0")
    assert outcome(worker, path, "changing", paths=[str(tmp_path)])["values"] == [22.0, 22.0]


def test_package_modules_get_their_dotted_name(worker, tmp_path):
    package = tmp_path / f"pkg_{next(_stems)}"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "common.py").write_text("WEIGHT = 3.0\n")
    (package / "fmt.py").write_text(textwrap.dedent(f"""
        from {package.name}.common import WEIGHT
        def dotted(completions, **kwargs):
            return [WEIGHT if __name__ == "{package.name}.fmt" else 0.0] * len(completions)
    """))
    assert outcome(worker, package / "fmt.py", "dotted", paths=[str(tmp_path)])["values"] == [3.0, 3.0]
    (tmp_path / "__init__.py").write_text("")  # a workspace root that is itself a package stays the root
    assert outcome(worker, package / "fmt.py", "dotted", paths=[str(tmp_path)])["values"] == [3.0, 3.0]
