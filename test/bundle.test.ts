/**
 * What goes into each function's bundle, built by esbuild with the settings the stack gives NodejsFunction
 * (lib/bundling.ts, lib/function-specs.ts BUNDLING) from the entry the stack deploys: every function bundles only the
 * AWS SDK clients its own ports use (no S3 client where nothing touches the bucket, no EventBridge client where
 * nothing publishes), its bytes stay within its budget (the table in docs/benchmarks.md), the default credential
 * chain is replaced by the environment provider Lambda needs, and nothing of the chain's other links (SSO, ini
 * files, STS/SSO clients) is left. The bytes are deterministic for a lock file, so a budget fails on a regression,
 * never on a slow machine.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBackendSpecs } from '../bench/specs.js';
import { bundledHandler, PACKAGE_ROOT } from '../lib/bundling.js';
import { FUNCTION_SPECS, PUSH_SENDER_SPEC } from '../lib/function-specs.js';

const KB = 1024;

/**
 * Per function: the bundle's budget in KB (1,024 bytes; docs/benchmarks.md "Bundle budgets" has the bundles measured
 * a little below it) and the AWS SDK clients it may bundle. The clients-only floor (bench/floor-handler.ts) is
 * 279 KB; floor + 60 KB, the target, is the cap of every budget but those of the functions that need S3 or push
 * providers.
 */
const BUDGETS: Readonly<Record<string, { readonly kb: number; readonly clients: readonly string[] }>> = {
  authorizer: { kb: 70, clients: [] },
  // SQS: the presence check $connect/$disconnect queue when the status changes (lib/presence-jobs.ts).
  connect: { kb: 325, clients: ['dynamodb', 'apigatewaymanagementapi', 'sqs'] },
  send: { kb: 515, clients: ['dynamodb', 'apigatewaymanagementapi', 'eventbridge', 's3'] },
  ack: { kb: 315, clients: ['dynamodb', 'apigatewaymanagementapi'] },
  sync: { kb: 330, clients: ['dynamodb', 'apigatewaymanagementapi'] },
  groups: { kb: 325, clients: ['dynamodb', 'apigatewaymanagementapi'] },
  devices: { kb: 339, clients: ['dynamodb', 'apigatewaymanagementapi', 'eventbridge'] },
  default: { kb: 245, clients: ['apigatewaymanagementapi'] },
  attachments: { kb: 465, clients: ['dynamodb', 'apigatewaymanagementapi', 's3'] },
  blocks: { kb: 310, clients: ['dynamodb', 'apigatewaymanagementapi'] },
  sweeper: { kb: 339, clients: ['dynamodb', 'apigatewaymanagementapi', 'eventbridge'] },
  reports: { kb: 339, clients: ['dynamodb', 'apigatewaymanagementapi', 'eventbridge'] },
  exports: { kb: 475, clients: ['dynamodb', 'apigatewaymanagementapi', 'eventbridge', 's3'] },
  'push-sender': { kb: 450, clients: ['dynamodb', 'secrets-manager'] },
  account: { kb: 339, clients: ['dynamodb', 'apigatewaymanagementapi', 'sqs'] },
  presence: { kb: 315, clients: ['dynamodb', 'apigatewaymanagementapi'] },
  'presence-jobs': { kb: 300, clients: ['dynamodb', 'apigatewaymanagementapi'] },
  edits: { kb: 475, clients: ['dynamodb', 'apigatewaymanagementapi', 's3'] },
  typing: { kb: 310, clients: ['dynamodb', 'apigatewaymanagementapi'] },
  'account-jobs': {
    kb: 545,
    clients: ['dynamodb', 'apigatewaymanagementapi', 'cognito-identity-provider', 'eventbridge', 's3', 'sqs'],
  },
};

const ENTRIES: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.entries(FUNCTION_SPECS).map(([id, spec]) => [id, spec.entry])),
  'push-sender': PUSH_SENDER_SPEC.entry,
};

interface Bundle {
  readonly bytes: number;
  /** Every module esbuild read, tree-shaken or not. */
  readonly read: readonly string[];
  /** The modules that put code into the bundle. */
  readonly inputs: readonly string[];
}

