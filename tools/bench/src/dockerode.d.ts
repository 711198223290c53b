// The few parts of dockerode 5 the engine benchmark calls (it ships no types of its own; the
// DefinitelyTyped ones describe version 4).
declare module 'dockerode' {
  import type { Readable } from 'node:stream';

  interface Container {
    id: string;
    start(): Promise<unknown>;
    wait(): Promise<{ StatusCode: number }>;
    remove(options?: { force?: boolean }): Promise<unknown>;
  }

  class Docker {
    constructor(options: { socketPath: string });
    createContainer(options: {
      Image: string;
      Cmd: string[];
      HostConfig?: { NetworkMode?: string };
    }): Promise<Container>;
    pull(ref: string): Promise<Readable>;
    modem: {
      followProgress(
        stream: Readable,
        onFinished: (err: Error | null, output: { error?: string }[]) => void,
      ): void;
    };
  }

  export default Docker;
}
