// `memory-r1 score`: log-probability of each completion token given the prompt, on the GPU engine.
import { parseOptions, requireOption, UsageError, type Command } from '../command';
import { withEngine } from '../engine';

export const score: Command = {
  name: 'score',
  summary: 'log-probability of a completion given a prompt (raw text, optional LoRA adapter)',
  usage: `usage: memory-r1 score --model DIR [--adapter DIR] --prompt TEXT --completion TEXT [--json]

Runs the model (a Hugging Face or MLC folder) on the GPU and prints log p(token | everything before it)
for every token of the completion, and their sum.
  --adapter DIR   a PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors)
  --json          {"tokens": [{"id", "token", "logprob"}], "total"}
The text is raw: no chat template. Prompt and completion are tokenized SEPARATELY and concatenated (so
tokens never merge across the boundary); special tokens appear only where the tokenizer's post-processor
adds them to the prompt (e.g. Llama-3's <|begin_of_text|>). The prompt must give at least one token.
Values starting with '-' need --prompt=VALUE.`,
  async run(argv) {
    const { values } = parseOptions(argv, {
      model: { type: 'string' },
      adapter: { type: 'string' },
      prompt: { type: 'string' },
      completion: { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    const modelDir = requireOption(values.model, '--model');
    if (values.prompt === undefined) throw new UsageError('missing --prompt');
    if (values.completion === undefined) throw new UsageError('missing --completion');
    const { prompt, completion } = values;
    return withEngine(modelDir, values.adapter, async (engine, adapter) => {
      const tok = engine.tokenizer;
      const promptIds = tok.encode(prompt, { addSpecialTokens: true });
      const completionIds = tok.encode(completion);
      if (promptIds.length === 0) throw new UsageError('--prompt gives no tokens; the first token has nothing to be predicted from');
      const logprobs = await engine.score(promptIds, completionIds, adapter);
      const tokens = completionIds.map((id, i) => ({ id, token: tok.tokenString(id) ?? '', logprob: logprobs[i]! }));
      const total = tokens.reduce((s, t) => s + t.logprob, 0);
      if (values.json) console.log(JSON.stringify({ tokens, total }));
      else {
        for (const t of tokens) console.log(`${String(t.id).padStart(7)}  ${t.logprob.toFixed(4).padStart(9)}  ${JSON.stringify(t.token)}`);
        console.log(`total ${total.toFixed(4)} over ${tokens.length} tokens`);
      }
      return 0;
    });
  },
};
