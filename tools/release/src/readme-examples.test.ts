// Every ```ts block of every package README runs, so the documentation cannot drift from the code:
// each block is written to a file of its own and run by Node's type stripping, from the packages'
// sources (the `@ocikit/source` condition, no build needed). What a block needs from outside — a
// file it reads, an image layout, a registry, a bundle — its package's fixture below provides, in
// the block's working directory; a registry host in the text is replaced by the real test registry.
// Blocks marked ```ts no-run are skipped (they only show types or shapes).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningEngine, startDockerd, startPodmanService } from '@ocikit/test-engines';
import { type BuiltImage, buildBusyboxImage } from '@ocikit/test-images';
import { type RunningRegistry, startRegistry } from '@ocikit/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReadmeExample, readmeExamples } from './lib/readme.ts';
import { publicPackages } from './lib/workspace.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const packages = publicPackages(root);
const work = mkdtempSync(join(tmpdir(), 'ocikit-readme-'));
let registry: RunningRegistry;
/** A dockerd for the engine package's docker driver example, started by the first one that needs it. */
let dockerd: Promise<RunningEngine> | undefined;
/** A podman service for the podman driver's example (its registries.conf does not mark the registry insecure). */
let podman: Promise<RunningEngine> | undefined;
const cli = join(root, 'packages', 'cli', 'src', 'bin.ts');

/** Runs a command to its end without blocking the event loop (the registry logs through a pipe). */
function sh(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      cmd,
      args,
      { ...options, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
      },
    );
  });
}

function blob(image: BuiltImage, digest: string): Buffer {
  return readFileSync(join(image.layout, 'blobs', ...digest.split(':')));
}

/** The image config blob of a built image. */
function imageConfig(image: BuiltImage): Buffer {
  const manifest = JSON.parse(blob(image, image.manifest).toString('utf8')) as { config: { digest: string } };
  return blob(image, manifest.config.digest);
}

/** What a package's README example needs in its working directory; returns text replacements. */
const fixtures: Record<string, (cwd: string) => Promise<Record<string, string>> | Record<string, string>> = {
  digest: (cwd) => {
    writeFileSync(join(cwd, 'blob'), 'hello world');
    return {};
  },
  'image-spec': (cwd) => {
    buildBusyboxImage(cwd, 'busybox'); // index.json in cwd
    return {};
  },
  'runtime-spec': (cwd) => {
    writeFileSync(join(cwd, 'config.json'), imageConfig(buildBusyboxImage(join(cwd, 'layout'), 'busybox')));
    mkdirSync(join(cwd, 'bundle', 'rootfs'), { recursive: true });
    return {};
  },
  content: (cwd) => {
    buildBusyboxImage(join(cwd, 'skopeo-layout'), 'latest');
    return {};
  },
  snapshot: (cwd) => {
    buildBusyboxImage(join(cwd, 'images'), 'busybox');
    return {};
  },
  build: (cwd) => {
    buildBusyboxImage(join(cwd, 'images'), 'busybox'); // the base image the example copies into its store
    return {};
  },
  registry: async (cwd) => {
    const image = buildBusyboxImage(join(cwd, 'layout'), 'busybox');
    const dest = `docker://${registry.host}/library/busybox:latest`;
    const push = await sh('skopeo', ['copy', '--dest-tls-verify=false', `oci:${image.layout}:busybox`, dest]);
    if (push.code !== 0) throw new Error(`skopeo copy: ${push.stderr}`);
    return { 'localhost:5000': registry.host };
  },
  local: (cwd) => fixtures.registry?.(cwd) ?? {},
  engine: async (cwd) => {
    const replacements = (await fixtures.registry?.(cwd)) ?? {};
    dockerd ??= startDockerd({ insecureRegistries: [registry.host] });
    podman ??= startPodmanService();
    return {
      ...replacements,
      'unix:///var/run/docker.sock': (await dockerd).host,
      'unix:///run/podman/podman.sock': (await podman).host,
    };
  },
  shim: async (cwd) => {
    // The bundle the README starts from, made as it says (`ocikit bundle`, from source), running a
    // command that ends by itself (the image's default is an interactive sh).
    const image = buildBusyboxImage(join(cwd, 'layout'), 'busybox');
    const bundle = join(cwd, 'bundle');
    const made = await sh(process.execPath, [
      '--conditions=@ocikit/source',
      cli,
      'bundle',
      `oci:${image.layout}:busybox`,
      bundle,
    ]);
    if (made.code !== 0) throw new Error(`ocikit bundle: ${made.stderr}`);
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as {
      process: { args: string[] };
    };
    spec.process.args = ['echo', 'hello from runc'];
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    return { '/tmp/bundle': bundle, '/run/my-runc': join(cwd, 'runc'), '/var/lib/my-app': join(cwd, 'app') };
  },
};

