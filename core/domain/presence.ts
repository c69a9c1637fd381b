/**
 * A user's presence from its Presence item (core/store/presence.ts): `offline` with no open connection, `away` when
 * every open connection said so (`presence_set`), else `online`. `announced` is the status last announced to
 * subscribers: a check announces only a status that differs from it (core/usecases/presence.ts).
 */
import type { PresenceStatus } from '../../protocol/frames.js';

export interface PresenceState {
  readonly connectionIds: readonly string[];
  readonly awayIds: readonly string[];
  /** The status last announced; an item that was never announced reads `offline`. */
  readonly announced: PresenceStatus;
}

export const NO_PRESENCE: PresenceState = { connectionIds: [], awayIds: [], announced: 'offline' };

export function statusOf(state: Pick<PresenceState, 'connectionIds' | 'awayIds'>): PresenceStatus {
  if (state.connectionIds.length === 0) return 'offline';
  const away = new Set(state.awayIds);
  return state.connectionIds.every((id) => away.has(id)) ? 'away' : 'online';
}

/** A check of one user's presence, queued by $connect / $disconnect (core/ports/presence.ts). */
export interface PresenceCheck {
  readonly userId: string;
}

/** The check queue's message body back to a check, or undefined for anything else. */
export function parsePresenceCheck(body: string): PresenceCheck | undefined {
  try {
    const parsed = JSON.parse(body) as { userId?: unknown };
    return typeof parsed.userId === 'string' && parsed.userId !== '' ? { userId: parsed.userId } : undefined;
  } catch {
    return undefined;
  }
}
