/**
 * The checks against the tables (Scan), once the run has settled: stored twice, acks against rows, what each device
 * holds against what is stored, what a full read serves, and the cause of every msg_id gap.
 */
import { conversationOf } from '../client/index.js';
import { groupConversationId } from '../core/domain/group.js';
import { singleConversationId } from '../core/domain/ids.js';
import { ackConversation, key, retryRead, scanAll } from './common.js';
import type { Run } from './context.js';
import type { Device, Population } from './devices.js';
import type { Settled } from './settle.js';
import type { SendPhase, SendRecord } from './workload.js';

type Row = Record<string, unknown>;

/** What the tables hold, indexed. */
export interface Tables {
  readonly messageRows: readonly Row[];
  readonly heads: readonly Row[];
  /** Messages rows by (conversation, msg_id). */
  readonly stored: ReadonlyMap<string, Row>;
  readonly storedByConversation: ReadonlyMap<string, ReadonlySet<number>>;
  /** msg_ids by idempotency key: (sender, conversation, client_msg_id). */
  readonly bySenderClientId: ReadonlyMap<string, readonly number[]>;
}

export interface SendChecks {
  readonly storedTwice: number;
  readonly acked: number;
  readonly unacked: number;
  readonly refused: number;
  readonly reusedRefused: number;
  readonly reusedAccepted: number;
  readonly acksForUnstored: number;
}

export interface HoldingChecks {
  duplicates: number;
  missing: number;
  /** Missing, but a hole the device's SDK will ask for again (its retry is not due yet). */
  awaitingHoleRetry: number;
  phantoms: number;
  ownSendsEchoed: number;
  ownSendsEchoedLive: number;
}

export interface GapChecks {
  readonly gaps: number;
  readonly gapCauses: ReadonlyMap<string, number>;
}

export interface Findings {
  readonly tables: Tables;
  readonly sends: SendChecks;
  readonly holding: HoldingChecks;
  readonly missingFromServerReads: number;
  readonly gaps: GapChecks;
  /** Details of what failed, in the order found (the must-be-0 figures add theirs later). */
  readonly violations: string[];
}

/** Violations, the first 5 of each kind in detail. */
class Violations {
  readonly list: string[] = [];
  readonly #shown = new Map<string, number>();

