/**
 * How a message that describes an attachment shows: a thumbnail or an audio player, loaded from a short-lived URL the
 * SDK asks for (attachments.ts wires the buttons that send them). Hooks for browser tests: in a message
 * `.body > img[data-attachment="picture"][data-loaded]` / `.body > audio[data-attachment="voice"][data-loaded]`.
 */
import {
  attachmentOf,
  ChatServerError,
  type AttachmentDescription,
  type Conversation,
} from 'teamtalk-serverless-client';
import { page } from './state.js';

/** A session's last message as the list shows it: `[picture]` or `[voice note 3.2 s]` for an attachment. */
export function previewOf(text: string): string {
  const attachment = attachmentOf(text);
  if (!attachment) return text;
  return attachment.attachment === 'picture' ? '[picture]' : `[voice note ${attachment.duration ?? '?'} s]`;
}

/** Fills a message's body: its text, or the attachment it describes. */
export function fillBody(body: HTMLElement, text: string): void {
  const attachment = attachmentOf(text);
  const conversation = page.current;
  if (!attachment || !conversation) {
    body.textContent = text;
    return;
  }
  const media = attachment.attachment === 'picture' ? pictureElement(attachment) : voiceElement(attachment);
  media.dataset['attachment'] = attachment.attachment;
  media.dataset['key'] = attachment.key;
  body.replaceChildren(media);
  void load(media, conversation, attachment);
}

function pictureElement(attachment: AttachmentDescription): HTMLImageElement {
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

function voiceElement(attachment: AttachmentDescription): HTMLAudioElement {
  const audio = document.createElement('audio');
  audio.controls = true;
  audio.preload = 'metadata';
  audio.title = `voice note, ${attachment.duration ?? '?'} s`;
  audio.addEventListener('loadedmetadata', () => (audio.dataset['loaded'] = 'true'));
  return audio;
}

async function load(
  media: HTMLImageElement | HTMLAudioElement,
  conversation: Conversation,
  attachment: AttachmentDescription,
): Promise<void> {
  try {
    media.src = (await page.client?.attachmentUrl({ conversation, key: attachment.key })) ?? '';
  } catch (error) {
    media.dataset['error'] = error instanceof ChatServerError ? error.code : 'unknown';
  }
}
