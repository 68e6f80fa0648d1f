"""The extension's GRPO advantage math (src/scoring/advantages.ts) against TRL's own code.

TRL computes advantages inline in GRPOTrainer._generate_and_score_completions. This test takes
that block from the installed TRL's source (from the unscorable mask to nan_to_num) and runs it, in float64
with TRL's own `nanstd`, on random reward matrices with NaNs, for every combination of
multi_objective_aggregation and scale_rewards; the TypeScript results must agree to 1e-6.
"""

import inspect
import json
import subprocess
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from conftest import REPO_ROOT
from trl import GRPOTrainer
from trl.trainer.utils import nanstd

HELPER = REPO_ROOT / "out" / "fidelity" / "advantages_cli.js"


def trl_advantage_block():
    source = inspect.getsource(GRPOTrainer._generate_and_score_completions)
    start = source.index("unscorable_mask = ")
    end = source.index("advantages = torch.nan_to_num(advantages, nan=0.0)")
    end = source.index("\n", end)
    block = source[source.rfind("\n", 0, start) + 1 : end]
    return compile(textwrap.dedent(block), "<trl advantages>", "exec")


def trl_advantages(rewards, num_generations, weights, scale_rewards, aggregation):
    self = SimpleNamespace(
        multi_objective_aggregation=aggregation,
        scale_rewards=scale_rewards,
        reward_weights=torch.tensor(weights, dtype=torch.float64),
        reward_funcs=[None] * len(weights),
    )
    scope = {
        "self": self,
        "torch": torch,
        "nanstd": nanstd,
        "device": "cpu",
        "rewards_per_func": torch.tensor(rewards, dtype=torch.float64),
        "num_generations": num_generations,
    }
    exec(trl_advantage_block(), scope)
    return scope["advantages"].tolist(), scope["rewards"].tolist()


def random_cases(seed):
    generator = torch.Generator().manual_seed(seed)
    cases = []
    for aggregation in ("sum_then_normalize", "normalize_then_sum"):
        for scale_rewards in ("group", "batch", "none"):
            for _ in range(8):
                groups = int(torch.randint(1, 5, (1,), generator=generator))
                size = int(torch.randint(2, 7, (1,), generator=generator))
                functions = int(torch.randint(1, 4, (1,), generator=generator))
                matrix = torch.randn(groups * size, functions, generator=generator) * 3
                matrix[torch.rand(matrix.shape, generator=generator) < 0.2] = float("nan")
                if groups > 1:  # a group where every function returns the same value: zero std
                    matrix[:size] = torch.round(matrix[0:1].nan_to_num(1.0))
                weights = (torch.rand(functions, generator=generator) * 2).tolist()
                rewards = [[None if v != v else v for v in row] for row in matrix.tolist()]
                cases.append(
                    {
                        "rewards": rewards,
                        "groupSizes": [size] * groups,
                        "options": {"weights": weights, "scaleRewards": scale_rewards, "aggregation": aggregation},
                    }
                )
    return cases


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_typescript_advantages_match_trl(seed):
    assert HELPER.exists(), "run `node scripts/test.mjs python` (it builds out/fidelity/advantages_cli.js)"
    cases = random_cases(seed)
    result = subprocess.run(
        ["node", str(HELPER)], input=json.dumps({"cases": cases}), capture_output=True, text=True, check=True
    )
    ours = json.loads(result.stdout)
    for case, mine in zip(cases, ours, strict=True):
        options = case["options"]
        matrix = [[float("nan") if v is None else v for v in row] for row in case["rewards"]]
        advantages, totals = trl_advantages(
            matrix, case["groupSizes"][0], options["weights"], options["scaleRewards"], options["aggregation"]
        )
        assert mine["advantages"] == pytest.approx(advantages, abs=1e-6, rel=1e-5), options
        if options["aggregation"] == "sum_then_normalize":
            expected_totals = [None if t != t else t for t in totals]
            assert [t is None for t in mine["totals"]] == [t is None for t in expected_totals]
            assert [t for t in mine["totals"] if t is not None] == pytest.approx(
                [t for t in expected_totals if t is not None], abs=1e-5
            )
