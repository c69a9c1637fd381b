/**
 * The SDK package as `npm publish` would ship it (client/dist, built by the test run's global setup): ES modules with
 * type declarations, importable by its name, carrying the protocol module and nothing of the server, within its size
 * budget, with `ws` an optional peer.
 */
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** Bundled, minified and gzipped, the whole SDK must stay under this (it is about 12 KB). */
const SIZE_BUDGET_BYTES = 15 * 1024;

describe('teamtalk-serverless-client package', () => {
  it('is ESM with declarations, importable by name in Node, with the protocol module inside', async () => {
    const manifest = JSON.parse(readFileSync(`${root}client/package.json`, 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      name: 'teamtalk-serverless-client',
      type: 'module',
      peerDependenciesMeta: { ws: { optional: true } },
    });
    expect(manifest['dependencies']).toBeUndefined();
    for (const file of ['client/index.js', 'client/index.d.ts', 'protocol/frames.js', 'protocol/limits.d.ts'])
      expect(existsSync(`${root}client/dist/${file}`), file).toBe(true);
    // Node resolves the name through the workspace link to the build (no custom condition: what users get).
    const sdk = (await import('teamtalk-serverless-client')) as typeof import('../../client/index.js');
    expect(typeof sdk.ChatClient).toBe('function');
    expect(sdk.peer('bob')).toEqual({ type: 'peer', id: 'bob' });
    expect(sdk.LIMIT_DEFAULTS.rateLimitPerSecond).toBe(20);
    expect(import.meta.resolve('teamtalk-serverless-client')).toContain('/client/dist/client/index.js');
  });

  it(`bundles to under ${SIZE_BUDGET_BYTES / 1024} KB gzipped, from the build alone: no server code, no Node module`, async () => {
    const result = await build({
      entryPoints: ['teamtalk-serverless-client'],
      absWorkingDir: root,
      bundle: true,
      minify: true,
      write: false,
      format: 'esm',
      platform: 'neutral',
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((file) => !/^client\/dist\/(client|protocol)\/[\w-]+\.js$/.test(file))).toEqual([]);
    const gzipped = gzipSync(result.outputFiles[0]!.contents).length;
    expect(gzipped).toBeLessThan(SIZE_BUDGET_BYTES);
  });

  it('packs only the build, the README and the manifest', () => {
    const [pack] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--workspace', 'teamtalk-serverless-client'], {
        cwd: root,
        encoding: 'utf8',
      }),
    ) as { files: { path: string }[] }[];
    const paths = pack!.files.map((f) => f.path);
    expect(
      paths.filter((path) => !path.startsWith('dist/') && path !== 'README.md' && path !== 'package.json'),
    ).toEqual([]);
    expect(paths).toContain('dist/client/index.d.ts');
    expect(paths.some((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'))).toBe(false);
  });
});