beforeAll(async () => {
  registry = await startRegistry();
  // The examples import the packages by name, as users do: node_modules/@ocikit/* → packages/*.
  mkdirSync(join(work, 'node_modules', '@ocikit'), { recursive: true });
  for (const pkg of packages) symlinkSync(pkg.dir, join(work, 'node_modules', pkg.manifest.name));
}, 120_000);

afterAll(async () => {
  for (const engine of [dockerd, podman]) {
    await engine?.then(
      (d) => d.stop(),
      () => {},
    );
  }
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function runExample(dirName: string, example: ReadmeExample, n: number): Promise<void> {
  const cwd = join(work, `${dirName}-${n}`);
  mkdirSync(cwd);
  const replacements = (await fixtures[dirName]?.(cwd)) ?? {};
  let code = example.code;
  for (const [from, to] of Object.entries(replacements)) code = code.replaceAll(from, to);
  writeFileSync(join(cwd, 'example.ts'), code);
  const ran = await sh(process.execPath, ['--conditions=@ocikit/source', 'example.ts'], {
    cwd,
    env: { ...process.env, DOCKER_CONFIG: join(cwd, '.docker'), REGISTRY_AUTH_FILE: join(cwd, 'auth.json') },
  });
  expect(ran.code, `${relative(root, example.file)}:${example.line}\n${ran.stdout}\n${ran.stderr}`).toBe(0);
}

describe('README examples', () => {
  for (const pkg of packages) {
    const examples = readmeExamples(join(pkg.dir, 'README.md'));
    examples.forEach((example, n) => {
      const name = `packages/${pkg.dirName}/README.md:${example.line} (${example.info})`;
      // no-run blocks are only typechecked, by the test after this loop
      if (example.run) it(name, () => runExample(pkg.dirName, example, n), 120_000);
    });
  }
});

describe('README examples typecheck', () => {
  it('every ts block (no-run ones too) compiles against the packages under the strict settings', async () => {
    const dir = join(work, 'typecheck');
    mkdirSync(dir);
    mkdirSync(join(work, 'node_modules', '@types'), { recursive: true });
    symlinkSync(join(root, 'node_modules', '@types', 'node'), join(work, 'node_modules', '@types', 'node'));
    writeFileSync(join(work, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    const files: string[] = [];
    for (const pkg of packages) {
      readmeExamples(join(pkg.dir, 'README.md')).forEach((example, n) => {
        const file = `${pkg.dirName}-${n}-line-${example.line}.ts`;
        writeFileSync(join(dir, file), example.code);
        files.push(file);
      });
    }
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: join(root, 'tsconfig.base.json'), files }),
    );
    const tsc = await sh(process.execPath, [
      join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      dir,
    ]);
    expect(tsc.code, `${tsc.stdout}\n${tsc.stderr}`).toBe(0);
  }, 120_000);
});

describe('README install lines', () => {
  for (const pkg of packages) {
    it(`packages/${pkg.dirName}/README.md installs every @ocikit package its examples import`, () => {
      const text = readFileSync(join(pkg.dir, 'README.md'), 'utf8');
      const installed = new Set(
        [...text.matchAll(/^\s*npm install (?:-g )?([^#\n]*)/gm)].flatMap((m) =>
          (m[1] ?? '').trim().split(/\s+/),
        ),
      );
      const imported = new Set(
        readmeExamples(join(pkg.dir, 'README.md')).flatMap((e) =>
          [...e.code.matchAll(/from '(@ocikit\/[a-z-]+)/g)].map((m) => m[1] ?? ''),
        ),
      );
      expect([...imported].filter((name) => !installed.has(name))).toEqual([]);
    });
  }
});
