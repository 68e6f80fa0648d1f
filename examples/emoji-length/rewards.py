"""Reward functions of the origin experiment: answer in Japanese with a few emoji, near 30 characters."""

import math

import emoji


def emoji_reward(completions, **kwargs):
    """Number of emoji in the answer, capped at 4."""
    return [float(min(emoji.emoji_count(c), 4)) for c in completions]


def length_reward(completions, **kwargs):
    """1.0 at exactly 30 characters, decaying with the distance (Python len: code points)."""
    return [math.exp(-0.15 * abs(len(c) - 30)) for c in completions]
