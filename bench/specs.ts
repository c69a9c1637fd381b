/**
 * What the benchmark needs from lib/chat-backend.ts — memory size per function, which function serves which
 * route, and the esbuild settings of NodejsFunction — read from its source text: the construct does not export
 * FUNCTION_SPECS or its bundling options, and importing it would load aws-cdk-lib. Every value found is checked;
 * a value that cannot be read falls back to the constant below and is reported as such.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE = 'lib/chat-backend.ts';

export interface FunctionSpec {
  readonly id: string;
  readonly entry: string;
  readonly memoryMb: number;
}

export interface BundleSettings {
  readonly target: string;
  readonly format: 'esm';
  readonly platform: 'node';
  readonly minify: boolean;
  readonly sourcemap: boolean;
  readonly mainFields: string[];
  readonly banner: string;
  readonly external: string[];
}

export interface BackendSpecs {
  readonly functions: readonly FunctionSpec[];
  /** Route key → function id. */
  readonly routes: Readonly<Record<string, string>>;
  readonly bundle: BundleSettings;
  /** Where each value came from: `parsed from lib/chat-backend.ts` or the fallback used. */
  readonly notes: string[];
}

/** Used only when the source cannot be parsed (values of lib/chat-backend.ts at the time of writing). */
const FALLBACK: Omit<BackendSpecs, 'notes'> = {
  functions: [
    { id: 'authorizer', entry: 'lambdas/authorizer/handler.ts', memoryMb: 256 },
    { id: 'connect', entry: 'lambdas/connect/handler.ts', memoryMb: 256 },
    { id: 'send', entry: 'lambdas/send/handler.ts', memoryMb: 256 },
    { id: 'ack', entry: 'lambdas/ack/handler.ts', memoryMb: 256 },
    { id: 'default', entry: 'lambdas/default/handler.ts', memoryMb: 128 },
    { id: 'sweeper', entry: 'lambdas/sweeper/handler.ts', memoryMb: 256 },
  ],
  routes: { $connect: 'connect', $disconnect: 'connect', msg_data: 'send', msg_data_ack: 'ack', $default: 'default' },
  bundle: {
    target: 'node22',
    format: 'esm',
    platform: 'node',
    minify: true,
    sourcemap: true,
    mainFields: ['module', 'main'],
    banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    external: [],
  },
};

/**
 * Action → function from core/routes.ts (ACTION_ROUTES), which the stack and the emulator share, when that module
 * exists; loaded by path so the bench keeps compiling while the route table moves.
 */
async function actionRoutes(): Promise<Record<string, string> | undefined> {
  try {
    const mod = (await import(pathToFileURL(`${ROOT}core/routes.ts`).href)) as { ACTION_ROUTES?: Record<string, string> };
    return mod.ACTION_ROUTES ? { ...mod.ACTION_ROUTES } : undefined;
  } catch {
    return undefined;
  }
}

export async function loadBackendSpecs(): Promise<BackendSpecs> {
  const notes: string[] = [];
  let text = '';
  try {
    text = readFileSync(`${ROOT}${SOURCE}`, 'utf8');
  } catch {
    notes.push(`${SOURCE} not readable: all values are the bench's constants`);
    return { ...FALLBACK, notes };
  }

  const functions: FunctionSpec[] = [];
  const specRe = /^\s{2}(\w+):\s*\{\s*entry:\s*'([^']+)',[\s\S]*?memorySize:\s*(\d+),/gm;
  for (const m of text.matchAll(specRe)) functions.push({ id: m[1]!, entry: m[2]!, memoryMb: Number(m[3]) });
  if (functions.length === 0) notes.push('FUNCTION_SPECS not found: memory sizes are the bench constants');
  else notes.push(`memory sizes parsed from ${SOURCE} (FUNCTION_SPECS)`);

  // addRoute('key', { integration: X }) where X is `new WebSocketLambdaIntegration('..', functions.id)` or a const.
  const consts = new Map<string, string>();
  for (const m of text.matchAll(/const (\w+) = new WebSocketLambdaIntegration\('[^']*',\s*functions\.(\w+)\)/g)) consts.set(m[1]!, m[2]!);
  const routes: Record<string, string> = {};
  const routeRe = /addRoute\('([^']+)',\s*\{\s*integration:\s*(?:new WebSocketLambdaIntegration\('[^']*',\s*functions\.(\w+)\)|(\w+))/g;
  for (const m of text.matchAll(routeRe)) {
    const fn = m[2] ?? (m[3] ? consts.get(m[3]) : undefined);
    if (fn) routes[m[1]!] = fn;
  }
  const shared = await actionRoutes();
  if (shared) {
    Object.assign(routes, shared);
    routes['$default'] ??= 'default';
    notes.push('route → function from core/routes.ts (ACTION_ROUTES)');
  }
  if (!routes['msg_data']) {
    Object.assign(routes, { ...FALLBACK.routes, ...routes });
    notes.push('msg_data route not found: route → function map falls back to the bench constant');
  }

  const target = /const ESBUILD_TARGET = '([^']+)'/.exec(text)?.[1];
  const banner = /banner:\s*"([^"]+)"/.exec(text)?.[1];
  const mainFields = /mainFields:\s*\[([^\]]*)\]/.exec(text)?.[1]?.match(/'([^']+)'/g)?.map((s) => s.slice(1, -1));
  const minify = /bundling:\s*\{[\s\S]*?minify:\s*(true|false)/.exec(text)?.[1];
  const sourcemap = /bundling:\s*\{[\s\S]*?sourceMap:\s*(true|false)/.exec(text)?.[1];
  const esm = /format:\s*OutputFormat\.ESM/.test(text);
  const bundle: BundleSettings = {
    ...FALLBACK.bundle,
    ...(target ? { target } : {}),
    ...(banner ? { banner } : {}),
    ...(mainFields?.length ? { mainFields } : {}),
    ...(minify ? { minify: minify === 'true' } : {}),
    ...(sourcemap ? { sourcemap: sourcemap === 'true' } : {}),
  };
  const found = [target && 'target', banner && 'banner', mainFields?.length && 'mainFields', minify && 'minify', sourcemap && 'sourceMap', esm && 'format']
    .filter(Boolean)
    .join(', ');
  notes.push(`esbuild settings parsed from ${SOURCE}: ${found || 'none (bench constants)'}`);

  return {
    functions: functions.length > 0 ? functions : FALLBACK.functions,
    routes,
    bundle,
    notes,
  };
}

/** Memory of the function behind a route; 256 MB (and a note) for a route the stack file does not map. */
export function memoryOfRoute(specs: BackendSpecs, routeKey: string): number {
  const fn = specs.routes[routeKey] ?? specs.routes['$default'];
  return specs.functions.find((f) => f.id === fn)?.memoryMb ?? 256;
}

export function memoryOf(specs: BackendSpecs, functionId: string): number {
  return specs.functions.find((f) => f.id === functionId)?.memoryMb ?? 256;
}
