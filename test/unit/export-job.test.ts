/**
 * The export job's reading (core/usecases/account-export.ts) on fake ports: every message of a conversation longer
 * than a page, oldest first; the message cap across conversations marks the export truncated; the ready frame goes
 * to each open connection, the push hook's notice only when none took it.
 */
import { describe, expect, it } from 'vitest';
import type { MessageRecord } from '../../core/domain/message.js';
import type { ExportReadyDetail } from '../../core/ports/moderation.js';
import { MAX_EXPORT_MESSAGES, runExportJob, type ExportJobPorts } from '../../core/usecases/account-export.js';
import { ManualClock, RecordingGateway } from '../support/fakes.js';

function message(conversationId: string, msgId: number): MessageRecord {
  return {
    conversationId,
    msgId,
    fromUserId: msgId % 2 ? 'alice' : 'bob',
    toSessionId: 'x',
    msgType: 1,
    msgData: `m${msgId}`,
    createTime: msgId,
    counts: { sentLo: 0, sentHi: 0 },
  };
}

function portsWith(sizes: Record<string, number>, connections: string[] = []) {
  const written: Record<string, string> = {};
  const ready: ExportReadyDetail[] = [];
  const gateway = new RecordingGateway();
  const rows = Object.keys(sizes).map((peer) => ({ user_id: 'alice', session_key: `1#${peer}` }));
  const ports: ExportJobPorts = {
    config: { messageRetentionDays: 0 },
    clock: new ManualClock(1_790_000_000_000),
    gateway,
    userRows: { listAll: async () => ({ rows, truncated: false }) },
    messages: {
      listBefore: async (conversationId, beforeOrAt, limit) => {
        const peer = conversationId.split('#').find((p) => p !== 's' && p !== 'alice')!;
        const newest = beforeOrAt === 0 ? sizes[peer]! : Math.min(beforeOrAt, sizes[peer]!);
        const out: MessageRecord[] = [];
        for (let id = newest; id >= 1 && out.length < limit; id--) out.push(message(conversationId, id));
        return out;
      },
    },
    groups: { getMany: async () => [] },
    connections: {
      listByUser: async () => connections.map((connectionId) => ({ userId: 'alice', connectionId, connectedAt: 0 })),
    },
    exportClaims: { markReady: async () => undefined },
    exportBlobs: {
      putJson: async (key, body) => void (written[key] = body),
      presignDownload: async (key) => `http://s3.local/${key}?sig`,
    },
    moderation: { exportReady: async (d) => void ready.push(d) },
  };
  return { ports, written, ready, gateway };
}

const job = { user_id: 'alice', export_id: 'x_1', day: 20_000 };

describe('runExportJob', () => {
  it('reads every message of a conversation longer than a page, oldest first, and tells each open connection', async () => {
    const { ports, written, ready, gateway } = portsWith({ bob: 1_234, carol: 3 }, ['c1', 'c2']);
    expect(await runExportJob(ports, job)).toEqual({ messages: 1_237 });
    const document = JSON.parse(written['exports/alice/x_1.json']!);
    const bob = document.conversations.find((c: { session_id: string }) => c.session_id === 'bob');
    expect(bob.messages.map((m: { msg_id: number }) => m.msg_id)).toEqual(
      Array.from({ length: 1_234 }, (_, i) => i + 1),
    );
    expect(document.truncated).toBe(false);
    expect(gateway.framesTo('c1')).toEqual([
      {
        type: 'account_export_ready',
        export_id: 'x_1',
        url: 'http://s3.local/exports/alice/x_1.json?sig',
        expires_at: 1_790_003_600,
      },
    ]);
    expect(gateway.framesTo('c2')).toHaveLength(1);
    expect(ready).toEqual([]);
  });

  it('stops at the message cap across conversations and says the export is truncated; offline: the push notice', async () => {
    const { ports, written, ready } = portsWith({ bob: MAX_EXPORT_MESSAGES - 10, carol: 50 });
    expect(await runExportJob(ports, job)).toEqual({ messages: MAX_EXPORT_MESSAGES });
    const document = JSON.parse(written['exports/alice/x_1.json']!);
    expect(document.truncated).toBe(true);
    expect(ready).toEqual([{ user_id: 'alice', export_id: 'x_1', expires_at: 1_790_003_600 }]);
  });
});
