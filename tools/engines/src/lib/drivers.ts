// The drivers the contract test files run the suite against, looked up by export name so a file can
// be written before its driver lands: a missing driver fails the file's setup by name, never skips.
import type { Driver } from '@ocikit/engine';

/** The `Driver` exported as `exportName` by `module`, or an error saying it is not there. */
export async function driverFrom(module: string, exportName: string, ...args: unknown[]): Promise<Driver> {
  const mod = (await import(module)) as Record<string, unknown>;
  const found = mod[exportName];
  if (typeof found === 'function' && !('connect' in found)) {
    return (found as (...a: unknown[]) => Driver)(...args);
  }
  if (typeof found === 'object' && found !== null && 'connect' in found) return found as Driver;
  throw new Error(`${module} has no driver export ${exportName} (yet): the contract suite cannot run it`);
}
