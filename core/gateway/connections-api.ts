/**
 * The Gateway port on API Gateway's @connections management API (and on the local emulator, which serves the same
 * API). A 410 means the connection is gone; throttling (429 LimitExceededException) and timeouts are retried by
 * the SDK's standard strategy (exponential backoff with jitter) before GatewayUnavailableError is thrown.
 */
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { ServerFrame } from '../domain/frames.js';
import { MAX_FRAME_BYTES } from '../../protocol/limits.js';
import { GatewayUnavailableError, OversizedFrameError } from '../errors.js';
import type { Gateway, PostResult } from '../ports/gateway.js';

export { GatewayUnavailableError };

export interface ConnectionsApiOptions {
  /** https://{api-id}.execute-api.{region}.amazonaws.com/{stage}, or http://127.0.0.1:8787 locally. */
  readonly endpoint: string;
  readonly region?: string;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Attempts per post, the first included, for 429s, 5xxs and timeouts. */
  readonly maxAttempts?: number;
}

/** SDK v3 errors carry the HTTP status in $metadata; `statusCode` is undefined (aws-facts.md). */
export function isGone(error: unknown): boolean {
  return (
    error instanceof GoneException ||
    (typeof error === 'object' &&
      error !== null &&
      (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 410)
  );
}

/** Socket-level failures worth another try, as Node reports them. */
const NETWORK_ERROR_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);

/** Throttling, server faults, timeouts and network failures: an outage, not a bug in the request. */
function isRetryable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { $metadata, name, code } = error as { $metadata?: { httpStatusCode?: number }; name?: string; code?: string };
  const status = $metadata?.httpStatusCode;
  if (status !== undefined) return status === 429 || status >= 500;
  return name === 'TimeoutError' || (code !== undefined && NETWORK_ERROR_CODES.has(code));
}

export class ConnectionsApiGateway implements Gateway {
  private readonly client: ApiGatewayManagementApiClient;

  constructor(options: ConnectionsApiOptions) {
    this.client = new ApiGatewayManagementApiClient({
      endpoint: options.endpoint,
      region: options.region,
      credentials: options.credentials,
      maxAttempts: options.maxAttempts ?? 4,
      // A post that hangs holds a whole fan-out; give up early and let the sweeper redeliver.
      requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true },
    });
  }

  async post(connectionId: string, frame: ServerFrame): Promise<PostResult> {
    const data = JSON.stringify(frame);
    // API Gateway would refuse it (413) and the frame would be lost: fail loudly here instead.
    if (Buffer.byteLength(data, 'utf8') > MAX_FRAME_BYTES)
      throw new OversizedFrameError(
        `${frame.type} frame of ${Buffer.byteLength(data, 'utf8')} bytes to ${connectionId}`,
      );
    try {
      await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
      return 'delivered';
    } catch (error) {
      if (isGone(error)) return 'gone';
      if (isRetryable(error))
        throw new GatewayUnavailableError(`post to ${connectionId} failed after retries: ${String(error)}`, {
          cause: error,
        });
      throw error;
    }
  }

  async disconnect(connectionId: string): Promise<void> {
    try {
      await this.client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    } catch (error) {
      if (isGone(error)) return;
      if (isRetryable(error))
        throw new GatewayUnavailableError(`close of ${connectionId} failed after retries: ${String(error)}`, {
          cause: error,
        });
      throw error;
    }
  }
}
