import { join } from 'node:path';
import type {
  ContainerSpec,
  ContainerSummary,
  Handlers,
  OutputChunk,
  RunOptions,
  RunResult,
} from '@ocikit/engine';
import { isNotFound, throwIfAborted } from '@ocikit/errors';
import { signalNumber } from '@ocikit/shim';
import { relayAttach } from './attach-relay.ts';
import { createContainer } from './container-create.ts';
import { localError, standard } from './container-errors.ts';
import { containerEvent, recordDie } from './container-events.ts';
import { removeContainer, sweepAbandoned } from './container-remove.ts';
import { runContainer } from './container-run.ts';
import { containerSizes } from './container-size.ts';
import { containersOf, getContainer, snapshotterOf } from './container-store.ts';
import { toDetails, toSummary } from './container-view.ts';
import type { LocalContext } from './context.ts';
import { execInContainer } from './exec.ts';
import { detachNetworks, readNetworkState, sweepNetworks } from './network.ts';
import { detailsMounts } from './volume-store.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The container operations of the local engine: records, bundles and logs under `ROOT/containers`,
 * containers run by runc or crun, supervised by conmon when detached (decision 100) and by the
 * calling process in a one-step foreground `containers.run`.
 */
export function containerHandlers(ctx: LocalContext): Partial<Handlers> {
  const containers = containersOf(ctx);
  const event = (action: string, record: { id: string; name: string; image: string }, more = {}) =>
    containerEvent(ctx, action, record, more);

  const handlers: Partial<Handlers> = {
    async 'containers.create'(spec, options) {
      const record = await createContainer(ctx, spec, options);
      return { id: record.id, warnings: [] };
    },

    async 'containers.start'(id) {
      const record = await getContainer(ctx, id, 'containers.start');
      // as Docker: starting a running container does nothing
      if (record.status === 'running' || record.status === 'paused') return;
      if (record.status !== 'created')
        throw localError(
          'container-not-running',
          'containers.start',
          `container ${record.name} is ${record.status}; only a created container can start`,
          { details: { name: record.name, status: record.status } },
        );
      await standard('containers.start', () => containers.start(record.id));
      await event('start', record);
    },

    async 'containers.wait'(id, options) {
      const { signal } = options;
      if (options.condition === 'removed') {
        for (;;) {
          throwIfAborted(signal);
          let record: Awaited<ReturnType<typeof containers.get>>;
          try {
            record = await containers.get(id);
          } catch (e) {
            if (isNotFound(e)) return -1;
            throw e;
          }
          // an exited container that nobody removes keeps this waiting, as Docker's
          if (record.status === 'exited' && containers.abandoned(record))
            await removeContainer(ctx, record.id, { force: true, operation: 'containers.wait' }).catch(
              () => {},
            );
          await sleep(100);
        }
      }
      const record = await getContainer(ctx, id, 'containers.wait');
      if (record.status === 'configured')
        throw localError(
          'container-not-running',
          'containers.wait',
          `container ${record.name} was never created`,
        );
      const code = await standard('containers.wait', () =>
        containers.wait(record.id, signal ? { signal } : {}),
      );
      await recordDie(ctx, { ...record, status: 'exited' }, code);
      return code ?? -1;
    },

    async *'containers.logs'(id, options) {
      const record = await getContainer(ctx, id, 'containers.logs');
      const wantOut = options.stdout !== false;
      const wantErr = options.stderr !== false;
      for await (const line of containers.logs(record.id, {
        ...(options.follow ? { follow: true } : {}),
        ...(options.tail !== undefined ? { tail: options.tail } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      })) {
        if (line.stream === 'stdout' ? !wantOut : !wantErr) continue;
        yield {
          stream: line.stream,
          data: Buffer.from(line.partial ? line.text : `${line.text}\n`),
          ...(options.timestamps ? { time: line.time } : {}),
        };
      }
    },

    async 'containers.attach'(id, options) {
      const record = await getContainer(ctx, id, 'containers.attach');
      if (record.status !== 'running' && record.status !== 'created')
        throw localError(
          'container-not-running',
          'containers.attach',
          `container ${record.name} is ${record.status}; only a created or running detached container can be attached to`,
          { details: { name: record.name, status: record.status } },
        );
      if (!record.attachDir)
        throw localError(
          'container-not-running',
          'containers.attach',
          `container ${record.name} runs in the foreground of another process; only a detached one can be attached to`,
          { details: { name: record.name } },
        );
      const before: OutputChunk[] = [];
      if (options.logs) {
        for await (const line of containers.logs(record.id))
          before.push({
            stream: line.stream,
            data: Buffer.from(line.partial ? line.text : `${line.text}\n`),
          });
      }
      return relayAttach(join(record.attachDir, record.id.slice(0, 12), 'attach'), {
        stdin: options.stdin === true && record.interactive,
        before,
        resize: (size) => handlers['containers.resize']?.(record.id, size, {}) ?? Promise.resolve(),
        signal: options.signal,
      });
    },

    'containers.exec'(id, spec, options) {
      return execInContainer(ctx, id, spec, options);
    },

    async 'containers.inspect'(id) {
      const record = await getContainer(ctx, id, 'containers.inspect');
      return { ...toDetails(record, readNetworkState(ctx, record.id)), mounts: detailsMounts(ctx, record) };
    },

    async 'containers.list'(options) {
      const records = await sweepAbandoned(ctx, await standard('containers.list', () => containers.list()));
      // attachments of containers a killed ocikit or monitor left behind; the network records as the
      // sweep leaves them, so each is read once
      const states = await sweepNetworks(ctx, records, (id) => containers.get(id).catch(() => undefined));
      const now = Date.now();
      const listed = records
        .filter((r) => options.all || r.status === 'running' || r.status === 'paused')
        .map((r) => ({ ...toSummary(r, now, states.get(r.id)), mounts: detailsMounts(ctx, r) }));
      if (!options.size) return listed;
      const snapshotter = snapshotterOf(ctx);
      const layers = new Map<string, number>(); // an image's layers, measured once for all its containers
      const sized: ContainerSummary[] = [];
      for (const c of listed) sized.push({ ...c, ...(await containerSizes(snapshotter, c.id, layers)) });
      return sized;
    },

    async 'containers.stop'(id, options) {
      const record = await getContainer(ctx, id, 'containers.stop');
      // as Docker: stopping a container that does not run does nothing
      if (record.status === 'exited' || record.status === 'configured') return;
      await standard('containers.stop', () =>
        containers.stop(record.id, {
          ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        }),
      );
      // its exit command does it too; whichever comes first
      await detachNetworks(ctx, record.id);
      await event('stop', record);
    },

    async 'containers.kill'(id, signal) {
      try {
        signalNumber(signal);
      } catch (e) {
        throw localError('bad-argument', 'containers.kill', (e as Error).message, { cause: e });
      }
      const record = await getContainer(ctx, id, 'containers.kill');
      if (record.status !== 'running' && record.status !== 'paused')
        throw localError(
          'container-not-running',
          'containers.kill',
          `container ${record.name} is ${record.status}, not running`,
          {
            details: { name: record.name, status: record.status },
          },
        );
      await standard('containers.kill', () => containers.kill(record.id, signal));
      await event('kill', record, { signal: String(signal) });
    },

    async 'containers.pause'(id) {
      const record = await getContainer(ctx, id, 'containers.pause');
      if (record.status === 'paused')
        throw localError(
          'container-paused',
          'containers.pause',
          `container ${record.name} is paused already`,
          {
            details: { name: record.name },
          },
        );
      if (record.status !== 'running')
        throw localError(
          'container-not-running',
          'containers.pause',
          `container ${record.name} is ${record.status}, not running`,
          {
            details: { name: record.name, status: record.status },
          },
        );
      await standard('containers.pause', () => containers.pause(record.id));
      await event('pause', record);
    },

    async 'containers.unpause'(id) {
      const record = await getContainer(ctx, id, 'containers.unpause');
      if (record.status !== 'paused')
        throw localError(
          record.status === 'running' ? 'container-running' : 'container-not-running',
          'containers.unpause',
          `container ${record.name} is ${record.status}, not paused`,
          { details: { name: record.name, status: record.status } },
        );
      await standard('containers.unpause', () => containers.unpause(record.id));
      await event('unpause', record);
    },

    async 'containers.remove'(id, options) {
      await removeContainer(ctx, id, { force: options.force === true, volumes: options.volumes === true });
    },

    async 'containers.resize'(id, size) {
      const record = await getContainer(ctx, id, 'containers.resize');
      if (!record.tty)
        throw localError('bad-argument', 'containers.resize', `container ${record.name} has no terminal`, {
          details: { name: record.name },
        });
      if (record.status !== 'running' && record.status !== 'paused' && record.status !== 'created')
        throw localError(
          'container-not-running',
          'containers.resize',
          `container ${record.name} is ${record.status}, not running`,
          {
            details: { name: record.name, status: record.status },
          },
        );
      try {
        await containers.resize(record.id, size);
      } catch (e) {
        throw standardResizeError(e);
      }
    },

    'containers.run'(spec, options) {
      return runContainer(ctx, spec, options, steps);
    },
  };

  /** `containers.run` through the steps, for stdin fed from an iterable: create, attach, start, wait. */
  async function steps(spec: ContainerSpec, options: RunOptions): Promise<RunResult> {
    const { signal } = options;
    const created = await createContainer(ctx, { ...spec, autoRemove: false }, options);
    try {
      const attachment = await relayAttach(join(created.attachDir ?? '', created.id.slice(0, 12), 'attach'), {
        stdin: spec.openStdin === true,
        resize: async () => {},
        signal,
      });
      const relay = (async () => {
        for await (const chunk of attachment.output) options.onOutput?.(chunk);
      })();
      const feed = (async () => {
        for await (const data of options.stdin ?? []) await attachment.write(data);
        await attachment.closeStdin();
      })();
      await containers.start(created.id);
      await event('start', created);
      const exitCode = (await containers.wait(created.id, signal ? { signal } : {})) ?? -1;
      await relay;
      attachment.close();
      await feed.catch(() => {});
      return { id: created.id, exitCode };
    } finally {
      if (spec.autoRemove)
        await removeContainer(ctx, created.id, {
          force: true,
          volumes: true,
          operation: 'containers.run',
        }).catch(() => {});
    }
  }

  return handlers;
}

/** A bad terminal size from the shim as `bad-argument`. */
function standardResizeError(e: unknown): unknown {
  const message = (e as Error).message ?? '';
  return /rows and columns/.test(message)
    ? localError('bad-argument', 'containers.resize', message, { cause: e })
    : e;
}
