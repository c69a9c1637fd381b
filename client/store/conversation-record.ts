/**
 * One conversation's messages as the store keeps them: stored messages by msg_id (each once, whether it came live,
 * from a catch-up, from a history page or as the ack of this device's own send), and this device's pending and
 * failed sends in the order they were made, matched with their stored copy by `client_msg_id`. Its view is rebuilt
 * only after a change, so an unchanged conversation keeps the same snapshot object.
 */
import { conversationKey, type Conversation } from '../conversation.js';
import { isLaterState, sessionKindOf, type ChatMessage, type ConversationState, type HistoryState } from './model.js';

export class ConversationRecord {
  readonly key: string;
  readonly #stored = new Map<number, ChatMessage>();
  /** Pending and failed sends of this device, oldest first. */
  readonly #local: ChatMessage[] = [];
  history: HistoryState = { loading: false, hasMore: true, loadedNewest: false };
  readUpTo = 0;
  peerReadUpTo = 0;
  #view: ConversationState | undefined;
  #title = '';

  constructor(readonly conversation: Conversation) {
    this.key = conversationKey(conversation);
  }

  /** Something changed: the next view is rebuilt. */
  touch(): void {
    this.#view = undefined;
  }

  /** The lowest stored msg_id (for the next history page), or undefined when none. */
  get lowestMsgId(): number | undefined {
    let lowest: number | undefined;
    for (const id of this.#stored.keys()) lowest = lowest === undefined ? id : Math.min(lowest, id);
    return lowest;
  }

  /** The newest stored message, if any. */
  get newest(): ChatMessage | undefined {
    let newest: ChatMessage | undefined;
    for (const message of this.#stored.values()) if (!newest || message.msgId! > newest.msgId!) newest = message;
    return newest;
  }

  /** The newest stored msg_id from another user (what a read mark must reach). */
  get newestFromOthers(): number {
    let newest = 0;
    for (const message of this.#stored.values()) if (!message.fromMe) newest = Math.max(newest, message.msgId!);
    return newest;
  }

  hasStored(msgId: number): boolean {
    return this.#stored.has(msgId);
  }

  /** The stored message with this msg_id, if held. */
  stored(msgId: number): ChatMessage | undefined {
    return this.#stored.get(msgId);
  }

  /**
   * Adds a stored message; a pending or failed send with its client_msg_id becomes it (keeping its key and its
   * `sent` source). False when the message was there already.
   */
  addStored(message: ChatMessage): boolean {
    const known = this.#stored.get(message.msgId!);
    // A message seen before takes a later copy's state (redelivery, history, a msg_recalled / msg_edited frame):
    // removed, recalled, or edited since.
    if (known && isLaterState(known, message)) {
      this.#stored.set(message.msgId!, Object.freeze({ ...message, source: known.source }));
      this.touch();
      return false;
    }
    if (known) return false;
    const local = message.clientMsgId === undefined ? -1 : this.#localIndex(message.clientMsgId);
    const stored = local >= 0 ? Object.freeze({ ...message, source: this.#local[local]!.source }) : message;
    if (local >= 0) this.#local.splice(local, 1);
    this.#stored.set(message.msgId!, stored);
    this.touch();
    return true;
  }

  addLocal(message: ChatMessage): void {
    this.#local.push(message);
    this.touch();
  }

  /** This device's pending or failed send with `clientMsgId`. */
  local(clientMsgId: string): ChatMessage | undefined {
    const index = this.#localIndex(clientMsgId);
    return index >= 0 ? this.#local[index] : undefined;
  }

  /** Replaces a pending or failed send (its status, error or upload changed). */
  replaceLocal(clientMsgId: string, change: Partial<ChatMessage>): ChatMessage | undefined {
    const index = this.#localIndex(clientMsgId);
    if (index < 0) return undefined;
    const next = Object.freeze({ ...this.#local[index]!, ...change });
    this.#local[index] = next;
    this.touch();
    return next;
  }

  removeLocal(clientMsgId: string): void {
    const index = this.#localIndex(clientMsgId);
    if (index < 0) return;
    this.#local.splice(index, 1);
    this.touch();
  }

  /** The pending sends, to save and send again after a restart. */
  pending(): readonly ChatMessage[] {
    return this.#local.filter((m) => m.status === 'pending');
  }

  setTitle(title: string): void {
    if (title === this.#title) return;
    this.#title = title;
    this.touch();
  }

  view(): ConversationState {
    if (this.#view) return this.#view;
    const stored = [...this.#stored.values()].sort((a, b) => a.msgId! - b.msgId!);
    this.#view = Object.freeze({
      key: this.key,
      conversation: this.conversation,
      sessionType: sessionKindOf(this.conversation),
      title: this.#title,
      messages: Object.freeze([...stored, ...this.#local]),
      history: this.history,
      readUpTo: this.readUpTo,
      peerReadUpTo: this.peerReadUpTo,
    });
    return this.#view;
  }

  #localIndex(clientMsgId: string): number {
    return this.#local.findIndex((m) => m.clientMsgId === clientMsgId);
  }
}
