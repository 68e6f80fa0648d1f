"""GRPO on Japanese QA prompts with the emoji and length rewards (TRL GRPOTrainer)."""

from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

from rewards import emoji_reward, length_reward

QUESTIONS = [
    "富士山の高さは？",
    "日本の首都はどこ？",
    "桜が咲くのはいつ頃？",
    "寿司の代表的なネタを一つ教えて。",
]


def main():
    dataset = Dataset.from_list([{"prompt": q} for q in QUESTIONS])
    args = GRPOConfig(
        output_dir="runs/emoji-length",
        num_generations=8,
        temperature=0.9,
        max_completion_length=256,
        learning_rate=1e-6,
        beta=0.04,
        use_vllm=False,
    )
    trainer = GRPOTrainer(
        model="SakanaAI/TinySwallow-1.5B-Instruct",
        reward_funcs=[emoji_reward, length_reward],
        args=args,
        train_dataset=dataset,
    )
    trainer.train()


if __name__ == "__main__":
    main()