async function bundle(entry: string): Promise<Bundle> {
  const { bundle: settings } = await loadBackendSpecs();
  const result = await build({
    entryPoints: [join(PACKAGE_ROOT, entry)],
    bundle: true,
    write: false,
    metafile: true,
    outfile: 'index.mjs',
    target: settings.target,
    platform: settings.platform,
    format: settings.format,
    minify: settings.minify,
    sourcemap: settings.sourcemap,
    mainFields: settings.mainFields,
    banner: { js: settings.banner },
    external: settings.external,
    alias: settings.alias,
    absWorkingDir: PACKAGE_ROOT,
    logLevel: 'silent',
  });
  const code = result.outputFiles.find((file) => file.path.endsWith('.mjs'));
  return {
    bytes: code!.contents.byteLength,
    read: Object.keys(result.metafile.inputs),
    inputs: inputsWithCode(result.metafile),
  };
}

function inputsWithCode(metafile: Metafile): string[] {
  return Object.values(metafile.outputs).flatMap((output) =>
    Object.entries(output.inputs)
      .filter(([, { bytesInOutput }]) => bytesInOutput > 0)
      .map(([input]) => input),
  );
}

const clientsIn = (inputs: readonly string[]) =>
  [...new Set(inputs.flatMap((p) => /node_modules\/@aws-sdk\/client-([a-z0-9-]+)\//.exec(p)?.[1] ?? []))].sort();

describe('function bundles', () => {
  const bundles = new Map<string, Bundle>();
  beforeAll(async () => {
    // One at a time: esbuild uses every core for each build already.
    for (const [fn, entry] of Object.entries(ENTRIES)) bundles.set(fn, await bundle(entry));
  }, 120_000);

  it('have a budget for every function the stack deploys', () => {
    expect(Object.keys(BUDGETS).sort()).toEqual(Object.keys(ENTRIES).sort());
  });

  it.each(Object.keys(ENTRIES))('%s bundles only the AWS SDK clients its ports use', (fn) => {
    expect(clientsIn(bundles.get(fn)!.inputs)).toEqual([...BUDGETS[fn]!.clients].sort());
  });

  it.each(Object.keys(ENTRIES))('%s stays within its byte budget', (fn) => {
    const { bytes } = bundles.get(fn)!;
    expect(bytes, `${fn}: ${(bytes / KB).toFixed(1)} KB`).toBeLessThanOrEqual(BUDGETS[fn]!.kb * KB);
  });

  it('budgets are the table of docs/benchmarks.md', () => {
    const doc = readFileSync(join(PACKAGE_ROOT, 'docs/benchmarks.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| ([a-z-]+) \| (\d+) KB \|/gm)].map(([, fn, kb]) => [fn, Number(kb)]);
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(Object.entries(BUDGETS).map(([fn, b]) => [fn, b.kb])));
  });

  it('NodejsFunction gets the alias as an absolute path that exists, wherever the package is installed', () => {
    const args = bundledHandler(FUNCTION_SPECS.ack.entry).bundling?.esbuildArgs ?? {};
    const target = args['--alias:@aws-sdk/credential-provider-node'];
    expect(target).toBe(join(PACKAGE_ROOT, 'core/lambda-credentials.ts'));
    expect(existsSync(String(target))).toBe(true);
  });

  it('hold the environment credential provider and none of the default chain’s other links', () => {
    const inputs = bundles.get('ack')!.read;
    expect(inputs).toContain('core/lambda-credentials.ts');
    expect(inputs.some((p) => p.includes('@aws-sdk/credential-provider-env/'))).toBe(true);
    for (const gone of [
      '@aws-sdk/credential-provider-node/',
      '@aws-sdk/credential-provider-sso/',
      '@aws-sdk/credential-provider-ini/',
      '@aws-sdk/nested-clients/',
    ]) {
      expect(
        inputs.filter((p) => p.includes(gone)),
        gone,
      ).toEqual([]);
    }
  });
});
