/**
 * One HTTP exchange with a push provider, bounded: the whole of it (connect, TLS, request, answer, body) within a
 * timeout, at most a few KB of the answer read, and no redirect followed (node:http never follows one; the caller
 * treats a 3xx as a failure). Built on node:http(s) rather than fetch because a Web Push endpoint's address must be
 * checked at connect time (`lookup`, core/push-providers/public-addresses.ts), which fetch does not expose; FCM and
 * its token endpoint go through it too, so every provider call has the same bounds. Also how every provider (APNs
 * over HTTP/2 too) reads an answer's status and Retry-After.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { ProviderTimeoutError } from '../errors.js';
import { PROVIDER_TIMEOUT_MS } from '../ports/push.js';

/**
 * Most bytes of an answer read. The largest useful answers are an FCM error with its details and an OAuth token
 * grant, each under 2 KB; the rest is cut off unread.
 */
export const PROVIDER_ANSWER_MAX_BYTES = 8 * 1024;

export interface BoundedRequest {
  readonly method: 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** @default PROVIDER_TIMEOUT_MS */
  readonly timeoutMs?: number;
  /** Resolves the host and may refuse its addresses before any connection. @default dns.lookup */
  readonly lookup?: LookupFunction;
  /** Keeps connections to the provider open between calls. @default - Node's global agent */
  readonly agent?: http.Agent;
}

export interface BoundedResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** At most PROVIDER_ANSWER_MAX_BYTES of the body. */
  readonly body: Buffer;
}

/** Sends the request; rejects with ProviderTimeoutError past the timeout, or with the connection's error. */
export function boundedRequest(url: URL, request: BoundedRequest): Promise<BoundedResponse> {
  const timeoutMs = request.timeoutMs ?? PROVIDER_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    const req = client.request(url, {
      method: request.method,
      headers: request.headers,
      ...(request.lookup ? { lookup: request.lookup } : {}),
      ...(request.agent ? { agent: request.agent } : {}),
    });
    const answer = new BoundedAnswer(timeoutMs, () => {
      reject(new ProviderTimeoutError(`${url.host} did not answer within ${timeoutMs} ms`));
      req.destroy();
    });
    const settle = answer.settle;
    req.on('error', (error) => settle(() => reject(error)));
    req.on('response', (res) => {
      const done = () =>
        settle(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: answer.body() }));
      res.on('data', (chunk: Buffer) => {
        if (!answer.add(chunk)) return;
        done();
        res.destroy(); // the rest is never read
      });
      res.on('end', done);
      res.on('error', (error) => settle(() => reject(error)));
    });
    req.end(request.body);
  });
}

/**
 * The bookkeeping of one bounded provider answer, shared by the HTTP/1 request above and APNs' HTTP/2 streams: a
 * timer that fires `onTimeout` once, an outcome settled once, and at most PROVIDER_ANSWER_MAX_BYTES of the body kept.
 */
export class BoundedAnswer {
  private settled = false;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(timeoutMs: number, onTimeout: () => void) {
    this.timer = setTimeout(() => this.settle(onTimeout), timeoutMs);
  }

  /** Runs `outcome` unless an outcome ran already; stops the timer. */
  readonly settle = (outcome: () => void): void => {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    outcome();
  };

  /** Keeps what fits of `chunk`; true once the cap is reached (the caller answers and stops reading). */
  add(chunk: Buffer): boolean {
    if (this.settled) return false;
    this.chunks.push(chunk.subarray(0, PROVIDER_ANSWER_MAX_BYTES - this.size));
    this.size += chunk.length;
    return this.size >= PROVIDER_ANSWER_MAX_BYTES;
  }

  body(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** A Retry-After header (delta-seconds or an HTTP date) in ms from `nowMs`; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, nowMs: number): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** 429 and 5xx are worth another try; everything else is an answer. */
export const isRetryableStatus = (status: number): boolean => status === 429 || status >= 500;
