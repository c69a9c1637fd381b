/**
 * The smoke run: two users on any deployment (AWS or local mode) go through the message path of the wire contract
 * step by step — send, delivery, ack, redelivery after a withheld ack, history, read receipt, group message, a voice
 * note and a picture through the attachment bucket (attachment-steps.ts) and
 * refusals — and each step reports pass or fail. A step whose precondition failed is reported failed too.
 */
import { picture, refuseOthersAttachment, voiceNote } from './attachment-steps.js';
import { SmokeConnection, UpgradeRefusedError, type Frame } from './connection.js';

export interface SmokeUser {
  readonly userId: string;
  readonly token: string;
}

export interface SmokeOptions {
  /** The WebSocket URL (`wss://…/prod`, or `ws://127.0.0.1:8787` locally), without the token. */
  readonly url: string;
  readonly users: readonly [SmokeUser, SmokeUser];
  /**
   * How long to wait for a redelivery: ack timeout + sweep interval + slack. On AWS with the defaults up to about
   * 75 s (15 s ack timeout, a sweep every minute); false skips the step.
   */
  readonly redeliveryTimeoutMs: number | false;
  /** How long any other reply may take. */
  readonly replyTimeoutMs: number;
  /** Told each result as it is known. */
  readonly onResult?: (result: StepResult) => void;
  /** Told the id of the group the run creates, for the clean-up (smoke/cleanup.ts). */
  readonly onGroupCreated?: (groupId: string) => void;
}

export interface StepResult {
  readonly step: string;
  readonly outcome: 'pass' | 'fail' | 'skip';
  readonly detail: string;
  readonly ms: number;
}

/** A failed expectation of a step: its message is the step's detail. */
class StepFailed extends Error {}

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new StepFailed(message);
}

function describeFrame(frame: Frame): string {
  return JSON.stringify(frame).slice(0, 300);
}

/** What the steps share: the two users' connections and what earlier steps produced. */
interface Run {
  readonly options: SmokeOptions;
  readonly tag: string;
  a?: SmokeConnection;
  b?: SmokeConnection;
  first?: number;
  second?: number;
  groupId?: string;
}

type Step = (run: Run) => Promise<string>;

const STEPS: readonly [string, Step][] = [
  ['connect', connect],
  ['send', send],
  ['delivery', delivery],
  ['ack', ack],
  ['redelivery', redelivery],
  ['history', history],
  ['read receipt', readReceipt],
  ['group message', groupMessage],
  ['voice note', voiceNote],
  ['picture', picture],
  ['refusal attachment', refuseOthersAttachment],
  ['refusal self_message', refuseSelfMessage],
  ['refusal bad_request', refuseBadRequest],
  ['refusal not_member', refuseNotMember],
];

export async function runSmoke(options: SmokeOptions): Promise<StepResult[]> {
  const run: Run = { options, tag: Math.random().toString(36).slice(2, 8) };
  const results: StepResult[] = [];
  try {
    for (const [step, fn] of STEPS) {
      const started = Date.now();
      let result: StepResult;
      if (step === 'redelivery' && options.redeliveryTimeoutMs === false) {
        result = { step, outcome: 'skip', detail: 'skipped (--skip-redelivery)', ms: 0 };
      } else if (results.some((r) => r.outcome === 'fail' && r.step === 'connect')) {
        result = { step, outcome: 'fail', detail: 'not run: no connection', ms: 0 };
      } else {
        try {
          result = { step, outcome: 'pass', detail: await fn(run), ms: Date.now() - started };
        } catch (error) {
          result = {
            step,
            outcome: 'fail',
            detail: error instanceof Error ? error.message : String(error),
            ms: Date.now() - started,
          };
        }
      }
      results.push(result);
      options.onResult?.(result);
    }
  } finally {
    run.a?.close();
    run.b?.close();
  }
  return results;
}

// ---- Steps -----------------------------------------------------------------------------------------------------

async function connect(run: Run): Promise<string> {
  const { url, users, replyTimeoutMs } = run.options;
  const open = (user: SmokeUser) =>
    SmokeConnection.open(url, user.token, replyTimeoutMs).catch((error: unknown) => {
      const why =
        error instanceof UpgradeRefusedError && error.status === 401
          ? ' (token refused: wrong secret, issuer, audience or expired?)'
          : '';
      throw new StepFailed(`${user.userId}: ${error instanceof Error ? error.message : String(error)}${why}`);
    });
  run.a = await open(users[0]);
  run.b = await open(users[1]);
  return `${users[0].userId} and ${users[1].userId} connected`;
}

