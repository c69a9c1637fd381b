/** Setup, without faults: the users, their devices (SDK ChatClients that count the frames they get) and the groups. */
import WebSocket from 'ws';
import { ChatClient, type MsgDataAckFrame, type MsgDataFrame, type WebSocketConstructor } from '../client/index.js';
import { conversationOf, key } from './common.js';
import type { Run } from './context.js';
import type { Rng } from './faults.js';

export interface Device {
  readonly userId: string;
  readonly name: string;
  readonly client: ChatClient;
  /** msg_data frames on the wire, before the SDK's de-duplication. */
  rawMsgData: number;
  /** (conversation, msg_id) of every msg_data frame on the wire, with the time it arrived (first one). */
  readonly rawKeys: Map<string, number>;
  /** When each catch-up of this device ended, and when it (re)opened (each open starts a catch-up). */
  readonly syncs: number[];
  readonly openedAt: number[];
  /** Every msg_data_ack frame on the wire (duplicates of late acks included). */
  readonly ackFrames: MsgDataAckFrame[];
  /** `message` events per (conversation, msg_id). */
  readonly seen: Map<string, number>;
  live: number;
  caughtUp: number;
  opens: number;
  /** Closed by the harness, to be reopened. */
  closed: boolean;
  readonly sdkErrors: Map<string, number>;
  /** `kick` frames received (token_expired). */
  kicks: number;
}

export interface Group {
  readonly id: string;
  readonly members: readonly string[];
}

export interface Population {
  readonly users: readonly string[];
  readonly devices: readonly Device[];
  readonly byUser: ReadonlyMap<string, readonly Device[]>;
  readonly groupsOf: ReadonlyMap<string, readonly Group[]>;
}

/**
 * Opens every device and creates the groups (drawing from `workloadRng`). Devices go into `devices` as they are
 * made, so that the caller closes them even when setup fails.
 */
export async function setUp(run: Run, workloadRng: Rng, devices: Device[]): Promise<Population> {
  const { options } = run;
  const users = Array.from({ length: options.users }, (_, i) => `u${String(i + 1).padStart(2, '0')}`);
  for (const userId of users) {
    for (let d = 0; d < options.devicesPerUser; d++) devices.push(newDevice(run, userId, `${userId}/d${d + 1}`));
  }
  await Promise.all(devices.map((d) => d.client.connect()));
  const byUser = new Map(users.map((u) => [u, devices.filter((d) => d.userId === u)]));
  const groups = await createGroups(run, users, byUser, workloadRng);
  const groupsOf = new Map(users.map((u) => [u, groups.filter((g) => g.members.includes(u))]));
  run.log(
    `setup: ${users.length} users × ${options.devicesPerUser} devices, ${groups.length} groups of ${options.groupSize}; faults on`,
  );
  return { users, devices, byUser, groupsOf };
}

function newDevice(run: Run, userId: string, name: string): Device {
  const { options, stack } = run;
  const device: Device = {
    userId,
    name,
    client: undefined as unknown as ChatClient,
    rawMsgData: 0,
    rawKeys: new Map(),
    syncs: [],
    openedAt: [],
    ackFrames: [],
    seen: new Map(),
    live: 0,
    caughtUp: 0,
    opens: 0,
    closed: false,
    sdkErrors: new Map(),
    kicks: 0,
  };
  const client = new ChatClient({
    url: stack.url,
    // A fresh token for every connection attempt: a short-lived one expires and the connection is kicked.
    getToken: () =>
      stack.mintToken(userId, options.tokenTtlSeconds === undefined ? {} : { ttlSeconds: options.tokenTtlSeconds }),
    WebSocket: countingWebSocket((text) => countFrame(device, text)),
    ackTimeoutMs: options.clientAckTimeoutMs ?? 5_000,
    maxSendAttempts: 1_000_000,
    requestTimeoutMs: 10_000,
    heartbeatIntervalMs: 0,
    connectTimeoutMs: 5_000,
    reconnect: { initialDelayMs: 200, maxDelayMs: 2_000 },
    catchUp: { maxMessagesPerSession: 100_000 },
  });
  (device as { client: ChatClient }).client = client;
  client.on('message', (m) => {
    const k = key(conversationOf(m), m.msg_id);
    device.seen.set(k, (device.seen.get(k) ?? 0) + 1);
    // Live frames carry the client_msg_id; a catch-up's (from msg_list) do not.
    if (m.client_msg_id === undefined) device.caughtUp++;
    else device.live++;
  });
  client.on('synced', () => device.syncs.push(Date.now()));
  client.on('state', (s) => {
    if (s === 'open') {
      device.opens++;
      device.openedAt.push(Date.now());
    }
  });
  client.on('error', (e) => device.sdkErrors.set(e.name, (device.sdkErrors.get(e.name) ?? 0) + 1));
  return device;
}

/** A `ws` WebSocket that also hands every text frame to `onText` (to count frames before the SDK sees them). */
function countingWebSocket(onText: (text: string) => void): WebSocketConstructor {
  class CountingWebSocket extends WebSocket {
    constructor(url: string) {
      super(url, { perMessageDeflate: false });
      this.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
        if (!isBinary)
          onText(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
      });
    }
  }
  return CountingWebSocket as unknown as WebSocketConstructor;
}

function countFrame(device: Device, text: string): void {
  let frame: { type?: unknown };
  try {
    frame = JSON.parse(text) as { type?: unknown };
  } catch {
    return;
  }
  if (frame.type === 'msg_data') {
    device.rawMsgData++;
    const k = key(conversationOf(frame as MsgDataFrame), (frame as MsgDataFrame).msg_id);
    if (!device.rawKeys.has(k)) device.rawKeys.set(k, Date.now());
  } else if (frame.type === 'msg_data_ack') {
    device.ackFrames.push(frame as MsgDataAckFrame);
  } else if (frame.type === 'kick') {
    device.kicks++;
  }
}

async function createGroups(
  run: Run,
  users: readonly string[],
  byUser: ReadonlyMap<string, readonly Device[]>,
  workloadRng: Rng,
): Promise<Group[]> {
  const groups: Group[] = [];
  for (let g = 0; g < run.options.groups; g++) {
    const shuffled = [...users];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = workloadRng.int(0, i);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const members = shuffled.slice(0, Math.min(run.options.groupSize, users.length));
    const owner = byUser.get(members[0]!)![0]!;
    const reply = (await owner.client.request('group_create', {
      group_name: `chaos ${g + 1}`,
      member_ids: members.slice(1),
    })) as {
      group_id: string;
    };
    groups.push({ id: reply.group_id, members });
  }
  return groups;
}
