/**
 * Handlers that run in the emulator's own process (local mode's) can raise errors nobody awaits: a rejected promise
 * left un-awaited, a throw inside a timer. On Lambda that fails the invocation and resets that one execution
 * environment; in one Node process it would end the process, every connection with it. Each invocation runs in an
 * AsyncLocalStorage scope, so once `containStrayErrors` is installed, a stray error is traced to the invocation
 * whose code raised it and fails that invocation (the client gets API Gateway's error frame), and the process
 * goes on. Installed by the command-line entry points only: a library must not own process-wide handlers (a test
 * runner has its own).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

interface InvocationScope {
  readonly label: string;
  /** The invocation has settled: a stray error now can only be logged. */
  ended: boolean;
  fail(error: unknown): void;
}

const scope = new AsyncLocalStorage<InvocationScope>();

/** An error raised by a handler's code outside the promise it returned (what Lambda reports as an unhandled error). */
export class StrayHandlerError extends Error {
  override readonly name = 'StrayHandlerError';
  constructor(
    readonly kind: 'uncaughtException' | 'unhandledRejection',
    cause: unknown,
  ) {
    super(`${kind}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Runs `fn` in an invocation scope: settles with it, or rejects first with a stray error its code raised. */
export function runInScope<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const current: InvocationScope = { label, ended: false, fail: () => undefined };
  const settled = new Promise<T>((resolve, reject) => {
    current.fail = reject;
    scope.run(current, () => {
      void (async () => fn())().then(resolve, reject);
    });
  });
  // Timers the invocation started keep its scope: once it settled, their errors are only logged.
  return settled.finally(() => (current.ended = true));
}

export type StrayErrorLog = (message: string, details: Record<string, unknown>) => void;

/** Keeps the process alive through stray errors, failing the invocation that raised each. Returns the uninstaller. */
export function containStrayErrors(log: StrayErrorLog): () => void {
  const handle = (kind: StrayHandlerError['kind']) => (error: unknown) => {
    const current = scope.getStore();
    const where = !current
      ? 'outside any invocation'
      : current.ended
        ? `in ${current.label}, after it ended`
        : `in ${current.label}: that invocation fails`;
    log(`${kind} ${where}; the process goes on`, {
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    if (current && !current.ended) current.fail(new StrayHandlerError(kind, error));
  };
  const onException = handle('uncaughtException');
  const onRejection = handle('unhandledRejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
