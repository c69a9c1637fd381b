/**
 * A package as another project installs it: `npm pack` it, then `npm ci` it into a fresh folder outside the
 * repository, on a lock file made from this repository's: the same versions of the package's dependencies and of
 * the few packages the project itself names, taken from npm's cache where the repository's `npm ci` put them (the
 * registry only on a cache miss), and nothing else. Used by test/package.test.ts (the construct) and
 * test/emulator/cdk-app.test.ts (the emulator).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- package-lock.json
// biome-ignore lint/suspicious/noExplicitAny: synthesized JSON is walked freely; the assertions check its shape.
type LockEntry = Record<string, any>;
type Lock = { packages: Record<string, LockEntry> };

/** A package of this repository: the root ('') or a workspace folder. */
export interface RepositoryPackage {
  readonly folder: string;
  readonly name: string;
  readonly version: string;
  readonly dependencies: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly bin?: Record<string, string>;
}

export function repositoryPackage(folder: string): RepositoryPackage {
  const manifest = JSON.parse(readFileSync(join(ROOT, folder, 'package.json'), 'utf8')) as RepositoryPackage;
  return { ...manifest, folder, dependencies: manifest.dependencies ?? {} };
}

/** The lock entries of `names` as required from `from` and of everything they depend on, nested copies included. */
function closure(lock: Lock, names: readonly string[], from: string): Map<string, LockEntry> {
  const found = new Map<string, LockEntry>();
  const visit = (name: string, dependent: string) => {
    // Node's resolution: the dependent's own node_modules, then each parent's.
    for (
      let dir = dependent;
      ;
      dir = dir.includes('/node_modules/') ? dir.slice(0, dir.lastIndexOf('/node_modules/')) : ''
    ) {
      const path = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      if (lock.packages[path]) {
        if (found.has(path)) return;
        found.set(path, lock.packages[path]);
        for (const [nested, entry] of Object.entries(lock.packages))
          if (nested.startsWith(`${path}/node_modules/`) && entry['inBundle']) found.set(nested, entry);
        for (const dep of Object.keys({
          ...lock.packages[path]['dependencies'],
          ...lock.packages[path]['optionalDependencies'],
        }))
          visit(dep, path);
        return;
      }
      if (!dir) throw new Error(`package-lock.json has no ${name} for ${dependent || 'the root'}`);
    }
  };
  for (const name of names) visit(name, from);
  return found;
}

/** A lock file for an app named `app` depending on the tarball of `pkg` and on `appDependencies` at this repository's versions. */
function consumerLock(
  app: string,
  tarball: string,
  pkg: RepositoryPackage,
  appDependencies: readonly string[],
): Lock & Record<string, unknown> {
  const repoLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Lock;
  const resolved = `file:${tarball}`;
  const versionOf = (name: string) => repoLock.packages[`node_modules/${name}`]!['version'] as string;
  const dependencies = { [pkg.name]: resolved, ...Object.fromEntries(appDependencies.map((n) => [n, versionOf(n)])) };
  const packages: Lock['packages'] = { '': { name: app, dependencies } };
  const own = closure(repoLock, Object.keys(pkg.dependencies), pkg.folder);
  for (const [path, entry] of [...own, ...closure(repoLock, appDependencies, '')]) {
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...kept } = entry;
    // A copy nested in a workspace's own node_modules is nested in the installed package's.
    packages[
      pkg.folder && path.startsWith(`${pkg.folder}/`)
        ? `node_modules/${pkg.name}/${path.slice(pkg.folder.length + 1)}`
        : path
    ] = kept;
  }
  packages[`node_modules/${pkg.name}`] = {
    version: pkg.version,
    resolved,
    integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
    dependencies: pkg.dependencies,
    ...(pkg.peerDependencies ? { peerDependencies: pkg.peerDependencies } : {}),
    // npm ci links commands from the lock file's word, not the package's.
    ...(pkg.bin ? { bin: pkg.bin } : {}),
  };
  return { name: app, lockfileVersion: 3, requires: true, packages };
}

export interface Packed {
  readonly tarball: string;
  /** The paths in the tarball. */
  readonly files: readonly string[];
}

/** `npm pack` of the package into `destination`; `ignoreScripts` leaves out its prepack (its build must be current). */
export async function pack(
  pkg: RepositoryPackage,
  destination: string,
  { ignoreScripts = false } = {},
): Promise<Packed> {
  const args = [
    'pack',
    '--pack-destination',
    destination,
    '--json',
    ...(pkg.folder ? ['--workspace', pkg.name] : []),
    ...(ignoreScripts ? ['--ignore-scripts'] : []),
  ];
  const { stdout } = await run('npm', args, { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  const [result] = JSON.parse(stdout.slice(stdout.indexOf('[\n'))) as { filename: string; files: { path: string }[] }[];
  return { tarball: join(destination, result!.filename), files: result!.files.map((f) => f.path) };
}

/** A fresh app in `app` with the tarball and `appDependencies` installed by `npm ci` (no install scripts run). */
export async function installIntoApp(
  app: string,
  tarball: string,
  pkg: RepositoryPackage,
  appDependencies: readonly string[] = [],
): Promise<void> {
  const name = 'consumer-app';
  const lock = consumerLock(name, tarball, pkg, appDependencies);
  mkdirSync(app, { recursive: true });
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name, private: true, type: 'module', dependencies: lock.packages['']!['dependencies'] }, null, 2),
  );
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify(lock, null, 2));
  await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
    cwd: app,
    maxBuffer: 16 * 1024 * 1024,
  });
}
