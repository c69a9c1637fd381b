/**
 * Requests waiting for their reply: a frame whose `type` is the request's action and whose `seq` matches. A request
 * made while the client is not open waits for the connection; its timeout runs from the call either way.
 */
import { RequestTimeoutError } from './errors.js';
import type { ServerFrame } from './frames.js';
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

export class PendingRequests {
  /** Not sent yet, oldest first. */
  readonly #queued: PendingRequest[] = [];
  readonly #inFlight = new Map<number, PendingRequest>();

  /** Creates a request that fails with RequestTimeoutError after `timeoutMs`; the caller queues or sends it. */
  create(action: string, fields: Readonly<Record<string, unknown>>, timeoutMs: number): [PendingRequest, Promise<ServerFrame>] {
    let request!: PendingRequest;
    const promise = new Promise<ServerFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#forget(request);
        reject(new RequestTimeoutError(action, timeoutMs));
      }, timeoutMs);
      request = { action, fields, seq: undefined, timer, resolve, reject };
    });
    return [request, promise];
  }

  queue(request: PendingRequest): void {
    this.#queued.push(request);
  }

  /** Takes every queued request, oldest first. */
  drainQueue(): PendingRequest[] {
    return this.#queued.splice(0, this.#queued.length);
  }

  markSent(request: PendingRequest, seq: number): void {
    request.seq = seq;
    this.#inFlight.set(seq, request);
  }

  /** Removes and returns the in-flight request with `seq` (and, when given, the action `type`). */
  take(seq: number, type?: string): PendingRequest | undefined {
    const request = this.#inFlight.get(seq);
    if (!request || (type !== undefined && request.action !== type)) return undefined;
    this.#forget(request);
    return request;
  }

  /** Rejects the requests that were sent (their connection is gone); queued ones keep waiting. */
  rejectInFlight(error: Error): void {
    for (const request of [...this.#inFlight.values()]) {
      this.#forget(request);
      request.reject(error);
    }
  }

  /** Rejects every request, sent or queued. */
  rejectAll(error: Error): void {
    for (const request of [...this.#inFlight.values(), ...this.#queued]) {
      this.#forget(request);
      request.reject(error);
    }
  }

  #forget(request: PendingRequest): void {
    clearTimeout(request.timer);
    if (request.seq !== undefined) this.#inFlight.delete(request.seq);
    const index = this.#queued.indexOf(request);
    if (index >= 0) this.#queued.splice(index, 1);
  }
}
