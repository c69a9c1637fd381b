/**
 * Requests waiting for their reply: a frame whose `type` is the request's action and whose `seq` matches. A request
 * made while the client is not open waits for the connection; its timeout runs from the call either way. Writing
 * requests (WRITE_ACTIONS) pass a {@link RateGate} set to the server's per-user write rate, reads (READ_ACTIONS) one
 * set to its read rate; heartbeats are not held. A read refused `rate_limited` is asked again when its gate opens;
 * nothing else is resent, after a refusal or a drop: not all requests are idempotent.
 */
import { RequestTimeoutError, type ChatServerError } from './errors.js';
import { READ_ACTIONS, WRITE_ACTIONS, type ServerFrame } from './frames.js';
import { PACING_WINDOW_MS, type RateGate } from './rate-gate.js';
import type { TimerHandle } from './timers.js';

export interface PendingRequest {
  readonly action: string;
  readonly fields: Readonly<Record<string, unknown>>;
  /** Set once the request was sent on a connection. */
  seq: number | undefined;
  readonly timer: TimerHandle;
  resolve(frame: ServerFrame): void;
  reject(error: Error): void;
}

export interface PendingRequestsOptions {
  readonly timeoutMs: number;
  /** Pacing of each per-user budget of the server's. */
  readonly gates: Readonly<Record<Budget, RateGate>>;
  /** Sends the request's frame with a new seq; returns the seq, or undefined when not connected. */
  dispatch(request: PendingRequest): number | undefined;
  /** A reply is overdue (the request failed with RequestTimeoutError): check the connection. */
  timedOut(): void;
}

type Budget = 'write' | 'read';

const budgetOf = (action: string): Budget | undefined =>
  (WRITE_ACTIONS as readonly string[]).includes(action)
    ? 'write'
    : (READ_ACTIONS as readonly string[]).includes(action)
      ? 'read'
      : undefined;

export class PendingRequests {
  readonly #options: PendingRequestsOptions;
  /** Not sent yet, oldest first. */
  readonly #queued: PendingRequest[] = [];
  readonly #inFlight = new Map<number, PendingRequest>();
  #open = false;
  #drainTimer: TimerHandle | undefined;

  constructor(options: PendingRequestsOptions) {
    this.#options = options;
  }

  /** Starts a request: sent now when its turn comes, failing with RequestTimeoutError after the timeout. */
  add(action: string, fields: Readonly<Record<string, unknown>>): Promise<ServerFrame> {
    return new Promise<ServerFrame>((resolve, reject) => {
      const { timeoutMs } = this.#options;
      const timer = setTimeout(() => {
        this.#forget(request);
        reject(new RequestTimeoutError(action, timeoutMs));
        if (request.seq !== undefined) this.#options.timedOut();
      }, timeoutMs);
      const request: PendingRequest = { action, fields, seq: undefined, timer, resolve, reject };
      this.#queued.push(request);
      this.#drain();
    });
  }

  /** The connection opened: queued requests go out. */
  opened(): void {
    this.#open = true;
    this.#drain();
  }

  /** The connection is gone: requests sent on it fail with `error`; queued ones keep waiting. */
  lost(error: Error): void {
    this.#open = false;
    clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
    for (const request of [...this.#inFlight.values()]) {
      this.#forget(request);
      request.reject(error);
    }
  }

  /** Removes and returns the in-flight request with `seq` (and, when given, the action `type`). */
  take(seq: number, type?: string): PendingRequest | undefined {
    const request = this.#inFlight.get(seq);
    if (!request || (type !== undefined && request.action !== type)) return undefined;
    this.#forget(request);
    return request;
  }

  /**
   * An error frame answered the request with `seq`: a read refused `rate_limited` (other devices of the user spent
   * the budget) goes again once the read gate opens — reads change nothing, so asking twice is safe; any other refusal
   * rejects it. False when no request in flight has that seq.
   */
  refused(seq: number, error: ChatServerError): boolean {
    const request = this.#inFlight.get(seq);
    if (!request) return false;
    if (error.code !== 'rate_limited' || budgetOf(request.action) !== 'read') {
      this.#forget(request);
      request.reject(error);
      return true;
    }
    this.#inFlight.delete(seq);
    request.seq = undefined;
    this.#options.gates.read.close(PACING_WINDOW_MS);
    this.#queued.unshift(request);
    this.#drain();
    return true;
  }

  /** Rejects every request, sent or queued. */
  rejectAll(error: Error): void {
    for (const request of [...this.#inFlight.values(), ...this.#queued]) {
      this.#forget(request);
      request.reject(error);
    }
  }

  /**
   * Sends the queued requests in order; a request waits for its budget's gate (and the requests of that budget behind
   * it), the others go on.
   */
  #drain(): void {
    if (!this.#open) return;
    clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
    const held = new Set<Budget>();
    let wake = Number.POSITIVE_INFINITY;
    for (const request of [...this.#queued]) {
      const budget = budgetOf(request.action);
      if (budget) {
        const wait = held.has(budget) ? 0 : this.#options.gates[budget].delay();
        if (held.has(budget) || wait > 0) {
          if (!held.has(budget)) wake = Math.min(wake, wait);
          held.add(budget);
          continue;
        }
      }
      const seq = this.#options.dispatch(request);
      if (seq === undefined) return; // Not connected after all: the next open sends them.
      if (budget) this.#options.gates[budget].pass();
      this.#queued.splice(this.#queued.indexOf(request), 1);
      request.seq = seq;
      this.#inFlight.set(seq, request);
    }
    if (held.size > 0) this.#drainTimer = setTimeout(() => this.#drain(), wake);
  }

  #forget(request: PendingRequest): void {
    clearTimeout(request.timer);
    if (request.seq !== undefined) this.#inFlight.delete(request.seq);
    const index = this.#queued.indexOf(request);
    if (index >= 0) this.#queued.splice(index, 1);
  }
}
