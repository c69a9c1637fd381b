// One Lambda execution environment: a process running one function's handler, one invocation at a time, as
// Lambda's Node.js runtime does. Plain JavaScript, started on bare Node by functions.ts with the
// function's own environment (LAMBDA_TASK_ROOT, _HANDLER, its variables). It loads `_HANDLER` (`file.export`,
// the file found as .js, .mjs or .cjs, CommonJS or ESM) on the first invocation, then answers each `invoke`
// message: an async handler's promise, or a callback-style handler's callback (or context.succeed/fail/done).
// Module formats follow Lambda, whose code folder has no parent: .js is CommonJS unless a package.json inside the
// code folder says "type": "module", whatever the project around a local cdk.out says.
// An error the handler raises outside its promise (an un-awaited rejection, a throw in a timer) fails the
// invocation in progress and ends this process, as it resets a Lambda environment; the parent starts another.
import { existsSync, readFileSync } from 'node:fs';
import Module, { createRequire, register } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

// Modules the function does not bundle (the AWS SDK, which Lambda's runtime provides) resolve from the emulator's.
register('./runtime-modules.mjs', { parentURL: import.meta.url, data: { fallbackParent: import.meta.url } });

const root = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
const handlerName = process.env._HANDLER ?? 'index.handler';
let loading;
let current;

// CommonJS files of the code folder load as CommonJS even inside a project whose package.json says "module".
const loadJs = Module._extensions['.js'];
Module._extensions['.js'] = function (module, filename) {
  if (filename.startsWith(root + sep) && formatOf(filename) === 'commonjs')
    return module._compile(readFileSync(filename, 'utf8'), filename);
  return loadJs.call(this, module, filename);
};

process.on('message', (message) => {
  if (message?.type === 'invoke') void invoke(message);
});
process.on('uncaughtException', (error) => fatal('Runtime.UncaughtException', error));
process.on('unhandledRejection', (reason) => fatal('Runtime.UnhandledPromiseRejection', reason));

async function invoke({ id, event, context }) {
  current = id;
  try {
    const handler = await (loading ??= loadHandler());
    const value = await run(handler, event, lambdaContext(context));
    reply({ type: 'result', id, ok: true, value: value === undefined ? null : value });
  } catch (error) {
    reply({ type: 'result', id, ok: false, error: describe(error) });
  } finally {
    current = undefined;
  }
}

async function loadHandler() {
  const dot = handlerName.lastIndexOf('.');
  const [file, exportName] =
    dot < 0 ? [handlerName, 'handler'] : [handlerName.slice(0, dot), handlerName.slice(dot + 1)];
  const path = ['.js', '.mjs', '.cjs']
    .map((extension) => join(root, file + extension))
    .find((candidate) => existsSync(candidate));
  if (!path) throw named('Runtime.ImportModuleError', `Cannot find module '${file}' in ${root}`);
  const module = formatOf(path) === 'commonjs' ? createRequire(path)(path) : await import(pathToFileURL(path).href);
  const handler = module[exportName] ?? module.default?.[exportName];
  if (typeof handler !== 'function')
    throw named('Runtime.HandlerNotFound', `${file}.${exportName} is undefined or not exported`);
  return handler;
}

/** Lambda's rule: .mjs is ESM, .cjs CommonJS, .js whatever the nearest package.json within the code folder says. */
function formatOf(file) {
  if (file.endsWith('.mjs')) return 'module';
  if (file.endsWith('.cjs')) return 'commonjs';
  for (let folder = dirname(file); folder === root || folder.startsWith(root + sep); folder = dirname(folder)) {
    const manifest = join(folder, 'package.json');
    if (existsSync(manifest))
      return JSON.parse(readFileSync(manifest, 'utf8')).type === 'module' ? 'module' : 'commonjs';
    if (folder === root) break;
  }
  return 'commonjs';
}

function run(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error, value) => {
      if (settled) return;
      settled = true;
      if (error !== null && error !== undefined) reject(error instanceof Error ? error : new Error(String(error)));
      else resolve(value);
    };
    context.done = (error, value) => settle(error, value);
    context.succeed = (value) => settle(null, value);
    context.fail = (error) => settle(error ?? new Error('failed'));
    let result;
    try {
      result = handler(event, context, (error, value) => settle(error, value));
    } catch (error) {
      return settle(error);
    }
    if (result && typeof result.then === 'function')
      result.then(
        (value) => settle(null, value),
        (error) => settle(error ?? new Error('rejected')),
      );
  });
}

function lambdaContext({ deadline, ...fields }) {
  return {
    ...fields,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

function fatal(errorType, error) {
  const id = current;
  current = undefined;
  const message = { type: 'fatal', id, error: { ...describe(error), errorType } };
  if (!process.connected) process.exit(1);
  process.send(message, () => process.exit(1));
}

function reply(message) {
  if (process.connected) process.send(message);
}

function named(name, message) {
  const error = new Error(message);
  error.name = name;
  return error;
}

function describe(error) {
  if (error instanceof Error)
    return { errorType: error.name, errorMessage: error.message, stack: error.stack?.split('\n') ?? [] };
  return { errorType: 'Error', errorMessage: String(error), stack: [] };
}
