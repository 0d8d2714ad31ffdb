"""Memory-R1's reward for TRL's GRPOTrainer (`reward_funcs=[memory_r1_reward]`).

The dataset is `memory-r1 export --format trl` (a conversational prompt dataset); TRL hands its extra
columns to reward functions as keyword arguments, so `tuple_id` arrives as one list entry per
completion. All completions of a batch go to the reward server in one request.

    from datasets import load_dataset
    from trl import GRPOConfig, GRPOTrainer
    from trl_reward import memory_r1_reward

    dataset = load_dataset("json", data_files="out/locomo-answer.trl.jsonl", split="train")
    trainer = GRPOTrainer(model="Qwen/Qwen2.5-7B-Instruct", reward_funcs=[memory_r1_reward],
                          args=GRPOConfig(output_dir="grpo-answer"), train_dataset=dataset,
                          peft_config=peft_config)
    trainer.train()
"""

from memory_r1_reward_client import completion_text, score


def memory_r1_reward(completions, tuple_id, **kwargs):
    """One reward per completion: exact match for the answer agent, the frozen agent's for the manager."""
    if len(tuple_id) != len(completions):
        raise ValueError(f"{len(completions)} completions but {len(tuple_id)} tuple ids")
    return score({"tuple_id": t, "completion": completion_text(c)} for t, c in zip(tuple_id, completions))
