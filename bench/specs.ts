/**
 * What the benchmark needs from the stack — memory size per function, which function serves which route, and the
 * esbuild settings of NodejsFunction — imported from the modules the ChatBackend construct itself reads
 * (lib/function-specs.ts, core/routes.ts), none of which loads aws-cdk-lib.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ROUTE, FUNCTION_IDS, ROUTES } from '../core/routes.js';
import { BUNDLING, FUNCTION_SPECS } from '../lib/function-specs.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

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
  /** Package → module bundled in its place (absolute path). */
  readonly alias: Readonly<Record<string, string>>;
}

export interface BackendSpecs {
  readonly functions: readonly FunctionSpec[];
  /** Route key → function id. */
  readonly routes: Readonly<Record<string, string>>;
  readonly bundle: BundleSettings;
  /** Where the values come from, for the report. */
  readonly notes: string[];
}

export async function loadBackendSpecs(): Promise<BackendSpecs> {
  return {
    functions: FUNCTION_IDS.map((id) => ({
      id,
      entry: FUNCTION_SPECS[id].entry,
      memoryMb: FUNCTION_SPECS[id].memorySize,
    })),
    routes: ROUTES,
    bundle: {
      target: BUNDLING.target,
      format: BUNDLING.format,
      platform: BUNDLING.platform,
      minify: BUNDLING.minify,
      sourcemap: BUNDLING.sourceMap,
      mainFields: [...BUNDLING.mainFields],
      banner: BUNDLING.banner,
      external: [...BUNDLING.externalModules],
      alias: Object.fromEntries(Object.entries(BUNDLING.alias).map(([from, to]) => [from, join(ROOT, to)])),
    },
    notes: ['memory sizes and esbuild settings from lib/function-specs.ts, routes from core/routes.ts'],
  };
}

/** Memory of the function behind a route ($default's for a route the stack does not map). */
export function memoryOfRoute(specs: BackendSpecs, routeKey: string): number {
  return memoryOf(specs, specs.routes[routeKey] ?? specs.routes[DEFAULT_ROUTE]!);
}

export function memoryOf(specs: BackendSpecs, functionId: string): number {
  const spec = specs.functions.find((f) => f.id === functionId);
  if (!spec) throw new Error(`no function ${functionId} in lib/function-specs.ts`);
  return spec.memoryMb;
}
