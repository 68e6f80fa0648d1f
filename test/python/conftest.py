"""Shared fixtures: the tiny offline model and a real trl.GRPOTrainer built on it."""

import os

# Nothing here may reach a hub; set before transformers / datasets are imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import pytest  # noqa: E402

from tiny_model import REPO_ROOT, ensure_tiny_model  # noqa: E402

__all__ = ["REPO_ROOT", "build_trainer"]


def pytest_configure(config):
    # transformers' own deprecation notices (raised inside Trainer), not about code under test.
    config.addinivalue_line("filterwarnings", "ignore::FutureWarning:transformers")


def build_trainer(output_dir, dataset, reward_funcs, **config):
    """A GRPOTrainer on the tiny model, on CPU, with no logging backends."""
    from trl import GRPOConfig, GRPOTrainer

    args = GRPOConfig(
        output_dir=str(output_dir),
        report_to=[],
        use_cpu=True,
        bf16=False,
        num_generations=2,
        per_device_train_batch_size=2,
        max_completion_length=8,
        max_steps=1,
        save_strategy="no",
        logging_steps=1,
        disable_tqdm=True,
        seed=0,
        **config,
    )
    model_dir = ensure_tiny_model()
    return GRPOTrainer(model=str(model_dir), reward_funcs=reward_funcs, args=args, train_dataset=dataset)


def _placeholder_reward(completions, **kwargs):
    return [0.0 for _ in completions]


async def _async_placeholder_reward(completions, **kwargs):
    return [0.0 for _ in completions]


@pytest.fixture(scope="session")
def session_grpo_trainer(tmp_path_factory):
    """One real GRPOTrainer for the whole session; tests swap its reward functions.

    It is built with an async reward function among its reward_funcs so that GRPOTrainer.__init__
    itself starts the event loop (start_event_loop_in_daemon) that async rewards are awaited on.
    """
    from datasets import Dataset

    dataset = Dataset.from_dict({"prompt": ["What is 2 + 2?", "日本の首都は? 😊"]})
    trainer = build_trainer(
        tmp_path_factory.mktemp("grpo"), dataset, [_placeholder_reward, _async_placeholder_reward]
    )
    assert getattr(trainer, "async_loop", None) is not None, "GRPOTrainer did not start its async event loop"
    return trainer


@pytest.fixture
def grpo_trainer(session_grpo_trainer):
    """The session's trainer, its accelerator state alive again if a GRPOConfig built since has reset it.

    Every TrainingArguments.__post_init__ clears accelerate's shared state, so a test that merely
    builds a config (test_runner's example configs) would leave the session trainer without a device.
    """
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState

    if not AcceleratorState._shared_state:
        Accelerator(cpu=True)
    return session_grpo_trainer
