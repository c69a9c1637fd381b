/**
 * The SDK package as `npm publish` would ship it: ES modules and CommonJS, each with type declarations, carrying the
 * protocol module and nothing of the server, within its size budget, with `ws` an optional peer; and packed from a
 * fresh copy of its sources (no dist/: `prepack` builds it), installed into an app outside the repository, where it
 * type-checks without the DOM library (`lib: ["es2020"]`, as React Native and Node apps compile) under ESM, CommonJS
 * and the old `node10` resolution, and loads with `import` and `require`.
 */
import { build } from 'esbuild';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { installIntoApp, repositoryPackage } from '../support/consumer-install.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
/** Bundled, minified and gzipped, the SDK without the store (ChatClient alone) must stay under this. */
// 17 KB since issue 27: presence, typing, recall and edit took the client alone from 15,267 to 16,691 bytes.
const CLIENT_BUDGET_BYTES = 17 * 1024;

/** The gzipped size of an app re-exporting `names` of the package (`*`: everything), and the files that went in. */
async function bundled(names: string): Promise<{ gzipped: number; inputs: string[] }> {
  const contents =
    names === '*'
      ? `export * from 'teamtalk-serverless-client';`
      : `export { ${names} } from 'teamtalk-serverless-client';`;
  const result = await build({
    stdin: { contents, resolveDir: root },
    absWorkingDir: root,
    // The package as apps get it (its build), not the repository's `paths` to its sources.
    tsconfigRaw: {},
    bundle: true,
    minify: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    metafile: true,
    logLevel: 'silent',
  });
  return {
    gzipped: gzipSync(result.outputFiles[0]!.contents).length,
    inputs: Object.keys(result.metafile.inputs).filter((file) => file !== '<stdin>'),
  };
}

