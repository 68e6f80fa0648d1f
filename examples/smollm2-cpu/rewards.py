"""A length reward with partial credit, for SmolLM2 on a CPU (run.yaml)."""


def gentle_length_reward(completions, **kwargs):
    """1.0 at 30 characters, falling linearly to 0 at 300: partial credit that a model answering at
    length can climb. The origin's length_reward, exp(-0.15 * |len - 30|), is about 0 past 60
    characters: no signal for a model that answers in ~180."""
    return [max(0.0, 1.0 - abs(len(c) - 30) / 270) for c in completions]
