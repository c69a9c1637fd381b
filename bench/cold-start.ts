/**
 * Section 4: each function's bundle, built with esbuild exactly as lib/chat-backend.ts has NodejsFunction build it
 * (settings read by specs.ts: ESM, minify, source map, target, platform node, mainFields, the require banner, nothing
 * external), and its module init time: a fresh `node` process imports the bundle and reports the import's duration
 * from performance.now(); median of RUNS processes as deployed (no NODE_OPTIONS=--enable-source-maps: the stack's
 * `sourceMaps` prop is off by default), and of VARIANT_RUNS with it. For comparison, the same bundle with `@aws-sdk/*` left external (NodejsFunction's
 * default, which the stack overrides with `externalModules: []`): the SDK then loads from the runtime's copy, here
 * from node_modules, so its bundles are built under bench/ and removed afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, version as esbuildVersion } from 'esbuild';
import { ALL_TABLES } from '../core/store/schema.js';
import { cpuWindow, type CpuShare } from './cpu.js';
import { ROOT, type BackendSpecs } from './specs.js';
import { median } from './stats.js';

export const RUNS = 10;
/** Runs of the two comparison variants (no source maps; SDK external): indicative only, kept short. */
export const VARIANT_RUNS = 5;
/** The row of bench/floor-handler.ts: the clients every function creates, and nothing else. */
export const FLOOR = 'floor (clients only)';

export interface ColdStartRow {
  fn: string;
  bytes: number;
  mapBytes: number;
  /** Largest inputs of the bundle by output bytes: package (or `app`) → bytes. */
  top: [string, number][];
  /** As deployed by default: without source maps. */
  initMs: number;
  /** With NODE_OPTIONS=--enable-source-maps (`sourceMaps: true`). */
  initMsSourceMaps: number;
  /** The as-deployed runs. */
  runs: number[];
  memoryMb: number;
  /** `@aws-sdk/*` external, as deployed. */
  sdkExternalBytes: number;
  sdkExternalInitMs: number;
}

export interface ColdStartResult {
  esbuild: string;
  rows: ColdStartRow[];
  /** Over the whole phase; `node` includes the probe processes. */
  cpu?: CpuShare;
}

const PROBE = `const t0 = performance.now();
await import(process.argv[2]);
const t1 = performance.now();
process.stdout.write(JSON.stringify({ initMs: t1 - t0 }) + '\\n');
process.exit(0);
`;

/** What Lambda gives the function at init: its env as lib/chat-backend.ts sets it (values are placeholders). */
function lambdaEnv(sourceMaps: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: 'bench',
    POWERTOOLS_SERVICE_NAME: 'teamtalk-serverless',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    CONNECTIONS_ENDPOINT: 'https://abcde12345.execute-api.us-east-1.amazonaws.com/prod',
    JWT_ISSUER: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_bench',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  for (const spec of ALL_TABLES) env[spec.envVar] = spec.id;
  if (sourceMaps) env['NODE_OPTIONS'] = '--enable-source-maps';
  return env;
}

/** What an interrupted run must not leave behind: the bundle folder and a probe still running. */
const live = { dirs: new Set<string>(), children: new Set<ChildProcess>() };

export function abortColdStart(): void {
  for (const child of live.children) child.kill('SIGKILL');
  for (const dir of live.dirs) rmSync(dir, { recursive: true, force: true });
  live.children.clear();
  live.dirs.clear();
}

function runProbe(probe: string, bundle: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [probe, pathToFileURL(bundle).href], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.children.add(child);
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      live.children.delete(child);
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('{"initMs"'));
      if (code !== 0 || !line)
        return reject(new Error(`init probe of ${bundle} failed (${code}): ${err.slice(0, 500)}`));
      resolve((JSON.parse(line) as { initMs: number }).initMs);
    });
  });
}

function packageOf(input: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return m ? m[1]! : 'app';
}

/** Bundle, then measure each function's init in a fresh process; one sequence of steps a reader follows in order (long for that reason). */
export async function runColdStart(specs: BackendSpecs, log: (m: string) => void): Promise<ColdStartResult> {
  // Under the project so a bundle's external imports resolve to node_modules.
  const dir = mkdtempSync(join(ROOT, 'bench', '.cold-start-'));
  live.dirs.add(dir);
  const probe = join(dir, 'probe.mjs');
  writeFileSync(probe, PROBE);
  const fns = readdirSync(join(ROOT, 'lambdas'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .filter((name) => {
      try {
        return statSync(join(ROOT, 'lambdas', name, 'entry.ts')).isFile();
      } catch {
        return false;
      }
    })
    .sort();
  const entries = [
    ...fns.map((fn) => ({ fn, entry: join(ROOT, 'lambdas', fn, 'entry.ts') })),
    { fn: FLOOR, entry: join(ROOT, 'bench', 'floor-handler.ts') },
  ];
  const rows: ColdStartRow[] = [];
  const cpu = cpuWindow(undefined);
  try {
    for (const { fn, entry } of entries) {
      const outfile = join(dir, fn, 'index.mjs');
      const bundle = (out: string, external: string[]) =>
        build({
          entryPoints: [entry],
          bundle: true,
          outfile: out,
          target: specs.bundle.target,
          platform: specs.bundle.platform,
          format: specs.bundle.format,
          minify: specs.bundle.minify,
          sourcemap: specs.bundle.sourcemap,
          mainFields: specs.bundle.mainFields,
          banner: { js: specs.bundle.banner },
          external,
          alias: specs.bundle.alias,
          logLevel: 'warning',
          absWorkingDir: ROOT,
          metafile: true,
        });
      const result = await bundle(outfile, specs.bundle.external);
      const externalOut = join(dir, `${fn}-sdk-external`, 'index.mjs');
      await bundle(externalOut, ['@aws-sdk/*']);
      const byPackage = new Map<string, number>();
      for (const output of Object.values(result.metafile.outputs)) {
        for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
          byPackage.set(packageOf(input), (byPackage.get(packageOf(input)) ?? 0) + bytesInOutput);
        }
      }
      const top = [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
      const bytes = statSync(outfile).size;
      let mapBytes = 0;
      try {
        mapBytes = statSync(`${outfile}.map`).size;
      } catch {
        // no map
      }
      // Alternate the two modes so drift in machine load hits both alike.
      const plain: number[] = [];
      const maps: number[] = [];
      const ext: number[] = [];
      // Page cache warm-up, not counted.
      await runProbe(probe, outfile, lambdaEnv(false));
      await runProbe(probe, externalOut, lambdaEnv(true));
      for (let i = 0; i < RUNS; i++) {
        plain.push(await runProbe(probe, outfile, lambdaEnv(false)));
        if (i < VARIANT_RUNS) {
          maps.push(await runProbe(probe, outfile, lambdaEnv(true)));
          ext.push(await runProbe(probe, externalOut, lambdaEnv(false)));
        }
      }
      const memoryMb = specs.functions.find((f) => f.id === fn)?.memoryMb ?? specs.functions[0]!.memoryMb;
      rows.push({
        fn,
        bytes,
        mapBytes,
        top,
        initMs: median(plain),
        initMsSourceMaps: median(maps),
        runs: plain,
        memoryMb,
        sdkExternalBytes: statSync(externalOut).size,
        sdkExternalInitMs: median(ext),
      });
      log(`cold start: ${fn} ${(bytes / 1024).toFixed(1)} KB, init ${median(plain).toFixed(1)} ms`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    live.dirs.delete(dir);
  }
  const share = cpu();
  return { esbuild: esbuildVersion, rows, ...(share ? { cpu: share } : {}) };
}
