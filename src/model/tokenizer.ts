// The tokenizer and chat template of a model folder: `tokenizer.json` run by @huggingface/tokenizers,
// `tokenizer_config.json`'s `chat_template` rendered by @huggingface/jinja.

import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';

export interface ChatMessage {
  role: string;
  content: string;
}

/** End-of-turn tokens of the chat formats we know; any that the vocabulary has are stop tokens. */
const KNOWN_STOP_TOKENS = ['<|im_end|>', '<|endoftext|>', '<|eot_id|>', '<|end_of_text|>', '<|eom_id|>'];

type TokenizerConfig = Record<string, unknown>;

/** A token given in tokenizer_config.json either as a string or as an AddedToken object. */
function tokenText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return null;
}

/** `chat_template` is a string, or a list of named templates of which "default" is used. */
function pickChatTemplate(config: TokenizerConfig): string | null {
  const t = config.chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const named = t as Array<{ name?: unknown; template?: unknown }>;
    const found = named.find((x) => x.name === 'default') ?? named[0];
    return typeof found?.template === 'string' ? found.template : null;
  }
  return null;
}

export class ModelTokenizer {
  private readonly tokenizer: Tokenizer;
  private readonly template: Template | null;
  readonly chatTemplate: string | null;
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  /** Ids that end generation: the config's eos ids, tokenizer_config's eos_token, known end-of-turn tokens. */
  readonly stopIds: number[];

  /**
   * @param tokenizerJson parsed tokenizer.json
   * @param tokenizerConfig parsed tokenizer_config.json ({} when the folder has none)
   * @param extraEosIds eos ids from config.json / mlc-chat-config.json
   */
  constructor(tokenizerJson: unknown, tokenizerConfig: TokenizerConfig = {}, extraEosIds: readonly number[] = [], readonly source = 'tokenizer.json') {
    if (typeof tokenizerJson !== 'object' || tokenizerJson === null || !('model' in tokenizerJson)) {
      throw new Error(`${source}: not a Hugging Face tokenizer.json (no "model" section). Use the tokenizer.json shipped with the model.`);
    }
    try {
      this.tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    } catch (e) {
      throw new Error(`${source}: could not be loaded (${(e as Error).message}). Use the tokenizer.json shipped with the model.`);
    }
    this.chatTemplate = pickChatTemplate(tokenizerConfig);
    this.template = this.chatTemplate === null ? null : new Template(this.chatTemplate);
    this.bosToken = tokenText(tokenizerConfig.bos_token);
    this.eosToken = tokenText(tokenizerConfig.eos_token);
    const stops = new Set(extraEosIds);
    for (const t of [this.eosToken, ...KNOWN_STOP_TOKENS]) {
      const id = t === null ? undefined : this.tokenizer.token_to_id(t);
      if (id !== undefined) stops.add(id);
    }
    this.stopIds = [...stops].sort((a, b) => a - b);
  }

  /**
   * Text → ids. `addSpecialTokens` applies the tokenizer's post-processor (e.g. Llama-3 prepends
   * <|begin_of_text|>); leave it off for text rendered by a chat template, which already has them.
   */
  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? false }).ids;
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return ''; // the library rejects an empty list
    return this.tokenizer.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  /** The vocabulary's string for an id (byte-level form, e.g. "Ġthe"), or undefined when out of range. */
  tokenString(id: number): string | undefined {
    return this.tokenizer.id_to_token(id);
  }

  tokenId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  /** Number of ids the tokenizer knows (the model's vocab_size may be larger, padded). */
  get size(): number {
    return this.tokenizer.get_vocab(true).size;
  }

  get hasChatTemplate(): boolean {
    return this.template !== null;
  }

  /** Renders messages with the chat template (as transformers' apply_chat_template(tokenize=False)). */
  applyChatTemplate(messages: readonly ChatMessage[], options: { addGenerationPrompt?: boolean } = {}): string {
    if (this.template === null) {
      throw new Error(`${this.source}: this model folder has no chat template (tokenizer_config.json has no "chat_template"). Use an instruct/chat model, or add a chat_template to tokenizer_config.json.`);
    }
    return this.template.render({
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      add_generation_prompt: options.addGenerationPrompt ?? false,
      bos_token: this.bosToken ?? '',
      eos_token: this.eosToken ?? '',
    });
  }
}
