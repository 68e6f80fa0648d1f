"""Work in progress: GRPO Studio flags what GRPOTrainer would reject. Try the quick fix."""


def politeness_reward(completions):
    """Rewards answers that end politely (です/ます)."""
    return [1.0 if c.rstrip("。！!😊").endswith(("です", "ます")) else 0.0 for c in completions]


def question_reward(completion, **kwargs):
    """Should receive the list `completions`, not `completion`."""
    return [0.5 if "？" in c else 0.0 for c in completion]
