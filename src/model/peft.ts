// PEFT LoRA adapters (what `peft` saves with save_pretrained): adapter_config.json + adapter_model.safetensors,
// tensors named base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight [r, in] and ...lora_B.weight
// [out, r]. Parsing checks every tensor against the base model so a mismatched adapter fails with the file,
// the tensor and the reason; writing is the inverse (the trainer's export).

import { parseJsonFile, shapeString, utf8Encode } from './bytes';
import type { ModelConfig } from './config';
import { bf16ArrayToF32, f16ArrayToF32 } from './half';
import { loraDims, type HostLoraAdapter } from './lora';
import type { LoraMatrix, LoraTarget } from './reference';
import { parseSafetensors, safetensorsData, writeSafetensors, type SafetensorsInput, type SafetensorsTensor } from './safetensors';
import { MissingFileError, type ModelSource } from './source';

export const PEFT_CONFIG = 'adapter_config.json';
export const PEFT_WEIGHTS = 'adapter_model.safetensors';

/** The two files of a PEFT adapter folder, as bytes. */
export interface PeftFiles {
  config: Uint8Array;
  weights: Uint8Array;
}

export function isPeftFiles(x: unknown): x is PeftFiles {
  return typeof x === 'object' && x !== null && (x as PeftFiles).config instanceof Uint8Array && (x as PeftFiles).weights instanceof Uint8Array;
}

/** PEFT module name of each target, and its parent block. */
export const PEFT_MODULES: Record<LoraTarget, string> = {
  q: 'self_attn.q_proj',
  k: 'self_attn.k_proj',
  v: 'self_attn.v_proj',
  o: 'self_attn.o_proj',
  gate: 'mlp.gate_proj',
  up: 'mlp.up_proj',
  down: 'mlp.down_proj',
};
const TARGET_OF = new Map(Object.entries(PEFT_MODULES).map(([t, m]) => [m.split('.')[1]!, t as LoraTarget]));

export const peftTensorName = (layer: number, target: LoraTarget, which: 'A' | 'B'): string =>
  `base_model.model.model.layers.${layer}.${PEFT_MODULES[target]}.lora_${which}.weight`;

/** Reads adapter_config.json and adapter_model.safetensors from a folder, naming a missing file. */
export async function readPeftFiles(source: ModelSource): Promise<PeftFiles> {
  const read = async (path: string): Promise<Uint8Array> => {
    try {
      return await source.read(path);
    } catch (e) {
      if (!(e instanceof MissingFileError)) throw e;
      const bin = path === PEFT_WEIGHTS && (await source.exists('adapter_model.bin'));
      throw new Error(
        `${path}: missing from ${source.name}. A PEFT LoRA adapter folder needs ${PEFT_CONFIG} and ${PEFT_WEIGHTS}` +
          (bin ? '; this one has adapter_model.bin (a pickle): re-save it with save_pretrained(..., safe_serialization=True).' : ' (what peft\'s save_pretrained writes).'),
      );
    }
  };
  return { config: await read(PEFT_CONFIG), weights: await read(PEFT_WEIGHTS) };
}

interface PeftConfig {
  r: number;
  alpha: number;
  dropout: number;
  rslora: boolean;
  targets: Set<LoraTarget>;
  baseModel: string | undefined;
}

