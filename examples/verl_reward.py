"""Memory-R1's reward for verl (`custom_reward_function.path=examples/verl_reward.py`).

The dataset is `memory-r1 export --format verl` (Parquet with data_source, prompt, ability,
reward_model, extra_info); each row's extra_info.tuple_id names the tuple the reward server scores.

- With verl's default (naive) reward manager: `custom_reward_function.name=compute_score`, one request
  per response.
- With `reward_model.reward_manager=batch`: `custom_reward_function.name=compute_score_batch`, one
  request per batch (what the manager's reward, which asks a model, wants).
"""

from memory_r1_reward_client import score


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    if not extra_info or "tuple_id" not in extra_info:
        raise ValueError(f"{data_source}: the row has no extra_info.tuple_id; export it with `memory-r1 export --format verl`")
    return score([{"tuple_id": extra_info["tuple_id"], "completion": solution_str}])[0]


def compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos, **kwargs):
    return score({"tuple_id": info["tuple_id"], "completion": text} for info, text in zip(extra_infos, solution_strs))
