/**
 * List prices the benchmark prices counted units with: us-east-1, late 2026, from
 * ../shared/reference/aws-facts.md. Change the date when the figures change.
 */
export const PRICES = {
  date: '2026-11 (late 2026 list prices, us-east-1)',
  source: 'shared/reference/aws-facts.md',
  apiGateway: {
    /** $ per WebSocket message, sent or received (metered in 32 KB units). */
    perMessage: 1.0 / 1e6,
    /** $ per connection-minute. */
    perConnectionMinute: 0.25 / 1e6,
    /** Bytes per billed message unit. */
    messageUnitBytes: 32 * 1024,
  },
  lambda: {
    perRequest: 0.2 / 1e6,
    /** arm64, as lib/chat-backend.ts deploys. */
    perGbSecondArm64: 0.0000133334,
    /** Lambda bills duration rounded up to the millisecond. */
    billingGranularityMs: 1,
  },
  dynamodb: {
    /** On demand, per write request unit (1 KB). */
    perWriteUnit: 0.625 / 1e6,
    /** On demand, per read request unit (4 KB strongly consistent; eventually consistent is 0.5 unit). */
    perReadUnit: 0.125 / 1e6,
  },
  /**
   * S3 Standard, us-east-1, from AWS's public price page (aws.amazon.com/s3/pricing; aws-facts.md has no S3 figures):
   * the attachment bucket (bench/attachment-cost.ts).
   */
  s3: {
    /** PUT, COPY, POST, LIST: $0.005 per 1,000. */
    perPutRequest: 0.005 / 1000,
    /** GET, HEAD and other requests: $0.0004 per 1,000. */
    perGetRequest: 0.0004 / 1000,
    /** Storage, first 50 TB: $0.023 per GB-month (GB = 2³⁰ bytes). */
    perGbMonth: 0.023,
    /** Data transfer out to the internet past the first 100 GB a month: $0.09 per GB (uploads in are free). */
    perGbOut: 0.09,
  },
} as const;

/** Managed peers, $ per million messages delivered one-to-one (publish + delivery), same source. */
export interface PeerPrice {
  readonly name: string;
  /** Publish + delivery. */
  readonly perMillion: number;
  /** With an application-level ack message back to the sender: the source gives it for Ably; 2× otherwise. */
  readonly perMillionWithAck: number;
  readonly ackStated: boolean;
}

export const PEERS: readonly PeerPrice[] = [
  { name: 'Ably', perMillion: 5, perMillionWithAck: 10, ackStated: true },
  { name: 'AppSync Events', perMillion: 2, perMillionWithAck: 4, ackStated: false },
  { name: 'AppSync GraphQL subscriptions', perMillion: 6, perMillionWithAck: 12, ackStated: false },
  { name: 'IoT Core MQTT', perMillion: 2, perMillionWithAck: 4, ackStated: false },
  { name: 'Pusher Channels (full plan use)', perMillion: 3.3, perMillionWithAck: 6.6, ackStated: false },
];

/** Issue 15's target for one-to-one with ack and client_msg_id, stored and numbered. */
export const TARGET_ONE_TO_ONE_PER_MILLION = 8;