  note(kind: string, detail: string): void {
    const n = (this.#shown.get(kind) ?? 0) + 1;
    this.#shown.set(kind, n);
    if (n <= 5) this.list.push(`${kind}: ${detail}`);
  }
}

interface Checking {
  readonly run: Run;
  readonly population: Population;
  readonly records: readonly SendRecord[];
  readonly tables: Tables;
  /** Each user's conversations: their groups, and the one-to-one ones with a stored message. */
  readonly userConversations: ReadonlyMap<string, ReadonlySet<string>>;
  readonly violations: Violations;
}

export async function runChecks(
  run: Run,
  population: Population,
  phase: SendPhase,
  settled: Settled,
): Promise<Findings> {
  const tables = await readTables(run);
  const violations = new Violations();
  const records = phase.workload.records;
  const sends = checkSends(records, population.devices, tables, violations);
  const userConversations = conversationsOf(population, tables);
  const checking: Checking = { run, population, records, tables, userConversations, violations };
  const holding = checkHoldings(checking);
  for (const failure of settled.syncFailures) violations.list.push(`final catch-up failed: ${failure}`);
  const missingFromServerReads = await checkServerReads(checking);
  const gaps = explainGaps(checking);
  return { tables, sends, holding, missingFromServerReads, gaps, violations: violations.list };
}

async function readTables({ db, stack }: Run): Promise<Tables> {
  const [messageRows, heads] = await Promise.all([
    scanAll(db, stack.tables.Messages),
    scanAll(db, stack.tables.Conversations),
  ]);
  const stored = new Map<string, Row>();
  const storedByConversation = new Map<string, Set<number>>();
  const bySenderClientId = new Map<string, number[]>();
  for (const row of messageRows) {
    const conversationId = row['conversation_id'] as string;
    const msgId = row['msg_id'] as number;
    stored.set(key(conversationId, msgId), row);
    let ids = storedByConversation.get(conversationId);
    if (!ids) storedByConversation.set(conversationId, (ids = new Set()));
    ids.add(msgId);
    if (typeof row['client_msg_id'] === 'string') {
      const k = `${row['from_user_id'] as string}\u0000${conversationId}\u0000${row['client_msg_id']}`;
      bySenderClientId.set(k, [...(bySenderClientId.get(k) ?? []), msgId]);
    }
  }
  return { messageRows, heads, stored, storedByConversation, bySenderClientId };
}

/** Sends: stored twice, acked, unacked, refused; every ack frame against the table. */
function checkSends(
  records: readonly SendRecord[],
  devices: readonly Device[],
  tables: Tables,
  violations: Violations,
): SendChecks {
  const storedTwice = [...tables.bySenderClientId.entries()].filter(([, ids]) => ids.length > 1);
  for (const [k, ids] of storedTwice)
    violations.note('stored twice', `${k.replace('\u0000', ' ')} as msg_ids ${ids.join(', ')}`);
  const unacked = records.filter((r) => !r.ack && !r.refused);
  const refused = records.filter((r) => r.refused && !(r.mustBeRefused && r.refused === 'client_msg_id_reused'));
  const reusedAccepted = records.filter((r) => r.mustBeRefused && r.ack);
  for (const r of reusedAccepted)
    violations.note(
      'a reused key with other content acked',
      `${r.clientMsgId} ${r.device.name} → ${r.to} msg_id ${r.ack!.msg_id}`,
    );
  for (const r of unacked)
    violations.note('send never acked', `${r.clientMsgId} ${r.device.name} → ${r.to} (${r.errors.join(', ')})`);
  for (const r of refused) violations.note('send refused', `${r.clientMsgId} ${r.device.name} → ${r.to}: ${r.refused}`);
  let acksForUnstored = 0;
  for (const d of devices) {
    for (const ack of d.ackFrames) {
      const row = tables.stored.get(key(ackConversation(ack), ack.msg_id));
      if (!row || row['client_msg_id'] !== ack.client_msg_id || row['from_user_id'] !== d.userId) {
        acksForUnstored++;
        violations.note(
          'ack for an unstored message',
          `${d.name} ${ackConversation(ack)} msg_id ${ack.msg_id} (${ack.client_msg_id ?? 'no client_msg_id'})`,
        );
      }
    }
  }
  return {
    storedTwice: storedTwice.length,
    acked: records.filter((r) => r.ack).length,
    unacked: unacked.length,
    refused: refused.length,
    reusedRefused: records.filter((r) => r.mustBeRefused && r.refused === 'client_msg_id_reused').length,
    reusedAccepted: reusedAccepted.length,
    acksForUnstored,
  };
}

function conversationsOf({ users, groupsOf }: Population, tables: Tables): Map<string, Set<string>> {
  const userConversations = new Map<string, Set<string>>(
    users.map((u) => [u, new Set(groupsOf.get(u)!.map((g) => groupConversationId(g.id)))]),
  );
  for (const conversationId of tables.storedByConversation.keys()) {
    const parts = conversationId.split('#');
    if (parts[0] === 's') for (const u of parts.slice(1)) userConversations.get(u)?.add(conversationId);
  }
  return userConversations;
}

/** Per device: duplicates after the SDK, and what it holds against what is stored in its conversations. */
function checkHoldings(checking: Checking): HoldingChecks {
  const counts: HoldingChecks = {
    duplicates: 0,
    missing: 0,
    awaitingHoleRetry: 0,
    phantoms: 0,
    ownSendsEchoed: 0,
    ownSendsEchoedLive: 0,
  };
  for (const d of checking.population.devices) checkHolding(checking, d, counts);
  return counts;
}

function checkHolding(checking: Checking, d: Device, counts: HoldingChecks): void {
  const { tables, userConversations, violations } = checking;
  const held = new Set<string>();
  for (const [k, n] of d.seen) {
    held.add(k);
    if (n > 1) {
      counts.duplicates += n - 1;
      violations.note('duplicate after SDK de-dup', `${d.name} ${k.replace('\u0000', ' msg_id ')} seen ${n} times`);
    }
  }
  for (const k of new Set(d.ackFrames.map((ack) => key(ackConversation(ack), ack.msg_id)))) {
    if (d.seen.has(k)) {
      counts.ownSendsEchoed++;
      if (d.rawKeys.has(k)) counts.ownSendsEchoedLive++;
    }
    held.add(k);
  }
  for (const k of held) {
    if (!tables.stored.has(k)) {
      counts.phantoms++;
      violations.note('held but not stored', `${d.name} ${k.replace('\u0000', ' msg_id ')}`);
    }
  }
  for (const conversationId of userConversations.get(d.userId)!) {
    for (const msgId of tables.storedByConversation.get(conversationId) ?? []) {
      if (held.has(key(conversationId, msgId))) continue;
      // A hole the SDK passed while the message was not yet stored (a slow resend): it asks again when due (client/held.ts).
      const holes = d.client.getSyncState().holes?.[sessionKeyOf(d, conversationId)] ?? [];
      if (holes.some((hole) => hole.msgId === msgId)) {
        counts.awaitingHoleRetry++;
        continue;
      }
      counts.missing++;
      violations.note('missing after catch-up', describeMissing(checking, d, conversationId, msgId));
    }
  }
}

/** The SDK's key of a conversation as the device's user sees it. */
function sessionKeyOf(d: Device, conversationId: string): string {
  return conversationId.startsWith('g#')
    ? `2:${conversationId.slice(2)}`
    : `1:${conversationId
        .split('#')
        .slice(1)
        .find((u) => u !== d.userId)!}`;
}

/** Everything known about a stored message a device lacks: its send, the device's catch-up state, the timeline. */
function describeMissing({ run, records, tables }: Checking, d: Device, conversationId: string, msgId: number): string {
  const { startedAt } = run;
  const k = key(conversationId, msgId);
  const row = tables.stored.get(k)!;
  const record = records.find((r) => r.clientMsgId === row['client_msg_id']);
  const state = d.client.getSyncState();
  const sessionKey = sessionKeyOf(d, conversationId);
  return (
    `${d.name} lacks ${conversationId} msg_id ${msgId} (${row['client_msg_id'] as string}, sent from ${record?.device.name ?? '?'}, ` +
    `${record?.attempts ?? '?'} app attempts [${record?.errors.join(', ') ?? ''}], acked as ${record?.ack?.msg_id ?? 'none'}); ` +
    `device's catch-up mark there ${state.latestMsgIds[sessionKey] ?? 0}, held above [${state.heldAbove?.[sessionKey]?.join(', ') ?? ''}]; ` +
    `stored msg_ids ${[...(tables.storedByConversation.get(conversationId) ?? [])].sort((a, b) => a - b).join(',')}; ` +
    `timeline (ms): ${JSON.stringify(run.ports.timeline.get(k))}, frame reached the device at ${d.rawKeys.has(k) ? d.rawKeys.get(k)! - startedAt : 'never'}, ` +
    `device opened (catch-up started) at [${d.openedAt.map((t) => t - startedAt).join(', ')}], catch-ups ended at [${d.syncs.map((t) => t - startedAt).join(', ')}]`
  );
}

/**
 * The same expectation against a fresh, full read through the API (recent_sessions from 0, msg_list down to 1):
 * what the server serves, independent of the SDK's catch-up state.
 */
async function checkServerReads({ population, tables, userConversations, violations }: Checking): Promise<number> {
  let missingFromServerReads = 0;
  await Promise.all(
    population.users.map(async (userId) => {
      const client = population.byUser.get(userId)![0]!.client;
      const served = new Set<string>();
      for (const session of await retryRead(() => client.allRecentSessions(0))) {
        const conversationId =
          session.session_type === 2
            ? groupConversationId(session.session_id)
            : singleConversationId(userId, session.session_id);
        for (let begin = 0; ; ) {
          const request = { conversation: conversationOf(session)!, msgIdBegin: begin, msgCnt: 100 };
          const page = await retryRead(() => client.listMessages(request));
          for (const m of page.msg_list) served.add(key(conversationId, m.msg_id));
          const lowest = Math.min(...page.msg_list.map((m) => m.msg_id));
          if (!page.has_more || lowest <= 1) break;
          begin = lowest - 1;
        }
      }
      for (const conversationId of userConversations.get(userId)!) {
        for (const msgId of tables.storedByConversation.get(conversationId) ?? []) {
          if (served.has(key(conversationId, msgId))) continue;
          missingFromServerReads++;
          violations.note('not served by a full read', `${userId}: ${conversationId} msg_id ${msgId}`);
        }
      }
    }),
  );
  return missingFromServerReads;
}

/** msg_id gaps: counter values taken (head.last_msg_id) but never stored, and why. */
function explainGaps(checking: Checking): GapChecks {
  const lostCounterValues = lostCounterResponses(checking.run);
  const gapCauses = new Map<string, number>();
  let gaps = 0;
  for (const head of checking.tables.heads) {
    const conversationId = head['conversation_id'] as string;
    const last = (head['last_msg_id'] as number | undefined) ?? 0;
    const ids = checking.tables.storedByConversation.get(conversationId) ?? new Set<number>();
    for (let v = 1; v <= last; v++) {
      if (ids.has(v)) continue;
      gaps++;
      const cause = gapCause(checking, lostCounterValues, conversationId, v);
      gapCauses.set(cause, (gapCauses.get(cause) ?? 0) + 1);
    }
  }
  return { gaps, gapCauses };
}

/** Counter values whose UpdateItem response was lost (the SDK retried it and took the next value). */
function lostCounterResponses({ plan, stack }: Run): Set<string> {
  const lostCounterValues = new Set<string>();
  for (const lost of plan.lostResponses) {
    if (lost.table !== stack.tables.Conversations || lost.command !== 'UpdateItemCommand') continue;
    // The middleware sits in the document client's stack: plain values, or AttributeValues at a lower level.
    const plain = (v: unknown): unknown =>
      typeof v === 'object' && v !== null ? ((v as { S?: string; N?: string }).S ?? (v as { N?: string }).N) : v;
    const conversationId = plain((lost.input['Key'] as Record<string, unknown> | undefined)?.['conversation_id']);
    const value = plain((lost.output['Attributes'] as Record<string, unknown> | undefined)?.['last_msg_id']);
    if (typeof conversationId === 'string' && value !== undefined)
      lostCounterValues.add(key(conversationId, Number(value)));
  }
  return lostCounterValues;
}

function gapCause(
  { run, violations }: Checking,
  lostCounterValues: ReadonlySet<string>,
  conversationId: string,
  v: number,
): string {
  const k = key(conversationId, v);
  const invocation = run.ports.numbered.get(k);
  // The first failure of the invocation that took the value is the reason it was not stored.
  if (invocation && run.ports.lostClaim.has(invocation))
    return 'a resend the head’s ring no longer held took a msg_id, then found the claim';
  if (invocation && invocation.errors.length === 0 && invocation.dead !== undefined)
    return `Lambda crash after numbering: ${invocation.dead.replace(/ \(.*\)$/, '')}`;
  if (invocation && invocation.errors.length > 0) return `error after numbering: ${invocation.errors[0]!}`;
  if (!invocation && lostCounterValues.has(k)) return 'counter UpdateItem retried by the SDK after a lost response';
  const lost = run.plan.lostResponses
    .filter((l) => JSON.stringify(l.input).includes(conversationId))
    .map((l) => `${l.command} ${JSON.stringify(l.output)}`);
  violations.note(
    'unexplained gap',
    `${conversationId} msg_id ${v} numbered by ${invocation ? `${invocation.route} #${invocation.id} errors [${invocation.errors.join(', ')}]` : 'no invocation seen'}; lost responses there: ${lost.join(' | ') || 'none'}`,
  );
  return 'UNEXPLAINED';
}