/** A → B; the ack must carry a msg_id and B's id as the session. */
async function sendText(run: Run, text: string): Promise<number> {
  const { users, replyTimeoutMs } = run.options;
  const clientMsgId = `smoke-${run.tag}-${text.length}-${Date.now()}`;
  const ack = await run.a!.request(
    'msg_data',
    { to_session_id: users[1].userId, msg_type: 1, msg_data: text, client_msg_id: clientMsgId },
    replyTimeoutMs,
  );
  expect(ack['type'] === 'msg_data_ack', `expected msg_data_ack, got ${describeFrame(ack)}`);
  expect(
    Number.isInteger(ack['msg_id']) && (ack['msg_id'] as number) > 0,
    `msg_data_ack without a msg_id: ${describeFrame(ack)}`,
  );
  expect(
    ack['session_id'] === users[1].userId && ack['client_msg_id'] === clientMsgId,
    `msg_data_ack for another message: ${describeFrame(ack)}`,
  );
  return ack['msg_id'] as number;
}

/** B's next msg_data of that msg_id from A, with the text sent. */
async function received(run: Run, msgId: number, text: string, timeoutMs: number, what: string): Promise<Frame> {
  const from = run.options.users[0].userId;
  const frame = await run.b!.next(
    (f) => f['type'] === 'msg_data' && f['msg_id'] === msgId && f['from_user_id'] === from,
    timeoutMs,
    what,
  );
  expect(
    frame['msg_data'] === text && frame['msg_type'] === 1,
    `msg_data ${msgId} arrived changed: ${describeFrame(frame)}`,
  );
  return frame;
}

function ackFrame(run: Run, msgId: number): Frame {
  return { action: 'msg_data_ack', msg_id: msgId, session_id: run.options.users[0].userId, session_type: 1 };
}

async function send(run: Run): Promise<string> {
  run.first = await sendText(run, `smoke ${run.tag} one`);
  return `msg_data_ack msg_id ${run.first}`;
}

async function delivery(run: Run): Promise<string> {
  expect(run.first !== undefined, 'not run: send failed');
  await received(
    run,
    run.first,
    `smoke ${run.tag} one`,
    run.options.replyTimeoutMs,
    `msg_data ${run.first} at the receiver`,
  );
  return `receiver got msg_id ${run.first}`;
}

async function ack(run: Run): Promise<string> {
  expect(run.first !== undefined, 'not run: send failed');
  run.b!.send(ackFrame(run, run.first));
  await run.b!.barrier(run.options.replyTimeoutMs);
  const refused = run.b!.received.find((f) => f['type'] === 'error');
  expect(refused === undefined, `ack refused: ${describeFrame(refused ?? {})}`);
  return `msg_data_ack ${run.first} accepted`;
}

/** A second message whose ack B withholds comes again; the acked first one does not. */
async function redelivery(run: Run): Promise<string> {
  const timeoutMs = run.options.redeliveryTimeoutMs as number;
  const text = `smoke ${run.tag} two`;
  run.second = await sendText(run, text);
  await received(run, run.second, text, run.options.replyTimeoutMs, `msg_data ${run.second} at the receiver`);
  const started = Date.now();
  await received(run, run.second, text, timeoutMs, `redelivery of msg_id ${run.second} (ack withheld)`);
  const waited = Date.now() - started;
  run.b!.send(ackFrame(run, run.second));
  await run.b!.barrier(run.options.replyTimeoutMs);
  const again = run.b!.received.filter((f) => f['type'] === 'msg_data' && f['msg_id'] === run.first);
  expect(again.length === 1, `msg_id ${run.first} was acked but delivered ${again.length} times`);
  return `msg_id ${run.second} redelivered after ${(waited / 1000).toFixed(1)} s; acked msg_id ${run.first} was not`;
}

async function history(run: Run): Promise<string> {
  if (run.second === undefined) {
    // Without the redelivery step, the second message is sent and acked here.
    const text = `smoke ${run.tag} two`;
    run.second = await sendText(run, text);
    const frame = await received(
      run,
      run.second,
      text,
      run.options.replyTimeoutMs,
      `msg_data ${run.second} at the receiver`,
    );
    run.b!.send(ackFrame(run, frame['msg_id'] as number));
  }
  const { users, replyTimeoutMs } = run.options;
  const reply = await run.a!.request(
    'msg_list',
    { session_id: users[1].userId, session_type: 1, msg_id_begin: 0, msg_cnt: 10 },
    replyTimeoutMs,
  );
  expect(
    reply['type'] === 'msg_list' && Array.isArray(reply['msg_list']),
    `expected msg_list, got ${describeFrame(reply)}`,
  );
  const list = reply['msg_list'] as Frame[];
  const ids = list.map((m) => m['msg_id']);
  expect(
    ids[0] === run.second && ids.includes(run.first),
    `msg_list should start with ${run.second} and hold ${run.first}: ${ids.join(', ')}`,
  );
  const first = list.find((m) => m['msg_id'] === run.first)!;
  expect(
    first['msg_data'] === `smoke ${run.tag} one` && first['from_user_id'] === users[0].userId,
    `msg ${run.first} listed wrong: ${describeFrame(first)}`,
  );
  return `msg_list holds msg_id ${ids.slice(0, 2).join(', ')}`;
}

