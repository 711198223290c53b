export type { Args, Command, Context } from './lib/command.ts';
export { defineCommand } from './lib/command.ts';
export type { EngineRequest } from './lib/engine.ts';
export type { MainOptions } from './lib/main.ts';
export { main, resolveRoot } from './lib/main.ts';
