/**
 * The layers hold (docs/architecture.md "Folder layout"): no import cycle anywhere in the tree, type-only imports
 * included; the domain, the ports and the use-cases import no adapter (DynamoDB, @connections, EventBridge, S3, the
 * push providers, the AWS SDK) and nothing of the functions, the stack or the tools around them; adapters depend on
 * ports, never on use-cases; the wire protocol and the SDK import no server code.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findCycles, importsOf, layerViolations, readImportGraph, type LayerRule } from './import-graph.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FOLDERS = [
  'core',
  'lib',
  'lambdas',
  'client',
  'protocol',
  'local',
  'chaos',
  'bench',
  'emulator',
  'smoke',
  'bin',
  'scripts',
  'examples',
];
/** The workspace packages, as the sources resolve them (tsconfig's `teamtalk-source` condition). */
const PACKAGES = {
  'teamtalk-local': 'emulator/index.ts',
  'teamtalk-serverless-client': 'client/index.ts',
  'teamtalk-serverless': 'lib/index.ts',
};

const ADAPTERS = ['core/store/', 'core/gateway/', 'core/blob/', 'core/push-providers/'];
const AWS_PACKAGES = ['pkg:@aws-sdk/', 'pkg:aws-lambda', 'pkg:aws-cdk-lib', 'pkg:constructs'];
/** What composes and runs the core: the runtime, the functions, the stack, local mode and the tools. */
const OUTSIDE_CORE = [
  'core/runtime.ts',
  'lambdas/',
  'lib/',
  'local/',
  'chaos/',
  'bench/',
  'smoke/',
  'emulator/',
  'bin/',
  'scripts/',
  'examples/',
];

const RULES: readonly LayerRule[] = [
  {
    files: ['core/domain/'],
    mayNotImport: ['core/ports/', 'core/usecases/', ...ADAPTERS, ...OUTSIDE_CORE, ...AWS_PACKAGES],
  },
  { files: ['core/ports/'], mayNotImport: ['core/usecases/', ...ADAPTERS, ...OUTSIDE_CORE, ...AWS_PACKAGES] },
  { files: ['core/usecases/'], mayNotImport: [...ADAPTERS, ...OUTSIDE_CORE, ...AWS_PACKAGES] },
  { files: ADAPTERS, mayNotImport: ['core/usecases/', ...OUTSIDE_CORE] },
  { files: ['protocol/'], mayOnlyImport: ['protocol/'], mayNotImport: AWS_PACKAGES },
  { files: ['client/'], mayOnlyImport: ['client/', 'protocol/'], mayNotImport: AWS_PACKAGES },
];

describe('import graph', () => {
  const graph = readImportGraph(ROOT, FOLDERS, PACKAGES);

  it('reads the whole tree', () => {
    expect(graph.size).toBeGreaterThan(200);
    expect(graph.get('core/usecases/send-message.ts')).toContain('core/usecases/accept-message.ts');
  });

  it('has no import cycle', () => {
    expect(findCycles(graph)).toEqual([]);
  });

  it('keeps the domain, ports and use-cases free of adapters, and protocol/ and client/ free of server code', () => {
    expect(layerViolations(graph, RULES)).toEqual([]);
  });
});

describe('the checks can fail', () => {
  it('reads type-only imports, re-exports and dynamic imports', () => {
    const text = [
      "import type { A } from './a.js';",
      "export { B } from './b.js';",
      "export * from './c.js';",
      "const d = await import('./d.js');",
      "import e from 'pkg-e';",
    ].join('\n');
    expect(importsOf(text)).toEqual(['./a.js', './b.js', './c.js', './d.js', 'pkg-e']);
  });

  it('finds a cycle through three files and a file importing itself, and nothing in a chain', () => {
    const graph = new Map([
      ['a.ts', ['b.ts', 'pkg:x']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['d.ts']],
      ['e.ts', ['a.ts']],
    ]);
    expect(findCycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts'], ['d.ts']]);
    expect(
      findCycles(
        new Map([
          ['a.ts', ['b.ts']],
          ['b.ts', ['c.ts']],
          ['c.ts', []],
        ]),
      ),
    ).toEqual([]);
  });

  it('reports an edge into a forbidden folder and one outside the allowed folders', () => {
    const graph = new Map([
      ['core/usecases/x.ts', ['core/store/y.ts', 'core/ports/z.ts']],
      ['client/c.ts', ['protocol/p.ts', 'core/domain/d.ts', 'pkg:ws']],
    ]);
    expect(layerViolations(graph, RULES)).toEqual([
      'core/usecases/x.ts → core/store/y.ts',
      'client/c.ts → core/domain/d.ts',
    ]);
  });
});