function parsePeftConfig(json: unknown): PeftConfig {
  const fail = (msg: string): never => {
    throw new Error(`${PEFT_CONFIG}: ${msg}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('not a JSON object. Use the adapter_config.json peft wrote next to the adapter.');
  const o = json as Record<string, unknown>;
  if (o.peft_type !== undefined && o.peft_type !== 'LORA') fail(`field "peft_type" is ${JSON.stringify(o.peft_type)}; only LORA adapters are supported.`);
  const r = o.r;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 1) fail(`field "r" must be a positive integer, got ${JSON.stringify(r)}.`);
  const alpha = o.lora_alpha ?? 8; // peft's default
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) fail(`field "lora_alpha" must be a number, got ${JSON.stringify(alpha)}.`);
  const dropout = o.lora_dropout ?? 0;
  if (typeof dropout !== 'number' || dropout < 0 || dropout >= 1) fail(`field "lora_dropout" must be in [0, 1), got ${JSON.stringify(dropout)}.`);
  if (o.use_dora === true) fail('field "use_dora" is true; DoRA adapters are not supported. Train a plain LoRA adapter.');
  if (o.fan_in_fan_out === true) fail('field "fan_in_fan_out" is true, which applies to GPT-2-style Conv1D layers only; Qwen2 / Llama adapters have it false.');
  for (const field of ['rank_pattern', 'alpha_pattern'] as const) {
    const p = o[field];
    if (p && typeof p === 'object' && Object.keys(p).length > 0) fail(`field "${field}" gives per-module ranks / alphas, which are not supported. Train with one r and lora_alpha for all modules.`);
  }
  const save = o.modules_to_save;
  if (Array.isArray(save) && save.length > 0) fail(`field "modules_to_save" lists ${JSON.stringify(save)}: fully trained modules are not supported, only LoRA matrices.`);
  const targets = new Set<LoraTarget>();
  const modules = o.target_modules;
  if (Array.isArray(modules)) {
    for (const m of modules) {
      const target = typeof m === 'string' ? TARGET_OF.get(m.split('.').pop()!) : undefined;
      if (!target) fail(`field "target_modules" has ${JSON.stringify(m)}; supported: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj.`);
      targets.add(target!);
    }
  } else if (modules !== undefined && typeof modules !== 'string') {
    fail('field "target_modules" must be a list of module names (or a regex string).');
  } // a regex string: the tensors present decide.
  const base = o.base_model_name_or_path;
  return { r: r as number, alpha: alpha as number, dropout: dropout as number, rslora: o.use_rslora === true, targets, baseModel: typeof base === 'string' ? base : undefined };
}

function tensorValues(t: SafetensorsTensor): Float32Array {
  const data = safetensorsData(t);
  if (t.dtype === 'F32') return data as Float32Array;
  if (t.dtype === 'F16') return f16ArrayToF32(data as Uint16Array);
  if (t.dtype === 'BF16') return bf16ArrayToF32(data as Uint16Array);
  throw new Error(`${PEFT_WEIGHTS}: ${t.name} has dtype ${t.dtype}; LoRA weights must be F32, F16 or BF16.`);
}

const NAME = /^base_model\.model\.model\.layers\.(\d+)\.(self_attn|mlp)\.(\w+)\.lora_([AB])(?:\.[\w-]+)?\.weight$/;

/** Parses and validates a PEFT adapter against the base model's config. */
export function parsePeftAdapter(files: PeftFiles, c: ModelConfig): HostLoraAdapter {
  const cfg = parsePeftConfig(parseJsonFile(files.config, PEFT_CONFIG));
  const { tensors } = parseSafetensors(files.weights, PEFT_WEIGHTS);
  const other = 'this adapter was trained for another base model; use an adapter made for this one';
  const fail = (name: string, msg: string): never => {
    throw new Error(`${PEFT_WEIGHTS}: ${name} ${msg}`);
  };
  const found = new Map<string, { A?: Float32Array; B?: Float32Array; name: string }>();
  for (const [name, t] of tensors) {
    const m = NAME.exec(name);
    const target = m ? TARGET_OF.get(m[3]!) : undefined;
    if (!m || !target || PEFT_MODULES[target] !== `${m[2]}.${m[3]}`) {
      fail(name, 'is not a LoRA matrix of q/k/v/o_proj or gate/up/down_proj; only those are supported (no embedding, lm_head, bias or modules_to_save tensors).');
    }
    const layer = Number(m![1]);
    const which = m![4] as 'A' | 'B';
    const module = m![3]!;
    if (layer >= c.numLayers) fail(name, `belongs to layer ${layer}, but the base model has ${c.numLayers} layers: ${other}.`);
    if (cfg.targets.size > 0 && !cfg.targets.has(target!)) fail(name, `is for ${module}, which ${PEFT_CONFIG}'s target_modules does not list; the two files do not belong together.`);
    const d = loraDims(c, target!);
    const [rows, cols] = t.shape;
    if (t.shape.length !== 2) fail(name, `has shape ${shapeString(t.shape)}; LoRA matrices are 2-D.`);
    if (which === 'A') {
      if (cols !== d.in) fail(name, `has shape ${shapeString(t.shape)}, the base model's ${module} takes ${d.in} inputs: ${other}.`);
      if (rows !== cfg.r) fail(name, `has shape ${shapeString(t.shape)}, but ${PEFT_CONFIG} says r = ${cfg.r} (expected [${cfg.r}, ${d.in}]); the two files do not belong together.`);
    } else {
      if (rows !== d.out) fail(name, `has shape ${shapeString(t.shape)}, the base model's ${module} has ${d.out} outputs: ${other}.`);
      if (cols !== cfg.r) fail(name, `has shape ${shapeString(t.shape)}, but ${PEFT_CONFIG} says r = ${cfg.r} (expected [${d.out}, ${cfg.r}]); the two files do not belong together.`);
    }
    const key = `${layer}.${target}`;
    const entry = found.get(key) ?? { name };
    entry[which] = tensorValues(t);
    found.set(key, entry);
  }
  if (found.size === 0) throw new Error(`${PEFT_WEIGHTS}: no LoRA tensors (base_model.model.model.layers.N.….lora_A.weight). Is this a PEFT LoRA adapter?`);
  const layers: Array<Partial<Record<LoraTarget, LoraMatrix>>> = Array.from({ length: c.numLayers }, () => ({}));
  for (const [key, e] of found) {
    const [layer, target] = key.split('.') as [string, LoraTarget];
    if (!e.A || !e.B) fail(e.name, `has no matching lora_${e.A ? 'B' : 'A'} tensor; the file is incomplete. Re-export the adapter.`);
    layers[Number(layer)]![target] = { a: e.A!, b: e.B! };
  }
  return {
    rank: cfg.r,
    alpha: cfg.alpha,
    scale: cfg.rslora ? cfg.alpha / Math.sqrt(cfg.r) : cfg.alpha / cfg.r,
    dropout: cfg.dropout,
    layers,
    ...(cfg.baseModel !== undefined ? { baseModel: cfg.baseModel } : {}),
  };
}

/** Writes a PEFT adapter folder's two files (F32 tensors). rsLoRA is recorded when scale = alpha/√r. */
export function writePeftAdapter(adapter: HostLoraAdapter, c: ModelConfig, options: { baseModel?: string } = {}): Map<string, Uint8Array> {
  const r = adapter.rank;
  const scale = adapter.scale ?? adapter.alpha / r;
  const rslora = Math.abs(scale - adapter.alpha / r) > 1e-9 * Math.abs(scale);
  if (rslora && Math.abs(scale - adapter.alpha / Math.sqrt(r)) > 1e-9 * Math.abs(scale)) {
    throw new Error(`writePeftAdapter: scale ${scale} is neither alpha/r nor alpha/√r; PEFT cannot express it`);
  }
  const tensors: SafetensorsInput[] = [];
  const targets = new Set<LoraTarget>();
  adapter.layers.forEach((layer, i) => {
    for (const [target, m] of Object.entries(layer) as Array<[LoraTarget, LoraMatrix]>) {
      const d = loraDims(c, target);
      targets.add(target);
      tensors.push({ name: peftTensorName(i, target, 'A'), dtype: 'F32', shape: [r, d.in], data: Float32Array.from(m.a) });
      tensors.push({ name: peftTensorName(i, target, 'B'), dtype: 'F32', shape: [d.out, r], data: Float32Array.from(m.b) });
    }
  });
  const config = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: options.baseModel ?? adapter.baseModel ?? null,
    r,
    lora_alpha: adapter.alpha,
    lora_dropout: adapter.dropout ?? 0,
    use_rslora: rslora,
    target_modules: [...targets].map((t) => PEFT_MODULES[t].split('.')[1]!),
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
  };
  return new Map([
    [PEFT_CONFIG, utf8Encode(JSON.stringify(config, null, 2) + '\n')],
    [PEFT_WEIGHTS, writeSafetensors(tensors, { format: 'pt' })],
  ]);
}
