/**
 * The recent-sessions list: the server's `recent_sessions` (its unread counts are the truth), kept live between
 * refreshes by the messages and read marks the store sees. Each entry's view and the sorted list are rebuilt only
 * after a change.
 */
import { conversationKey, conversationOf, type Conversation } from '../conversation.js';
import type { ContactSession } from '../frames.js';
import { sessionKindOf, wirePreview, type MessagePreview, type SessionSummary } from './model.js';

interface Entry {
  readonly key: string;
  readonly conversation: Conversation;
  unreadCount: number;
  updatedTime: number;
  latest: MessagePreview | undefined;
  title: string;
  view: SessionSummary | undefined;
}

/** What the list keeps across restarts. */
export interface SavedSession {
  readonly conversation: Conversation;
  readonly unreadCount: number;
  readonly updatedTime: number;
  readonly latest?: MessagePreview;
}

export class SessionList {
  readonly #entries = new Map<string, Entry>();
  #view: readonly SessionSummary[] | undefined;

  get(key: string): Entry | undefined {
    return this.#entries.get(key);
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  keys(): string[] {
    return [...this.#entries.keys()];
  }

  /** The entry of a conversation, made when missing. */
  upsert(conversation: Conversation): Entry {
    const key = conversationKey(conversation);
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = {
        key,
        conversation,
        unreadCount: 0,
        updatedTime: 0,
        latest: undefined,
        title: conversation.id,
        view: undefined,
      };
      this.#entries.set(key, entry);
      this.#view = undefined;
    }
    return entry;
  }

  remove(key: string): boolean {
    const removed = this.#entries.delete(key);
    if (removed) this.#view = undefined;
    return removed;
  }

  /** Changes an entry through `change`; the views are rebuilt. */
  change(entry: Entry, change: (entry: Entry) => void): void {
    change(entry);
    entry.view = undefined;
    this.#view = undefined;
  }

  /** A message of the conversation: its newest message and time move on; true when it is its newest. */
  noteMessage(conversation: Conversation, preview: MessagePreview, createTime: number): boolean {
    const entry = this.upsert(conversation);
    const newer = preview.msgId > (entry.latest?.msgId ?? 0);
    this.change(entry, (e) => {
      e.updatedTime = Math.max(e.updatedTime, createTime);
      if (newer) e.latest = preview;
    });
    return newer;
  }

  /** The server's sessions: their unread counts replace the local ones; a newer latest message replaces ours. */
  applyServer(sessions: readonly ContactSession[], userId: string | undefined): Set<string> {
    const listed = new Set<string>();
    for (const session of sessions) {
      const conversation = conversationOf(session);
      if (!conversation) continue;
      const entry = this.upsert(conversation);
      listed.add(entry.key);
      const preview = wirePreview(
        session.latest_msg_id,
        session.latest_msg_from_user_id,
        session.latest_msg_type,
        session.latest_msg_data,
        userId,
        { recalled: session.latest_msg_recalled, editedAt: session.latest_msg_edited_at },
      );
      this.change(entry, (e) => {
        e.unreadCount = session.unread_cnt;
        e.updatedTime = Math.max(e.updatedTime, session.updated_time);
        if (preview && preview.msgId >= (e.latest?.msgId ?? 0)) e.latest = preview;
      });
    }
    return listed;
  }

  setTitle(key: string, title: string): void {
    const entry = this.#entries.get(key);
    if (entry && entry.title !== title) this.change(entry, (e) => (e.title = title));
  }

  get unreadTotal(): number {
    let total = 0;
    for (const entry of this.#entries.values()) total += entry.unreadCount;
    return total;
  }

  /** Newest first; ties by key, so the order is stable. */
  view(): readonly SessionSummary[] {
    if (this.#view) return this.#view;
    const entries = [...this.#entries.values()].sort(
      (a, b) => b.updatedTime - a.updatedTime || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
    this.#view = Object.freeze(entries.map((entry) => (entry.view ??= summaryOf(entry))));
    return this.#view;
  }

  save(): SavedSession[] {
    return [...this.#entries.values()].map(({ conversation, unreadCount, updatedTime, latest }) => ({
      conversation,
      unreadCount,
      updatedTime,
      ...(latest ? { latest } : {}),
    }));
  }

  load(saved: readonly SavedSession[]): void {
    for (const session of saved) {
      const entry = this.upsert(session.conversation);
      this.change(entry, (e) => {
        e.unreadCount = session.unreadCount;
        e.updatedTime = session.updatedTime;
        e.latest = session.latest ? Object.freeze({ ...session.latest }) : undefined;
      });
    }
  }
}

function summaryOf(entry: Entry): SessionSummary {
  return Object.freeze({
    key: entry.key,
    conversation: entry.conversation,
    sessionType: sessionKindOf(entry.conversation),
    title: entry.title,
    unreadCount: entry.unreadCount,
    updatedTime: entry.updatedTime,
    latestMessage: entry.latest,
  });
}
