// The agents: fact extraction, Memory Manager, Answer Agent, the chat's reply agent, and the pipeline over them.
export * from './dates';
export * from './schemas';
export * from './prompts';
export { findJson, type JsonFound } from './parse-json';
export { memoryDate, viewMemories, type MemoryView } from './memory-view';
export * from './extract';
export * from './manager';
export * from './answer';
export * from './reply';
export * from './pipeline';
