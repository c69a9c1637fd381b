/**
 * How every Lambda function of the construct is built: NodejsFunction with the local esbuild (never Docker), the
 * settings of lib/function-specs.ts, from this package's modules — the TypeScript sources when the construct runs
 * from this repository, the compiled JavaScript of `dist/` when it runs from an installed package
 * (node_modules/teamtalk-serverless/dist), where the lock file is the consuming app's.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, OutputFormat, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import { BUNDLING } from './function-specs.js';
import { ConfigError } from '../core/errors.js';

/** Runtime of every function; esbuild targets the same Node.js major (lib/function-specs.ts NODE_MAJOR). */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** The root of this package's modules: this file is lib/bundling.ts in the repository, dist/lib/bundling.js installed. */
export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * A module of this package by its source path (`lambdas/ack/handler.ts`): the source in the repository, the
 * compiled `.js` beside it in an installed package, which ships no TypeScript.
 */
export function packageModule(sourcePath: string): string {
  const source = join(PACKAGE_ROOT, sourcePath);
  if (existsSync(source)) return source;
  const compiled = source.replace(/\.ts$/, '.js');
  if (existsSync(compiled)) return compiled;
  throw new ConfigError(
    `ChatBackend: ${sourcePath} is missing from ${PACKAGE_ROOT} (neither .ts nor .js); reinstall the package`,
  );
}

const LOCK_FILES = ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lock', 'bun.lockb'];

/**
 * The lock file of the project the handlers are bundled in: this repository's, or — installed as a package, which
 * ships no lock file — the consuming app's, found above node_modules. NodejsFunction's project root is its folder,
 * which holds the handler sources either way.
 */
export function findLockFile(from: string = PACKAGE_ROOT): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const found = LOCK_FILES.map((name) => join(dir, name)).find((path) => existsSync(path));
    if (found) return found;
    if (dirname(dir) === dir) {
      throw new ConfigError(
        `ChatBackend: no lock file (${LOCK_FILES.join(', ')}) in ${from} or above; install the app's dependencies first (npm install)`,
      );
    }
  }
}

/** The NodejsFunction props that locate and bundle one of this package's handler modules. */
export function bundledHandler(
  entry: string,
  options: { externalModules?: readonly string[] } = {},
): NodejsFunctionProps {
  const lockFile = findLockFile();
  return {
    entry: packageModule(entry),
    handler: 'handler',
    runtime: LAMBDA_RUNTIME,
    architecture: lambda.Architecture.ARM_64,
    projectRoot: dirname(lockFile),
    depsLockFilePath: lockFile,
    bundling: {
      minify: BUNDLING.minify,
      sourceMap: BUNDLING.sourceMap,
      target: BUNDLING.target,
      format: OutputFormat.ESM,
      mainFields: [...BUNDLING.mainFields],
      banner: BUNDLING.banner,
      externalModules: [...(options.externalModules ?? BUNDLING.externalModules)],
      // esbuild resolves an alias from its working directory: absolute paths, wherever this package is installed.
      esbuildArgs: Object.fromEntries(
        Object.entries(BUNDLING.alias).map(([from, to]) => [`--alias:${from}`, packageModule(to)]),
      ),
      forceDockerBundling: false,
      logLevel: LogLevel.WARNING,
    },
  };
}
