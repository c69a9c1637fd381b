/**
 * The construct as a team installs it (docs/deploy.md §7): `npm pack` this repository, install the tarball into a
 * fresh CDK app — a package.json, a lock file and bin/app.ts, nothing else — and synthesize with real bundling. It
 * proves the published files are complete, that NodejsFunction bundles the handlers from node_modules with the
 * esbuild the package brings (no Docker), against the app's lock file.
 *
 * The install is `npm ci` on a lock file made from this repository's: the same versions of the package's production
 * dependencies, taken from npm's cache where `npm ci` put them (the registry only on a cache miss), and none of
 * this repository's dev dependencies.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- package-lock.json
type Lock = { packages: Record<string, Record<string, any>> };

const APP_TS = `import { App, Stack } from 'aws-cdk-lib';
import { ChatBackend } from 'teamtalk-serverless';

const app = new App();
const stack = new Stack(app, 'ChatApp');
new ChatBackend(stack, 'Chat');
app.synth();
`;

/** A lock file for an app depending on the tarball alone: this repository's production entries, same versions. */
function consumerLock(tarball: string): Lock & Record<string, unknown> {
  const repoLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Lock;
  const resolved = `file:${tarball}`;
  const packages: Lock['packages'] = { '': { name: 'chat-app', dependencies: { [PKG.name]: resolved } } };
  for (const [path, entry] of Object.entries(repoLock.packages)) {
    if (path === '' || entry['dev'] === true || entry['link'] === true) continue;
    packages[path] = entry;
  }
  packages[`node_modules/${PKG.name}`] = {
    version: PKG.version,
    resolved,
    integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
    dependencies: PKG.dependencies,
  };
  return { name: 'chat-app', lockfileVersion: 3, requires: true, packages };
}

let work: string;
let app: string;
let tarball: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'teamtalk-pack-'));
  const { stdout } = await run('npm', ['pack', '--pack-destination', work, '--json'], { cwd: ROOT });
  tarball = join(work, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
  app = join(work, 'app');
  mkdirSync(join(app, 'bin'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'chat-app', private: true, type: 'module', dependencies: { [PKG.name]: `file:${tarball}` } }, null, 2));
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify(consumerLock(tarball), null, 2));
  writeFileSync(join(app, 'bin', 'app.ts'), APP_TS);
  await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: app, maxBuffer: 16 * 1024 * 1024 });
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the construct installed from a packed tarball into a fresh CDK app', () => {
  it('holds no dev dependency of this repository (what a team gets is what the package declares)', () => {
    expect(existsSync(join(app, 'node_modules', 'vitest'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', PKG.name, 'package.json'))).toBe(true);
  });

  it('synthesizes with every handler bundled by the local esbuild, no Docker', async () => {
    const out = join(work, 'cdk.out');
    const tsx = join(app, 'node_modules', '.bin', 'tsx');
    const { stderr } = await run(tsx, ['bin/app.ts'], {
      cwd: app,
      env: { ...process.env, CDK_OUTDIR: out, CDK_DOCKER: 'docker-is-not-to-be-used' },
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(stderr).not.toMatch(/docker/i);
    const template = JSON.parse(readFileSync(join(out, 'ChatApp.template.json'), 'utf8')) as { Resources: Record<string, { Type: string }> };
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(9);
    const bundles = readdirSync(out).filter((name) => name.startsWith('asset.'));
    for (const bundle of bundles) expect(existsSync(join(out, bundle, 'index.mjs')), bundle).toBe(true);
    expect(bundles.length).toBe(functions.length);
  }, 300_000);
});
