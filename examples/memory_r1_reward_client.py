"""Calls `memory-r1 reward-server` from Python, with only the standard library.

Shared by trl_reward.py and verl_reward.py. The server address comes from MEMORY_R1_REWARD_URL
(default http://127.0.0.1:8001/reward). A 503 (the frozen answer agent's model server failed) is
retried with backoff; any other error is raised with the server's message.
"""

import json
import os
import time
import urllib.error
import urllib.request

REWARD_URL = os.environ.get("MEMORY_R1_REWARD_URL", "http://127.0.0.1:8001/reward")
TIMEOUT_S = float(os.environ.get("MEMORY_R1_REWARD_TIMEOUT", "600"))
RETRIES = int(os.environ.get("MEMORY_R1_REWARD_RETRIES", "4"))


def score(items):
    """items: [{"tuple_id": str, "completion": str}, ...] -> one float reward per item, in order."""
    body = json.dumps({"items": list(items)}).encode("utf-8")
    for attempt in range(RETRIES + 1):
        request = urllib.request.Request(REWARD_URL, data=body, headers={"content-type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                return [float(r) for r in json.load(response)["rewards"]]
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")
            if error.code == 503 and attempt < RETRIES:
                time.sleep(2**attempt)
                continue
            raise RuntimeError(f"reward server {REWARD_URL}: HTTP {error.code}: {detail}") from None
        except urllib.error.URLError as error:
            if attempt < RETRIES:
                time.sleep(2**attempt)
                continue
            raise RuntimeError(f"reward server {REWARD_URL} unreachable ({error.reason}); is `memory-r1 reward-server` running?") from None
    raise AssertionError("unreachable")


def completion_text(completion):
    """TRL passes a conversational completion as a list of messages, a standard one as a string."""
    if isinstance(completion, str):
        return completion
    return "".join(m.get("content", "") for m in completion if m.get("role", "assistant") == "assistant")
