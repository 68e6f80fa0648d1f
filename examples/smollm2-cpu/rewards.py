"""A length reward with partial credit, for SmolLM2 on a CPU (run.yaml)."""


def gentle_length_reward(completions, **kwargs):
    """1.0 at 30 characters, falling linearly to 0 at 300: partial credit that a model answering at
    length can climb. The origin's length_reward, exp(-0.15 * |len - 30|), is about 0 past 60
    characters: no signal for a model that answers in ~180. An empty answer gets 0: without that
    rule a first run learned to answer nothing at all (0.89 for an empty string)."""
    return [max(0.0, 1.0 - abs(len(c.strip()) - 30) / 270) if c.strip() else 0.0 for c in completions]
