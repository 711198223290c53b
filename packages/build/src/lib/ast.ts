/**
 * A parsed Dockerfile: what the parser gives and the builder runs. Words keep their `$VAR`
 * references unexpanded (expansion needs the build's ARG/ENV state at that step); `source` keeps the
 * instruction as written, for errors and history.
 */

/** Where an instruction is in the Dockerfile (1-based lines, the first and last of a continued one). */
export interface SourceRange {
  /** Its first line. */
  startLine: number;
  /** Its last line (after continuations and heredocs). */
  endLine: number;
}

/** A `--name=value` flag of an instruction (`--from=build`, `--chown=1:1`, `--mount=type=cache,target=/x`). */
export interface InstructionFlag {
  /** Its name without dashes. */
  name: string;
  /** Its value, unexpanded; `true` for a bare `--link`. */
  value: string | true;
}

/** A heredoc body (`<<EOF`, `<<-EOF`, `<<"EOF"`). */
export interface Heredoc {
  /** The delimiter word. */
  name: string;
  /** Its body, lines joined with `\n` and ending with one (leading tabs already stripped for `<<-`). */
  content: string;
  /** False when the delimiter was quoted: the body is not expanded. */
  expand: boolean;
}

/** A command in shell form (`RUN make`) or exec form (`RUN ["make"]`). */
export type CommandForm =
  | {
      /** Shell form: run with the stage's `SHELL`. */
      form: 'shell';
      /** The text after the instruction and its flags, continuations joined. */
      text: string;
    }
  | {
      /** Exec form: a JSON array of strings. */
      form: 'exec';
      /** The argv. */
      args: string[];
    };

/** What every instruction has. */
interface Base {
  /** The instruction as written (continuations joined), for history and errors. */
  source: string;
  /** Where it is. */
  range: SourceRange;
  /** Its flags, in order. */
  flags: InstructionFlag[];
}

/** `FROM [--platform=P] IMAGE [AS NAME]`. */
export interface FromInstruction extends Base {
  kind: 'FROM';
  /** The image, stage name or `scratch`, unexpanded (global ARGs expand it). */
  image: string;
  /** The stage's name (`AS name`), lowercased. */
  alias?: string | undefined;
}

/** `RUN [--mount=…] [--network=…] command`, with any heredocs. */
export interface RunInstruction extends Base {
  kind: 'RUN';
  /** The command. */
  command: CommandForm;
  /** Heredocs the command reads (`RUN <<EOF` runs the first as a script). */
  heredocs: Heredoc[];
}

/** `COPY`/`ADD [--from] [--chown] [--chmod] SRC… DEST`, sources possibly heredocs. */
export interface CopyInstruction extends Base {
  kind: 'COPY' | 'ADD';
  /** The sources, unexpanded (paths, globs; URLs for ADD). */
  sources: string[];
  /** The destination, unexpanded. */
  destination: string;
  /** Inline files (`COPY <<EOF /dest`). */
  heredocs: Heredoc[];
}

/** `ENV K=V …` (or the legacy `ENV K V`), `LABEL K=V …`, `ARG K[=V] …`. */
export interface KeyValueInstruction extends Base {
  kind: 'ENV' | 'LABEL' | 'ARG';
  /**
   * The pairs as written: keys and values unexpanded and still quoted (`K2="v 2"` gives the value
   * `"v 2"`; the legacy `ENV K v w` gives `v w`). `expand()` removes the quotes while it expands, as
   * BuildKit does, so `'$HOME'` stays literal. An ARG without a default has no value.
   */
  pairs: { key: string; value?: string | undefined }[];
}

/** `CMD`, `ENTRYPOINT`, `SHELL` (exec form only for SHELL). */
export interface CommandInstruction extends Base {
  kind: 'CMD' | 'ENTRYPOINT' | 'SHELL';
  /** The command. */
  command: CommandForm;
}

/** Instructions with a list of words: `EXPOSE 80/tcp 53/udp`, `VOLUME /a /b` (or a JSON array). */
export interface WordsInstruction extends Base {
  kind: 'EXPOSE' | 'VOLUME';
  /** The words, unexpanded. */
  words: string[];
}

/** Instructions with one argument: `WORKDIR`, `USER`, `STOPSIGNAL`, `MAINTAINER`. */
export interface ValueInstruction extends Base {
  kind: 'WORKDIR' | 'USER' | 'STOPSIGNAL' | 'MAINTAINER';
  /** The argument, unexpanded. */
  value: string;
}

/** `HEALTHCHECK NONE` or `HEALTHCHECK [--interval…] CMD command`. */
export interface HealthcheckInstruction extends Base {
  kind: 'HEALTHCHECK';
  /** Absent for `NONE`. */
  command?: CommandForm | undefined;
}

/** `ONBUILD INSTRUCTION`: recorded in the image config, triggered when the image is a base. */
export interface OnbuildInstruction extends Base {
  kind: 'ONBUILD';
  /** The trigger as written (`RUN make`), stored in the config's `OnBuild`. */
  trigger: string;
}

/** One instruction of a stage. */
export type Instruction =
  | RunInstruction
  | CopyInstruction
  | KeyValueInstruction
  | CommandInstruction
  | WordsInstruction
  | ValueInstruction
  | HealthcheckInstruction
  | OnbuildInstruction;

/** One stage: a FROM and what follows it up to the next FROM. */
export interface Stage {
  /** Its position, from 0. */
  index: number;
  /** Its FROM. */
  from: FromInstruction;
  /** The rest. */
  instructions: Instruction[];
}

/** A parsed Dockerfile. */
export interface Dockerfile {
  /** Parser directives at the top (`# syntax=…`, `# escape=…`, `# check=…`), lowercased keys. */
  directives: Record<string, string>;
  /** The escape character (`\` or `` ` ``). */
  escape: '\\' | '`';
  /** ARGs before the first FROM (they expand FROM lines only, unless redeclared in a stage). */
  globalArgs: KeyValueInstruction[];
  /** The stages, in order. */
  stages: Stage[];
}
