"""Verdicts for TRL's experimental AsyncGRPOTrainer, proven on its own scoring code: each reward must
pickle (the trainer hands `reward_funcs` to a spawned child process, where the real
`_AsyncRolloutLoop._score_group` calls them), and that method's call must succeed. "TRL raised"
must equal "the check reports an error" for every reward in test/fixtures/async-verdicts."""

from __future__ import annotations

import asyncio
import os
import pickle
import types

import pytest
from conftest import REPO_ROOT
from test_verdicts import GROUPS, callable_name, cli_report, load_fixture, match_entry

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
FIXTURE = REPO_ROOT / "test" / "fixtures" / "async-verdicts" / "async_trainer.py"


def score_group(obj):
    """One group scored by the installed TRL's AsyncGRPOTrainer rollout loop, after the pickling its spawn needs."""
    from trl.experimental.async_grpo.async_rollout_worker import RolloutGroup, _AsyncRolloutLoop

    pickle.loads(pickle.dumps(obj))
    question, answer, texts = GROUPS[0]
    n = len(texts)
    group = RolloutGroup(
        prompts=[[{"role": "user", "content": question}]] * n,
        reward_kwargs={"answer": [answer] * n},
        completions=list(texts),
        completions_ids=[[1, 2, 3]] * n,
        completions_sequences=[[] for _ in texts],
        tool_call_counts=[0] * n,
        tool_failure_counts=[0] * n,
        model_version=0,
        group_id=0,
        env_rewards=[None] * n,
        rollout_rewards=[None] * n,
    )
    loop = types.SimpleNamespace(reward_funcs=[obj], reward_func_names=[callable_name(obj)], _env_reward_types=[], _provides_rollout_reward=False)
    return asyncio.run(_AsyncRolloutLoop._score_group(loop, group))


@pytest.mark.parametrize("index", range(len(load_fixture(FIXTURE).reward_funcs)))
def test_the_verdict_is_what_the_async_trainer_does(grpo_trainer, index):
    """`grpo_trainer` only for accelerate's state, which the rollout loop's logger needs."""
    obj = load_fixture(FIXTURE).reward_funcs[index]
    candidates, described = match_entry(cli_report(FIXTURE), obj)
    assert len(candidates) == 1, f"expected one CLI entry for {described}: {candidates}"
    errors = [p for p in candidates[0]["problems"] if p["severity"] == "error"]
    try:
        score_group(obj)
        raised = None
    except Exception as exc:  # noqa: BLE001 - any exception is the trainer's verdict
        raised = exc
    if raised is not None:
        assert errors, f"AsyncGRPOTrainer raised {raised!r} but the check reports no error for {described}"
    else:
        assert not errors, f"the check reports errors for {described}, which AsyncGRPOTrainer called fine: {errors}"
