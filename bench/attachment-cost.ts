/**
 * The cost of a voice note and of a picture, beside the text message: `npx tsx bench/attachment-cost.ts` prints the
 * table docs/benchmarks.md quotes. What an attachment adds to a text message is fixed by the design
 * (core/usecases/attachments.ts), so it is counted here, not measured:
 * - S3 requests: the client's PUT; at send, a HEAD of the stored copy (none yet: a miss, billed as a HEAD), a HEAD of
 *   the upload and the COPY that stores it (once per upload, whatever the conversations); per download, the
 *   client's GET;
 * - DynamoDB at send: the byte quota's UpdateItem and the reference row's PutItem (1 write unit each);
 * - two more requests over the WebSocket (attachment_upload, and attachment_url per download): 2 API Gateway
 *   messages and 1 Lambda invocation each; attachment_upload takes one RateLimits write (the write budget),
 *   attachment_url one (the read budget) and a strongly consistent GetItem of the reference row;
 * - Lambda time: ATTACHMENT_LAMBDA_MS (an estimate, not measured: the S3 calls of local mode say nothing about AWS's
 *   latency) for each of attachment_upload, attachment_url and the send's HEAD + COPY, at 256 MB;
 * - storage: the upload for a day (its lifecycle rule), the stored copy for as long as messages are kept.
 * The text message itself is the benchmark's measured one-to-one row (bench/results/latest.json).
 */
import { readFileSync } from 'node:fs';
import { PRICES } from './prices.js';

/** Assumed Lambda time of each attachment step (one or two S3 round trips in the region). */
export const ATTACHMENT_LAMBDA_MS = 50;
const MEMORY_GB = 256 / 1024;
const GIB = 1024 ** 3;

export interface AttachmentCase {
  readonly name: string;
  readonly bytes: number;
}

/** A 15 s voice note in opus at ~32 kbit/s (what MediaRecorder makes), and a phone photo resized to ~1600 px JPEG. */
export const CASES: readonly AttachmentCase[] = [
  { name: 'voice note (15 s opus, 60 KiB)', bytes: 60 * 1024 },
  { name: 'picture (1600 px JPEG, 300 KiB)', bytes: 300 * 1024 },
  { name: 'largest voice note (2 MiB)', bytes: 2 * 1024 * 1024 },
  { name: 'largest picture (10 MiB)', bytes: 10 * 1024 * 1024 },
];

export interface AttachmentCost {
  /** $ per attachment sent and downloaded once, beyond the text message. */
  readonly s3Requests: number;
  readonly extraRequests: number;
  /** $ per attachment: the day the upload is kept. */
  readonly uploadStorage: number;
  /** $ per attachment and month it is kept. */
  readonly storagePerMonth: number;
  /** $ per download to the internet. */
  readonly transferOut: number;
}

/** One attachment sent in a single chat and downloaded once by the peer. */
export function attachmentCost(bytes: number, downloads = 1): AttachmentCost {
  const { s3, apiGateway, lambda, dynamodb } = PRICES;
  const s3Requests = s3.perPutRequest * 2 + s3.perGetRequest * (2 + downloads); // PUT, COPY; 2 HEADs; per download GET
  const lambdaStep = lambda.perRequest + MEMORY_GB * (ATTACHMENT_LAMBDA_MS / 1000) * lambda.perGbSecondArm64;
  const upload = 2 * apiGateway.perMessage + lambdaStep + dynamodb.perWriteUnit;
  const download = 2 * apiGateway.perMessage + lambdaStep + dynamodb.perWriteUnit + dynamodb.perReadUnit;
  // The send's own invocation is the text message's; its checks add time, the quota and the reference row.
  const sendChecks = lambdaStep - lambda.perRequest + 2 * dynamodb.perWriteUnit;
  const gb = bytes / GIB;
  return {
    s3Requests,
    extraRequests: upload + downloads * download + sendChecks,
    uploadStorage: (gb * s3.perGbMonth) / 30,
    storagePerMonth: gb * s3.perGbMonth,
    transferOut: downloads * gb * s3.perGbOut,
  };
}

/** The measured text message, $ per million (one-to-one with ack, with client_msg_id). */
function textPerMillion(): number | undefined {
  try {
    const results = JSON.parse(readFileSync(new URL('./results/latest.json', import.meta.url), 'utf8')) as {
      cost: { rows: { name: string; dollars?: { total: number } }[] };
    };
    return results.cost.rows.find((r) => r.name.startsWith('One-to-one with ack (1 device each)'))?.dollars?.total;
  } catch {
    return undefined;
  }
}

const usd = (perOne: number) => `$${(perOne * 1e6).toFixed(2)}`;

export function renderAttachmentCosts(): string {
  const text = textPerMillion();
  const lines = [
    `Per million attachments, each sent one-to-one and downloaded once; ${PRICES.date}; S3 Standard from aws.amazon.com/s3/pricing.`,
    `Text message (measured, bench/results/latest.json): ${text === undefined ? 'not measured' : `$${text.toFixed(2)}`} per million.`,
    '',
    '| attachment | S3 requests | upload + url requests, Lambda | upload kept a day | message + attachment | storage per month kept | transfer out (past 100 GB/month) |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const c of CASES) {
    const cost = attachmentCost(c.bytes);
    const total = (text ?? 0) / 1e6 + cost.s3Requests + cost.extraRequests + cost.uploadStorage;
    lines.push(
      `| ${c.name} | ${usd(cost.s3Requests)} | ${usd(cost.extraRequests)} | ${usd(cost.uploadStorage)} | **${usd(total)}** | ${usd(cost.storagePerMonth)} | ${usd(cost.transferOut)} |`,
    );
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(renderAttachmentCosts());
