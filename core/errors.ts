/**
 * The server's errors, one family (as Powertools' errors.ts and the SDK's client/errors.ts): every error the code
 * raises on purpose is a ServerError with a stable `code`; callers test `instanceof`, never a name string. Causes pass
 * through `ErrorOptions`.
 */
import type { KnownErrorCode } from '../protocol/frames.js';

/** Base class of every error the server raises on purpose. */
export abstract class ServerError extends Error {
  /** What went wrong, stable across releases (log field and metric dimension). */
  abstract readonly code: string;
}

/**
 * A client frame refused with the contract's error frame (`{"type":"error","code":…}`); nothing was stored or
 * delivered for it. The only error whose message reaches a client.
 */
export class FrameError extends ServerError {
  constructor(
    readonly code: KnownErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A msg_id is already stored with another message: one msg_id is written once, never overwritten. */
export class MessageAlreadyStoredError extends ServerError {
  readonly code = 'message_already_stored';
}

/**
 * An acknowledgement about to go out does not match what is stored under the acked msg_id in the acked conversation
 * (sender, client_msg_id or content differ). The ack is not sent; the client gets `internal` and resends.
 */
export class AckInvariantError extends ServerError {
  readonly code = 'ack_invariant';
}

/** A @connections post failed after the SDK's retries (429s, 5xxs, timeouts): the delivery stays pending. */
export class GatewayUnavailableError extends ServerError {
  readonly code = 'gateway_unavailable';
}

/** PutEvents failed (or left entries unpublished) after the SDK's retries. */
export class EventsUnavailableError extends ServerError {
  readonly code = 'events_unavailable';
}

/** A frame the server was about to post is larger than API Gateway takes (128 KB): a reply built without paging. */
export class OversizedFrameError extends ServerError {
  readonly code = 'oversized_frame';
}

/** A BatchWriteItem or BatchGetItem still had unprocessed items after every retry round. */
export class UnprocessedItemsError extends ServerError {
  readonly code = 'unprocessed_items';
}

/** A setting in the environment (or a ChatBackend prop) is invalid; raised once, at start. */
export class ConfigError extends ServerError {
  readonly code = 'config';
}

/** A route event without the authorizer's identity: API Gateway never sends one, so the stack is misconfigured. */
export class MissingIdentityError extends ServerError {
  readonly code = 'missing_identity';
}

/** A push provider (or its token endpoint) did not finish answering within the provider timeout; the call was cut. */
export class ProviderTimeoutError extends ServerError {
  readonly code = 'provider_timeout';
}

/**
 * A push endpoint the sender must not contact: not https on an allowlisted push service, or a name that resolves to a
 * loopback, private or link-local address (core/push-providers/public-addresses.ts).
 */
export class EndpointNotAllowedError extends ServerError {
  readonly code = 'endpoint_not_allowed';
}

/** Named classes by code, for tests and log queries. */
export const SERVER_ERROR_CODES = [
  'message_already_stored',
  'ack_invariant',
  'gateway_unavailable',
  'oversized_frame',
  'events_unavailable',
  'unprocessed_items',
  'config',
  'missing_identity',
  'provider_timeout',
  'endpoint_not_allowed',
] as const;
