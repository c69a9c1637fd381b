/**
 * `npm run bench:capacity`: which DynamoDB partition key saturates first (docs/capacity.md). Drives sustained
 * one-to-one traffic (the throughput workload) and one message to a 100-member group through the local stack, once
 * per `pendingShards` setting, records the write units every partition key takes each second (bench/partitions.ts),
 * and extrapolates: one partition takes 1,000 write units a second, so a key that takes u units per message of the
 * whole deployment caps the deployment at 1,000 / u messages a second. Prints a markdown report and writes it to
 * bench/results/capacity.md. Loopback only; not part of `npm test`.
 */
import './quiet.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDynamoDbLocal } from 'teamtalk-local';
import { logger } from '../core/observability.js';
import { runFanout } from './fanout.js';
import { PartitionRecorder } from './partitions.js';
import { ROOT } from './specs.js';
import { startBenchStack, type BenchStack } from './stack.js';
import { fixed, table } from './stats.js';
import { runThroughput } from './throughput.js';

logger.setLogLevel('ERROR');
const PARTITION_WRITE_UNITS = 1000;
const SHARD_SETTINGS = [1, 4];
const PAIRS = 20;
const SECONDS = 10;
const GROUP_MEMBERS = 100;
const log = (message: string) => console.error(`[capacity] ${message}`);

/** The stack with the recorder cleared whenever the workloads clear the bench's counters (after their warm-up). */
function recorded(bs: BenchStack, recorder: PartitionRecorder): BenchStack {
  return { ...bs, resetCounters: () => (bs.resetCounters(), recorder.reset()) };
}

async function measure(endpoint: string, shards: number): Promise<string> {
  const recorder = new PartitionRecorder();
  const bs = await startBenchStack(endpoint, { PENDING_SHARDS: String(shards) }, [recorder]);
  recorder.bind(bs.stack.tables);
  try {
    log(`pendingShards ${shards}: ${PAIRS} pairs for ${SECONDS} s`);
    const run = await runThroughput(recorded(bs, recorder), PAIRS, SECONDS, `cap${shards}-`);
    const perMessage = (units: number) => units / Math.max(1, run.acked);
    const oneToOne = recorder
      .hottest()
      .map((h) => [
        h.table,
        `\`${h.key}\``,
        fixed(perMessage(h.tableUnits), 2),
        String(h.keys),
        fixed(h.peakPerSecond, 0),
        fixed(perMessage(h.keyUnits), 3),
        fixed(PARTITION_WRITE_UNITS / perMessage(h.keyUnits), 0),
      ]);
    log(`pendingShards ${shards}: one message to ${GROUP_MEMBERS} members`);
    const fan = await runFanout(recorded(bs, recorder), GROUP_MEMBERS, 1);
    const group = recorder
      .hottest()
      .map((h) => [
        h.table,
        `\`${h.key}\``,
        fixed(h.tableUnits, 0),
        String(h.keys),
        fixed(h.keyUnits, 0),
        fixed(PARTITION_WRITE_UNITS / h.keyUnits, 1),
      ]);
    return `### pendingShards = ${shards}

One-to-one: ${run.acked} messages acked in ${fixed(run.seconds, 1)} s (${fixed(run.messagesPerSecond, 0)} a second, ${PAIRS} pairs, each delivery acked).

${table(['table', 'hottest key', 'write units per message', 'keys written', 'hottest key: peak units in one second', 'hottest key: units per message of the deployment', 'deployment messages a second at 1,000 units/s on it'], oneToOne)}

One message to a group of ${GROUP_MEMBERS} (${fan.available ? `${GROUP_MEMBERS - 1} deliveries, each acked` : `n/a: ${fan.reason ?? ''}`}), the send and its acks:

${table(['table', 'hottest key', 'write units', 'keys written', 'hottest key: units', 'such messages a second at 1,000 units/s on it'], group)}
`;
  } finally {
    await bs.stop();
  }
}

async function main(): Promise<void> {
  const dynamo = await startDynamoDbLocal();
  try {
    const sections: string[] = [];
    for (const shards of SHARD_SETTINGS) sections.push(await measure(dynamo.endpoint, shards));
    const report = `# Capacity: write units per partition key (\`npm run bench:capacity\`)

Run ${new Date().toISOString()}. Local stack on DynamoDB Local; units per item estimated from its size (1 per started
KB; these items are < 1 KB), every write of every function recorded with its partition key and second. DynamoDB takes
at most ${PARTITION_WRITE_UNITS.toLocaleString('en-US')} write units a second on one partition; the last column is where the
key would throttle if the whole deployment's traffic grew with the same mix. Keys whose load is one user's or one
conversation's (RateLimits, Sessions, Conversations, Messages) do not grow with the deployment but with that user or
conversation: their ceilings are in docs/capacity.md.

${sections.join('\n')}`;
    writeFileSync(join(ROOT, 'bench', 'results', 'capacity.md'), report);
    process.stdout.write(report);
  } finally {
    await dynamo.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