describe('teamtalk-serverless-client package', () => {
  it('is ESM and CommonJS with declarations, importable and requirable by name in Node, with the protocol module inside', async () => {
    const manifest = JSON.parse(readFileSync(`${root}client/package.json`, 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      name: 'teamtalk-serverless-client',
      type: 'module',
      main: './dist/cjs/client/index.js',
      'react-native': './dist/cjs/client/index.js',
      scripts: { prepack: expect.any(String) },
      peerDependenciesMeta: { ws: { optional: true } },
    });
    expect(manifest['dependencies']).toBeUndefined();
    // Only what is shipped: no condition pointing at the sources.
    expect(JSON.stringify(manifest['exports'])).not.toMatch(/(?<!\.d)\.ts"/);
    for (const format of ['esm', 'cjs'])
      for (const file of ['client/index.js', 'client/index.d.ts', 'protocol/frames.js', 'protocol/limits.d.ts'])
        expect(existsSync(`${root}client/dist/${format}/${file}`), `${format}/${file}`).toBe(true);
    const sdk = (await import('teamtalk-serverless-client')) as typeof import('../../client/index.js');
    expect(sdk.peer('bob')).toEqual({ type: 'peer', id: 'bob' });
    expect(sdk.LIMIT_DEFAULTS.rateLimitPerSecond).toBe(20);
    expect(import.meta.resolve('teamtalk-serverless-client')).toContain('/client/dist/esm/client/index.js');
    const required = execFileSync(
      process.execPath,
      [
        '-e',
        "const s = require('teamtalk-serverless-client'); console.log(typeof s.ChatClient, require.resolve('teamtalk-serverless-client'))",
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(required).toMatch(/^function .*\/client\/dist\/cjs\/client\/index\.js/);
  });

  it(`bundles the client alone to under ${CLIENT_BUDGET_BYTES / 1024} KB gzipped, from the build alone: no server code, no Node module`, async () => {
    const { gzipped, inputs } = await bundled('ChatClient, peer, group');
    expect(
      inputs.filter((file) => !/^client\/dist\/esm\/(client|client\/store|protocol)\/[\w-]+\.js$/.test(file)),
    ).toEqual([]);
    expect(gzipped).toBeLessThan(CLIENT_BUDGET_BYTES);
  });

  it('the size of the whole SDK and of the client alone is what the closing note reports', async () => {
    const whole = await bundled('*');
    const client = await bundled('ChatClient, peer, group');
    // Printed for the record (docs and the change log cite them); the budgets are checked above and in store tests.
    console.log(`SDK bundle, minified + gzip: client alone ${client.gzipped} B, everything ${whole.gzipped} B`);
    expect(whole.gzipped).toBeGreaterThanOrEqual(client.gzipped);
  });

  it('packs only the build, the README and the manifest', () => {
    const [packed] = JSON.parse(
      execFileSync(
        'npm',
        ['pack', '--dry-run', '--json', '--ignore-scripts', '--workspace', 'teamtalk-serverless-client'],
        {
          cwd: root,
          encoding: 'utf8',
        },
      ),
    ) as { files: { path: string }[] }[];
    const paths = packed!.files.map((f) => f.path);
    expect(
      paths.filter((path) => !path.startsWith('dist/') && path !== 'README.md' && path !== 'package.json'),
    ).toEqual([]);
    expect(paths).toContain('dist/esm/client/index.d.ts');
    expect(paths).toContain('dist/cjs/client/index.d.ts');
    expect(paths).toContain('dist/cjs/package.json');
    expect(paths.some((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'))).toBe(false);
  });
});

describe('the package packed from a fresh copy of its sources, in an app outside the repository', () => {
  const work = mkdtempSync(join(tmpdir(), 'sdk-pack-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** The sources as a fresh clone has them: no dist/; the repository's node_modules for the compiler. */
  function freshCopy(): string {
    const copy = join(work, 'repo');
    cpSync(`${root}client`, join(copy, 'client'), {
      recursive: true,
      filter: (source) => !/\/client\/(dist|node_modules)(\/|$)/.test(source),
    });
    cpSync(`${root}protocol`, join(copy, 'protocol'), { recursive: true });
    for (const file of ['tsconfig.json', 'package.json']) cpSync(`${root}${file}`, join(copy, file));
    symlinkSync(`${root}node_modules`, join(copy, 'node_modules'), 'dir');
    return copy;
  }

  /** An app's code using the public API, including the parts whose types once needed the DOM library. */
  const APP = `import { AbortError, ChatClient, ChatError, attachmentOf, peer, type SendPictureInput } from 'teamtalk-serverless-client';
declare const file: SendPictureInput['file'];
const chat = new ChatClient({ url: 'ws://127.0.0.1:8787', getToken: async () => 'jwt' });
export async function start(): Promise<void> {
  await chat.connect({ timeoutMs: 5000 });
  await chat.sendPicture({ to: peer('bob'), file: { uri: 'file:///photo.jpg', type: 'image/jpeg' } });
  await chat.sendPicture({ to: peer('bob'), file });
  const error: ChatError = new AbortError();
  void error;
  void attachmentOf('hi');
}
`;

  function typeCheck(app: string, file: string, options: ts.CompilerOptions): string[] {
    const program = ts.createProgram([join(app, file)], {
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      target: ts.ScriptTarget.ES2020,
      lib: ['lib.es2020.d.ts'],
      types: [],
      ...options,
    });
    return ts
      .getPreEmitDiagnostics(program)
      .map(
        (d) => `${d.file?.fileName.slice(app.length) ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`,
      );
  }

  it('is not empty (prepack builds it), installs, type-checks under es2020 without the DOM as ESM, CommonJS and node10, and loads either way', async () => {
    const copy = freshCopy();
    const pkg = repositoryPackage('client');
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: join(copy, 'client'),
      maxBuffer: 16 * 1024 * 1024,
    });
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('[\n'))) as {
      filename: string;
      files: { path: string }[];
    }[];
    expect(packed!.files.map((f) => f.path)).toEqual(
      expect.arrayContaining(['dist/esm/client/index.js', 'dist/cjs/client/index.js']),
    );

    const app = join(work, 'app');
    await installIntoApp(app, join(work, packed!.filename), pkg, ['ws']); // a Node app's WebSocket
    writeFileSync(join(app, 'app.ts'), APP);
    writeFileSync(join(app, 'app.cts'), APP);
    const nodeNext = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext };
    expect(typeCheck(app, 'app.ts', nodeNext), 'ESM').toEqual([]);
    expect(typeCheck(app, 'app.cts', nodeNext), 'CommonJS').toEqual([]);
    writeFileSync(join(app, 'legacy.ts'), APP);
    writeFileSync(join(app, 'tsconfig.json'), '{}');
    expect(
      typeCheck(app, 'legacy.ts', { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 }),
      'node10',
    ).toEqual([]);

    const loaded = await run(
      process.execPath,
      [
        '-e',
        "const a = require('teamtalk-serverless-client'); import('teamtalk-serverless-client').then((b) => console.log(typeof a.ChatClient, typeof b.ChatClient))",
      ],
      { cwd: app },
    );
    expect(loaded.stdout.trim()).toBe('function function');
  });
});
