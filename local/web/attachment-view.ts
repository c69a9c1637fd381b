/**
 * How a message that describes an attachment shows: a thumbnail or an audio player, loaded from a short-lived URL the
 * SDK asks for (attachments.ts wires the buttons that send them); the store gives the attachment typed. Hooks for
 * browser tests: in a message `.body > img[data-attachment="picture"][data-loaded]` /
 * `.body > audio[data-attachment="voice"][data-loaded]`.
 */
import {
  ChatServerError,
  type Attachment,
  type ChatMessage,
  type Conversation,
  type MessagePreview,
} from 'teamtalk-serverless-client';
import { page } from './state.js';

/** A message as the session list shows it: its text, or `[picture]`, `[voice note 3.2 s]`. */
export function previewOf(message: MessagePreview): string {
  const { attachment } = message;
  if (!attachment) return message.text ?? `[${message.kind}]`;
  return attachment.kind === 'picture' ? '[picture]' : `[voice note ${attachment.duration} s]`;
}

/** Fills a message's body: its text, or the attachment it describes (a pending one shows its upload). */
export function fillBody(body: HTMLElement, message: ChatMessage): void {
  const { attachment, conversation } = message;
  if (message.deleted) {
    // A tombstone: removed by a moderator, or with its sender's account.
    body.textContent = 'message deleted';
    return;
  }
  if (!attachment) {
    body.textContent = message.text ?? (message.upload ? `[${message.kind}: uploading]` : `[${message.kind}]`);
    return;
  }
  const media = attachment.kind === 'picture' ? pictureElement(attachment) : voiceElement(attachment);
  media.dataset['attachment'] = attachment.kind;
  media.dataset['key'] = attachment.key;
  body.replaceChildren(media);
  void load(media, conversation, attachment);
}

function pictureElement(attachment: Extract<Attachment, { kind: 'picture' }>): HTMLImageElement {
  const img = document.createElement('img');
  img.className = 'thumbnail';
  img.alt = 'picture';
  if (attachment.width && attachment.height) {
    img.width = Math.min(240, attachment.width);
    img.height = Math.round((img.width * attachment.height) / attachment.width);
  }
  img.addEventListener('load', () => (img.dataset['loaded'] = 'true'));
  return img;
}

function voiceElement(attachment: Extract<Attachment, { kind: 'voice' }>): HTMLAudioElement {
  const audio = document.createElement('audio');
  audio.controls = true;
  audio.preload = 'metadata';
  audio.title = `voice note, ${attachment.duration} s`;
  audio.addEventListener('loadedmetadata', () => (audio.dataset['loaded'] = 'true'));
  return audio;
}

async function load(
  media: HTMLImageElement | HTMLAudioElement,
  conversation: Conversation,
  attachment: Attachment,
): Promise<void> {
  try {
    media.src = (await page.client?.attachmentUrl({ conversation, key: attachment.key })) ?? '';
  } catch (error) {
    media.dataset['error'] = error instanceof ChatServerError ? error.code : 'unknown';
  }
}
