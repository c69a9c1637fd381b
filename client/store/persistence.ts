/**
 * What the store keeps across restarts, in the app's key-value storage (localStorage, AsyncStorage, MMKV: anything
 * with getItem and setItem, sync or async): the client's sync state (so a restarted app fetches only what is newer),
 * the session list (shown at once, offline too), read marks and receipts, group names, and the sends not yet stored
 * (sent again on start with their client_msg_id: stored once, whatever happened before).
 */
import type { Conversation } from '../conversation.js';
import type { SyncState } from '../sync.js';
import type { SavedSession } from './session-list.js';

/** localStorage, AsyncStorage and the like. */
export interface KeyValueStorage {
  getItem(key: string): string | null | undefined | Promise<string | null | undefined>;
  setItem(key: string, value: string): void | Promise<void>;
}

/** A send not yet stored when the state was saved. */
export interface SavedSend {
  readonly conversation: Conversation;
  readonly clientMsgId: string;
  readonly msgType: number;
  readonly data: string;
}

export interface SavedStore {
  readonly version: 1;
  readonly sync: SyncState;
  readonly sessions: readonly SavedSession[];
  /** By conversation key: this user's read mark and, for single chats, the peer's. */
  readonly reads: Readonly<Record<string, { readonly readUpTo: number; readonly peerReadUpTo: number }>>;
  readonly groupNames: Readonly<Record<string, string>>;
  readonly pending: readonly SavedSend[];
}

/** The saved state, or undefined when there is none or it is not one this version wrote. */
export async function loadSaved(storage: KeyValueStorage, key: string): Promise<SavedStore | undefined> {
  try {
    const text = await storage.getItem(key);
    const value: unknown = text ? JSON.parse(text) : undefined;
    if (typeof value === 'object' && value !== null && (value as { version?: unknown }).version === 1)
      return value as SavedStore;
  } catch {
    // Unreadable (storage unavailable, another version's JSON): start afresh; catch-up fetches what is needed.
  }
  return undefined;
}

export async function save(storage: KeyValueStorage, key: string, state: SavedStore): Promise<void> {
  try {
    await storage.setItem(key, JSON.stringify(state));
  } catch {
    // Storage full or unavailable: the next start catches up from further back.
  }
}