async function readReceipt(run: Run): Promise<string> {
  const { users, replyTimeoutMs } = run.options;
  const msgId = run.second ?? run.first;
  expect(msgId !== undefined, 'not run: nothing was sent');
  const reply = await run.b!.request(
    'msg_read_ack',
    { session_id: users[0].userId, session_type: 1, msg_id: msgId },
    replyTimeoutMs,
  );
  expect(reply['type'] === 'msg_read_ack', `expected msg_read_ack, got ${describeFrame(reply)}`);
  const receipt = await run.a!.next(
    (f) => f['type'] === 'msg_read_receipt' && f['user_id'] === users[1].userId,
    replyTimeoutMs,
    'msg_read_receipt at the sender',
  );
  expect(
    receipt['msg_id'] === msgId && receipt['session_type'] === 1,
    `receipt for another message: ${describeFrame(receipt)}`,
  );
  return `sender got msg_read_receipt up to msg_id ${msgId}`;
}

/** A creates a group with B (the group id is whatever the server made); B gets and acks A's group message. */
async function groupMessage(run: Run): Promise<string> {
  const { users, replyTimeoutMs } = run.options;
  const created = await run.a!.request(
    'group_create',
    { group_name: `smoke ${run.tag}`, member_ids: [users[1].userId] },
    replyTimeoutMs,
  );
  expect(
    created['type'] === 'group_create' && typeof created['group_id'] === 'string',
    `expected group_create, got ${describeFrame(created)}`,
  );
  const groupId = created['group_id'] as string;
  run.groupId = groupId;
  run.options.onGroupCreated?.(groupId);
  const text = `smoke ${run.tag} group`;
  const ack = await run.a!.request(
    'msg_data',
    { to_session_id: groupId, msg_type: 17, msg_data: text },
    replyTimeoutMs,
  );
  expect(
    ack['type'] === 'msg_data_ack' && ack['session_type'] === 2,
    `expected a group msg_data_ack, got ${describeFrame(ack)}`,
  );
  const frame = await run.b!.next(
    (f) => f['type'] === 'msg_data' && f['to_session_id'] === groupId,
    replyTimeoutMs,
    'the group message at the member',
  );
  expect(
    frame['msg_id'] === ack['msg_id'] && frame['msg_data'] === text,
    `group message arrived changed: ${describeFrame(frame)}`,
  );
  run.b!.send({ action: 'msg_data_ack', msg_id: frame['msg_id'], session_id: groupId, session_type: 2 });
  return `group ${groupId}: member got msg_id ${String(ack['msg_id'])}`;
}

async function expectRefused(
  connection: SmokeConnection,
  action: string,
  fields: Frame,
  code: string,
  timeoutMs: number,
): Promise<string> {
  const reply = await connection.request(action, fields, timeoutMs);
  expect(reply['type'] === 'error' && reply['code'] === code, `expected error ${code}, got ${describeFrame(reply)}`);
  return `${code}: ${String(reply['message'])}`;
}

async function refuseSelfMessage(run: Run): Promise<string> {
  const self = run.options.users[0].userId;
  return expectRefused(
    run.a!,
    'msg_data',
    { to_session_id: self, msg_type: 1, msg_data: 'to myself' },
    'self_message',
    run.options.replyTimeoutMs,
  );
}

async function refuseBadRequest(run: Run): Promise<string> {
  return expectRefused(
    run.a!,
    'msg_data',
    { to_session_id: run.options.users[1].userId },
    'bad_request',
    run.options.replyTimeoutMs,
  );
}

/** B, removed from the group by its owner, may no longer send to it. */
async function refuseNotMember(run: Run): Promise<string> {
  const { users, replyTimeoutMs } = run.options;
  expect(run.groupId !== undefined, 'not run: no group was created');
  const changed = await run.a!.request(
    'group_change_member',
    { group_id: run.groupId, change_type: 'del', member_ids: [users[1].userId] },
    replyTimeoutMs,
  );
  expect(changed['type'] === 'group_change_member', `removing the member failed: ${describeFrame(changed)}`);
  return expectRefused(
    run.b!,
    'msg_data',
    { to_session_id: run.groupId, msg_type: 17, msg_data: 'still here?' },
    'not_member',
    replyTimeoutMs,
  );
}
