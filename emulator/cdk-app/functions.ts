/**
 * Lambda functions as child processes, one execution environment each (handler-host.mjs), pooled per function the
 * way Lambda scales: an invocation takes an idle environment or starts one (a cold start), up to a maximum per
 * function, past which invocations wait in order. Each environment has the function's own variables and nothing
 * of this process's, so functions cannot see each other's settings nor the developer's AWS credentials. The
 * function's Timeout ends an invocation ("Task timed out") and its environment; so does an error the handler
 * raises outside its promise, or the process exiting — the next invocation starts a fresh environment.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Context } from 'aws-lambda';
import type { FunctionSpec } from './template.js';

const HOST = fileURLToPath(new URL('./handler-host.mjs', import.meta.url));

/**
 * An invocation the function failed, as Lambda reports it: the errorMessage (an authorizer's `Unauthorized` is
 * read from it), the errorType (`Runtime.UnhandledPromiseRejection`, `Sandbox.Timedout`, …) and the function's
 * own stack trace.
 */
export class FunctionError extends Error {
  override readonly name = 'FunctionError';
  constructor(
    readonly errorType: string,
    message: string,
    readonly functionName: string,
    trace: readonly string[] = [],
  ) {
    super(message);
    this.stack = [`${errorType} in ${functionName}: ${message}`, ...trace.slice(1)].join('\n');
  }
}

export interface FunctionPoolOptions {
  readonly spec: FunctionSpec;
  /** The environment of each new instance (read at its start: the emulator's port is known by then). */
  readonly environment: () => Record<string, string>;
  /** The folder the handler runs in (LAMBDA_TASK_ROOT). */
  readonly codeDirectory: string;
  /** Instances at most; Lambda's default account concurrency is 1,000. @default 10 */
  readonly maxInstances?: number;
  /** Where each line the function prints goes. @default - the console, prefixed with the function's name */
  readonly output?: (functionName: string, line: string) => void;
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

type IpcReply = {
  type: 'result' | 'fatal';
  id?: string;
  ok?: boolean;
  value?: unknown;
  error?: { errorType: string; errorMessage: string; stack?: string[] };
};

/** One execution environment: a handler-host process. */
class Instance {
  readonly child: ChildProcess;
  private pending: { id: string; waiting: Pending; timer: NodeJS.Timeout } | undefined;
  exited = false;
  /** Failed outside its promise, timed out or exited: never given another invocation. */
  retired = false;

  constructor(
    private readonly options: FunctionPoolOptions,
    onExit: (instance: Instance) => void,
  ) {
    const name = options.spec.name;
    this.child = fork(HOST, [], {
      execArgv: [],
      cwd: options.codeDirectory,
      env: options.environment(),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    const print = options.output ?? ((fn, line) => console.log(`[${fn}] ${line}`));
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      let partial = '';
      stream.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop()!;
        for (const line of lines) print(name, line);
      });
    }
    this.child.on('message', (reply: IpcReply) => this.settle(reply));
    this.child.on('error', () => undefined);
    this.child.once('exit', (code, signal) => {
      this.exited = true;
      this.retired = true;
      this.settle({
        type: 'fatal',
        error: {
          errorType: 'Runtime.ExitError',
          errorMessage: `the function's process exited (${signal ?? `code ${code}`})`,
        },
      });
      onExit(this);
    });
  }

  get busy(): boolean {
    return this.pending !== undefined;
  }

  invoke(event: unknown, context: Record<string, unknown>, waiting: Pending): void {
    const id = randomUUID();
    const timeoutMs = this.options.spec.timeoutSeconds * 1000;
    const timer = setTimeout(() => {
      this.settle({
        type: 'fatal',
        error: {
          errorType: 'Sandbox.Timedout',
          errorMessage: `Task timed out after ${this.options.spec.timeoutSeconds.toFixed(2)} seconds`,
        },
      });
      this.child.kill('SIGKILL');
    }, timeoutMs);
    this.pending = { id, waiting, timer };
    this.child.send({ type: 'invoke', id, event, context: { ...context, deadline: Date.now() + timeoutMs } });
  }

  private settle(reply: IpcReply): void {
    const pending = this.pending;
    if (!pending || (reply.id !== undefined && reply.id !== pending.id)) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    if (reply.type === 'result' && reply.ok) return pending.waiting.resolve(reply.value);
    const error = reply.error ?? { errorType: 'Runtime.Unknown', errorMessage: 'no answer' };
    pending.waiting.reject(new FunctionError(error.errorType, error.errorMessage, this.options.spec.name, error.stack));
    // An environment that failed outside its promise, timed out or exited is not reused.
    if (reply.type === 'fatal') {
      this.retired = true;
      if (!this.exited) this.child.kill('SIGKILL');
    }
  }
}

export class FunctionPool {
  private readonly instances = new Set<Instance>();
  private readonly queue: { event: unknown; context: Record<string, unknown>; waiting: Pending }[] = [];
  private stopped = false;

  constructor(private readonly options: FunctionPoolOptions) {}

  /** Invokes the function as Lambda does for API Gateway: the event, and a context for this invocation. */
  invoke(event: unknown, context: Pick<Context, 'awsRequestId'>): Promise<unknown> {
    if (this.stopped)
      return Promise.reject(new FunctionError('Runtime.Stopped', 'the emulator is stopping', this.options.spec.name));
    return new Promise((resolve, reject) => {
      this.queue.push({ event, context: this.contextFields(context.awsRequestId), waiting: { resolve, reject } });
      this.dispatch();
    });
  }

  /** Ends every environment. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const { waiting } of this.queue.splice(0))
      waiting.reject(new FunctionError('Runtime.Stopped', 'the emulator is stopping', this.options.spec.name));
    await Promise.all(
      [...this.instances].map(
        (instance) =>
          new Promise<void>((resolve) => {
            if (instance.exited) return resolve();
            instance.child.once('exit', () => resolve());
            instance.child.kill('SIGKILL');
          }),
      ),
    );
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let instance = [...this.instances].find((i) => !i.busy && !i.retired);
      if (!instance && this.instances.size < (this.options.maxInstances ?? 10)) {
        instance = new Instance(this.options, (gone) => {
          this.instances.delete(gone);
          this.dispatch();
        });
        this.instances.add(instance);
      }
      if (!instance) return;
      const next = this.queue.shift()!;
      const release =
        <T>(settle: (value: T) => void) =>
        (value: T) => {
          settle(value);
          queueMicrotask(() => this.dispatch());
        };
      instance.invoke(next.event, next.context, {
        resolve: release(next.waiting.resolve),
        reject: release(next.waiting.reject),
      });
    }
  }

  private contextFields(awsRequestId: string): Record<string, unknown> {
    const { name, memoryMb } = this.options.spec;
    const environment = this.options.environment();
    return {
      functionName: name,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${environment['AWS_REGION']}:000000000000:function:${name}`,
      memoryLimitInMB: String(memoryMb),
      awsRequestId,
      logGroupName: `/aws/lambda/${name}`,
      logStreamName: `local/[$LATEST]${awsRequestId.replace(/-/g, '')}`,
    };
  }
}
