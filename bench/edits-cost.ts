/**
 * What a recall and an edit cost, from counted units (docs/benchmarks.md "Recall and edit"): on a BenchStack, messages
 * are sent first (not counted), then each is edited once, then recalled once, one request at a time, and every window
 * waits for the members' msg_edited / msg_recalled frames. A one-to-one pair (1 device each) and a group of
 * GROUP_MEMBERS members (1 connection each). `npx tsx bench/edits-cost.ts` runs it alone and prints the rows;
 * bench/run.ts adds them to the cost table.
 */
import { startDynamoDbLocal } from 'teamtalk-local';
import type { BenchClient } from './client.js';
import {
  createGroup,
  msgFrame,
  nextSeq,
  price,
  scaleDollars,
  sendOne,
  window,
  type CostRow,
  type Units,
} from './cost.js';
import { loadBackendSpecs, type BackendSpecs } from './specs.js';
import { startBenchStack, type BenchStack } from './stack.js';
import { dollars } from './stats.js';

/** The group row's size: members at the edge of a team chat (each change posts to every member's connection). */
export const GROUP_MEMBERS = 20;
const SAMPLES = 40;

interface Conversation {
  readonly sender: BenchClient;
  readonly receivers: readonly BenchClient[];
  /** The session from the sender's view, and its type. */
  readonly sessionId: string;
  readonly sessionType: 1 | 2;
}

/** Sends `n` messages (uncounted); their msg_ids. */
async function sendMessages(c: Conversation, n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const frame = msgFrame(c.sessionId, c.sessionType === 2 ? 17 : 1);
    const ack = c.sender.next((f) => f['seq'] === frame.seq && f['type'] === 'msg_data_ack');
    await sendOne(c.sender, c.receivers, c.receivers.length, frame);
    ids.push((await ack)['msg_id'] as number);
  }
  return ids;
}

/** One request, then the frame of its kind at every receiver. */
async function change(c: Conversation, action: 'msg_edit' | 'msg_recall', msgId: number): Promise<void> {
  const notice = action === 'msg_edit' ? 'msg_edited' : 'msg_recalled';
  const arrived = c.receivers.map((r) => r.next((f) => f['type'] === notice && f['msg_id'] === msgId));
  const fields = action === 'msg_edit' ? { msg_data: `edited #${msgId}` } : {};
  const reply = await c.sender.request({
    action,
    seq: nextSeq(),
    session_id: c.sessionId,
    session_type: c.sessionType,
    msg_id: msgId,
    ...fields,
  });
  if (reply['type'] !== action) throw new Error(`${action} refused: ${JSON.stringify(reply)}`);
  await Promise.all(arrived);
}

async function measure(bs: BenchStack, specs: BackendSpecs, c: Conversation): Promise<{ edit: Units; recall: Units }> {
  const ids = await sendMessages(c, SAMPLES);
  const run = (action: 'msg_edit' | 'msg_recall') =>
    window(
      bs,
      specs,
      ids.length,
      async () => {
        for (const id of ids) await change(c, action, id);
      },
      () => bs.invocations.waitFor(action, ids.length),
    );
  const edit = await run('msg_edit');
  return { edit, recall: await run('msg_recall') };
}

const row = (name: string, units: Units): CostRow => ({
  name,
  per: 'per million changes',
  available: true,
  units,
  dollars: scaleDollars(price(units), 1e6),
  samples: SAMPLES,
  notes: [],
});

/** The four rows: edit and recall, one-to-one and in a group of GROUP_MEMBERS. */
export async function runEditsCost(
  dynamoEndpoint: string,
  specs: BackendSpecs,
  log: (m: string) => void,
): Promise<CostRow[]> {
  // Back-to-back requests of one user: budgets raised so none is refused (each still takes its one RateLimits write).
  const bs = await startBenchStack(dynamoEndpoint, {
    WRITE_RATE_LIMIT_PER_SECOND: '1000',
    RATE_LIMIT_PER_SECOND: '1000',
  });
  try {
    log('cost: recall and edit, one-to-one');
    const [alice, bob] = await bs.connectAll(['ed-alice', 'ed-bob']);
    const single = await measure(bs, specs, { sender: alice!, receivers: [bob!], sessionId: 'ed-bob', sessionType: 1 });
    log(`cost: recall and edit, a group of ${GROUP_MEMBERS}`);
    const members = await bs.connectAll(Array.from({ length: GROUP_MEMBERS }, (_, i) => `ed-g${i}`));
    const { groupId, reason } = await createGroup(
      members[0]!,
      members.slice(1).map((m) => m.userId),
    );
    if (!groupId) throw new Error(reason);
    const group = await measure(bs, specs, {
      sender: members[0]!,
      receivers: members.slice(1),
      sessionId: groupId,
      sessionType: 2,
    });
    return [
      row('msg_edit, one-to-one (1 device each)', single.edit),
      row('msg_recall, one-to-one (1 device each)', single.recall),
      row(`msg_edit in a group of ${GROUP_MEMBERS} (1 connection each)`, group.edit),
      row(`msg_recall in a group of ${GROUP_MEMBERS} (1 connection each)`, group.recall),
    ];
  } finally {
    await bs.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dynamo = await startDynamoDbLocal();
  try {
    const rows = await runEditsCost(dynamo.endpoint, await loadBackendSpecs(), (m) => console.error(m));
    for (const r of rows) {
      const u = r.units!;
      const d = r.dollars!;
      console.log(
        `| ${r.name} | ${u.apiIn + u.apiOut} msgs | ${u.lambdaRequests} req | ${u.writeUnits.toFixed(2)} WRU | ${u.readUnits.toFixed(2)} RRU | API ${dollars(d.apiMessages)} · Lambda ${dollars(d.lambdaRequests + d.lambdaDuration)} · DynamoDB ${dollars(d.ddbWrites + d.ddbReads)} | **${dollars(d.total)}** per million |`,
      );
    }
  } finally {
    await dynamo.stop();
  }
  process.exit(0);
}
