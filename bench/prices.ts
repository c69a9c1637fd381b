/**
 * AWS list prices the benchmark, the fixed-cost test and the docs price counted units with: us-east-1, checked in
 * December 2026 on AWS's public price pages (each section names its page). Change `date` when a figure changes.
 * AWS Free Tier allowances are left out: every figure is the price past them.
 */
export const PRICES = {
  date: '2026-12 (us-east-1 list prices, from the pages named in bench/prices.ts)',
  source:
    'AWS price pages: aws.amazon.com/{api-gateway,lambda,dynamodb,s3,cloudwatch,kms,secrets-manager,eventbridge,sqs}/pricing',
  /** aws.amazon.com/api-gateway/pricing (WebSocket APIs). */
  apiGateway: {
    /** $ per WebSocket message, sent or received (metered in 32 KB units). */
    perMessage: 1.0 / 1e6,
    /** $ per connection-minute. */
    perConnectionMinute: 0.25 / 1e6,
    /** Bytes per billed message unit. */
    messageUnitBytes: 32 * 1024,
  },
  /** aws.amazon.com/lambda/pricing. */
  lambda: {
    perRequest: 0.2 / 1e6,
    /** arm64, as lib/chat-backend.ts deploys. */
    perGbSecondArm64: 0.0000133334,
    /** Lambda bills duration rounded up to the millisecond. */
    billingGranularityMs: 1,
  },
  /** aws.amazon.com/dynamodb/pricing/on-demand. */
  dynamodb: {
    /** On demand, per write request unit (1 KB). */
    perWriteUnit: 0.625 / 1e6,
    /** On demand, per read request unit (4 KB strongly consistent; eventually consistent is 0.5 unit). */
    perReadUnit: 0.125 / 1e6,
  },
  /** S3 Standard, aws.amazon.com/s3/pricing: the attachment bucket (bench/attachment-cost.ts). */
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
  /** aws.amazon.com/cloudwatch/pricing: what an idle deployment pays for its monitoring (docs/deploy.md). */
  cloudwatch: {
    /** Standard-resolution alarm, per metric it reads, a month (a metric-math alarm pays for each metric in it). */
    perAlarmMetricMonth: 0.1,
    /** Dashboard, a month (an account's first three of up to 50 metrics each are free). */
    perDashboardMonth: 3,
    /** Custom metric (an EMF name and dimension set), a month, prorated by the hour it is published in. */
    perCustomMetricMonth: 0.3,
    /** Log ingestion, per GB. */
    perLogGbIngested: 0.5,
  },
  /** aws.amazon.com/kms/pricing: a customer managed key (the alarm topic's). */
  kms: {
    /** Per key a month; each of the first two yearly rotations adds $1 a month. */
    perKeyMonth: 1,
  },
  /** aws.amazon.com/secrets-manager/pricing: the push credentials. */
  secretsManager: {
    perSecretMonth: 0.4,
    perTenThousandCalls: 0.05,
  },
  /** aws.amazon.com/eventbridge/pricing: custom events put on a bus (the push hook). */
  eventBridge: {
    perEvent: 1.0 / 1e6,
  },
  /** aws.amazon.com/sqs/pricing: standard queue requests (the push queue). */
  sqs: {
    perRequest: 0.4 / 1e6,
  },
} as const;

/**
 * Managed peers, $ per million messages delivered one-to-one (publish + delivery), from their price pages in
 * December 2026 (ably.com/pricing, aws.amazon.com/appsync/pricing, aws.amazon.com/iot-core/pricing,
 * pusher.com/channels/pricing). None of them stores, numbers or redelivers messages.
 */
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
