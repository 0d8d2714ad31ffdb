// The agents' output shapes, one zod schema each. The TypeScript types and the JSON Schemas handed to
// constrained decoding come from these, and the manager's operation is derived from the bank's own
// OperationSchema so the model is never asked for a shape the bank would refuse.
import { z } from 'zod';
import { OperationSchema } from '../memory';
import type { JsonSchema } from '../llm/chat-model';

/** Fact extraction: short self-contained facts from one turn. */
export const FactsSchema = z.object({ facts: z.array(z.string()) }).strict();
export type Facts = z.infer<typeof FactsSchema>;

const op = OperationSchema.shape;
/**
 * One operation as the manager writes it (Mem0's update format: id, text, event, old_memory). Unlike
 * the bank's input, id and text are required so constrained decoding always produces them; ADD's id is
 * ignored and DELETE/NONE may repeat the memory's text. Length limits are left to the bank (a length
 * bound in the grammar would only make decoding slower).
 */
export const ManagerOperationSchema = z
  .object({
    id: z.string(),
    text: z.string(),
    event: op.event,
    old_memory: z.string().optional(),
  })
  .strict();
export type ManagerOperation = z.infer<typeof ManagerOperationSchema>;

export const ManagerOutputSchema = z.object({ memory: z.array(ManagerOperationSchema) }).strict();
export type ManagerOutput = z.infer<typeof ManagerOutputSchema>;

/** The JSON Schema of a zod schema, as constrained decoding takes it (without the `$schema` tag). */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema) as JsonSchema;
  return rest;
}

export const FACTS_JSON_SCHEMA = jsonSchemaOf(FactsSchema);
export const MANAGER_JSON_SCHEMA = jsonSchemaOf(ManagerOutputSchema);
