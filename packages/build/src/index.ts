export type {
  CommandForm,
  CommandInstruction,
  CopyInstruction,
  Dockerfile,
  FromInstruction,
  HealthcheckInstruction,
  Heredoc,
  Instruction,
  InstructionFlag,
  KeyValueInstruction,
  OnbuildInstruction,
  RunInstruction,
  SourceRange,
  Stage,
  ValueInstruction,
  WordsInstruction,
} from './lib/ast.ts';
export type { BuildOptions, BuildResult, StepResult } from './lib/builder.ts';
export { build } from './lib/builder.ts';
export type { DockerignoreMatcher } from './lib/dockerignore.ts';
export {
  compileDockerignore,
  dockerignoreMatcher,
  isIgnored,
  parseDockerignore,
} from './lib/dockerignore.ts';
export type { BuildErrorReason } from './lib/errors.ts';
export type { ExpandOptions, Variables } from './lib/expand.ts';
export { expand, expandWords } from './lib/expand.ts';
export type { BuildExport } from './lib/output.ts';
export type { ParseInstructionsOptions, ParseOptions } from './lib/parse.ts';
export { parseDockerfile, parseDuration, parseInstructions } from './lib/parse.ts';
export type { BuildEvent } from './lib/session.ts';
