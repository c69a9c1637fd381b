/**
 * The server's errors, one family (as Powertools' errors.ts and the SDK's client/errors.ts): every error the code
 * raises on purpose — in a handler, at a function's start or while the construct checks its props — is a ServerError
 * with a stable `code` and a `name` equal to its class name, written out because the bundles are minified (logs show
 * the name; a minified class is called `e`). Callers test `instanceof`, never a name string. Causes pass through
 * `ErrorOptions`. Bugs that cannot happen in a correct build are assertions (node:assert), not members of the family.
 */
import type { KnownErrorCode } from '../protocol/frames.js';

/** Base class of every error the server raises on purpose. */
export abstract class ServerError extends Error {
  /** The class name, for logs (test/unit/errors.test.ts holds it equal to the class's). */
  abstract override readonly name: string;
  /** What went wrong, stable across releases (log field and metric dimension). */
  abstract readonly code: string;
}

/**
 * A client frame refused with the contract's error frame (`{"type":"error","code":…}`); nothing was stored or
 * delivered for it. The only error whose message reaches a client.
 */
export class FrameError extends ServerError {
  override readonly name = 'FrameError';
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
  override readonly name = 'MessageAlreadyStoredError';
  readonly code = 'message_already_stored';
}

/**
 * An acknowledgement about to go out does not match what is stored under the acked msg_id in the acked conversation
 * (sender, client_msg_id or content differ). The ack is not sent; the client gets `internal` and resends.
 */
export class AckInvariantError extends ServerError {
  override readonly name = 'AckInvariantError';
  readonly code = 'ack_invariant';
}

/** A @connections post failed after the SDK's retries (429s, 5xxs, timeouts): the delivery stays pending. */
export class GatewayUnavailableError extends ServerError {
  override readonly name = 'GatewayUnavailableError';
  readonly code = 'gateway_unavailable';
}

/** A team's own content check (the `contentCheck` prop) failed, timed out or answered what it cannot read. */
export class ContentCheckError extends ServerError {
  override readonly name = 'ContentCheckError';
  readonly code = 'content_check_failed';
}

/** PutEvents failed (or left entries unpublished) after the SDK's retries. */
export class EventsUnavailableError extends ServerError {
  override readonly name = 'EventsUnavailableError';
  readonly code = 'events_unavailable';
}

/**
 * A frame the server was about to post is larger than API Gateway takes (MAX_FRAME_BYTES): a reply or notice built
 * without paging.
 */
export class OversizedFrameError extends ServerError {
  override readonly name = 'OversizedFrameError';
  readonly code = 'oversized_frame';
}

/** A BatchWriteItem or BatchGetItem still had unprocessed items after every retry round. */
export class UnprocessedItemsError extends ServerError {
  override readonly name = 'UnprocessedItemsError';
  readonly code = 'unprocessed_items';
}

/**
 * A setting is invalid: an environment variable when a function starts, a ChatBackend prop or a `-c` context key at
 * synth (before any resource is created), or the package's installation (a handler module or lock file missing).
 */
export class ConfigError extends ServerError {
  override readonly name = 'ConfigError';
  readonly code = 'config';
}

/** A route event without the authorizer's identity: API Gateway never sends one, so the stack is misconfigured. */
export class MissingIdentityError extends ServerError {
  override readonly name = 'MissingIdentityError';
  readonly code = 'missing_identity';
}

/**
 * A connection token the authorizer refuses (missing, not signed by the issuer's keys, expired, issued in the
 * future, of another audience, or without a valid user id in `sub`): the upgrade is answered 401, nothing is stored.
 */
export class InvalidTokenError extends ServerError {
  override readonly name = 'InvalidTokenError';
  readonly code = 'invalid_token';
}

/**
 * A record on the push queue that is not one of the stack's push events (not JSON, or not their schema): it will
 * never become one, so the push sender drops it rather than retrying it.
 */
export class MalformedPushEventError extends ServerError {
  override readonly name = 'MalformedPushEventError';
  readonly code = 'malformed_push_event';
}

/** A push provider (or its token endpoint) did not finish answering within the provider timeout; the call was cut. */
export class ProviderTimeoutError extends ServerError {
  override readonly name = 'ProviderTimeoutError';
  readonly code = 'provider_timeout';
}

/** An APNs stream was reset (RST_STREAM, or the connection went away) before its answer ended; the push is tried again. */
export class ProviderStreamClosedError extends ServerError {
  override readonly name = 'ProviderStreamClosedError';
  readonly code = 'provider_stream_closed';
}

/**
 * A push provider's token endpoint refused the credentials (FCM's OAuth grant for the service account) or answered
 * without a token; the push is tried again like a network failure, then given up.
 */
export class ProviderAuthError extends ServerError {
  override readonly name = 'ProviderAuthError';
  readonly code = 'provider_auth';
}

/**
 * CloudFormation's response URL refused a custom resource's answer (lib/api-gateway-logs-role-handler.ts): the
 * invocation fails, and the stack operation waits for the resource's ServiceTimeout.
 */
export class CustomResourceResponseError extends ServerError {
  override readonly name = 'CustomResourceResponseError';
  readonly code = 'custom_resource_response';
}

/**
 * A push endpoint the sender must not contact: not https on an allowlisted push service, or a name that resolves to a
 * loopback, private or link-local address (core/push-providers/public-addresses.ts).
 */
export class EndpointNotAllowedError extends ServerError {
  override readonly name = 'EndpointNotAllowedError';
  readonly code = 'endpoint_not_allowed';
}
