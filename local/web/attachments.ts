/**
 * Pictures and voice notes on the chat page: the picture button picks a file, the record button records a voice
 * note with MediaRecorder (a second click stops and sends it); the store uploads them (the message shows at once,
 * with its upload) and sends the message describing them; attachment-view.ts shows them.
 *
 * Hooks for browser tests: #attach-picture, #picture-input, #record-voice[data-recording][data-chunks].
 */
import { IMAGE_CONTENT_TYPES } from 'teamtalk-serverless-client';
import { redraw } from './actions.js';
import { showNotice } from './render.js';
import { page } from './state.js';

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** Uploads and sends a picture or a voice note to the open conversation. */
function sendAttachment(send: (to: NonNullable<typeof page.current>) => void): void {
  if (!page.store || !page.current) {
    showNotice('Connect and pick someone to chat with first.');
    return;
  }
  try {
    send(page.current);
    redraw();
  } catch (error) {
    showNotice(`Could not send it: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The picture's size in pixels, when the browser can decode it. */
async function pixelsOf(file: Blob): Promise<{ width?: number; height?: number }> {
  try {
    const bitmap = await createImageBitmap(file);
    const size = { width: bitmap.width, height: bitmap.height };
    bitmap.close();
    return size;
  } catch {
    return {};
  }
}

let recording: { recorder: MediaRecorder; chunks: Blob[]; startedAt: number } | undefined;

async function toggleRecording(button: HTMLButtonElement): Promise<void> {
  if (recording) {
    recording.recorder.stop();
    return;
  }
  if (!page.store || !page.current) {
    showNotice('Connect and pick someone to chat with first.');
    return;
  }
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (error) {
    showNotice(`No microphone: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  const recorder = new MediaRecorder(stream);
  const current = { recorder, chunks: [] as Blob[], startedAt: performance.now() };
  recording = current;
  recorder.addEventListener('dataavailable', (event) => {
    current.chunks.push(event.data);
    button.dataset['chunks'] = String(current.chunks.length);
  });
  recorder.addEventListener('stop', () => {
    recording = undefined;
    button.dataset['recording'] = 'false';
    button.textContent = 'Record';
    for (const track of stream.getTracks()) track.stop();
    const seconds = Math.max(0.001, (performance.now() - current.startedAt) / 1000);
    const blob = new Blob(current.chunks, { type: recorder.mimeType });
    sendAttachment((to) => page.store!.sendVoice(to, blob, seconds));
  });
  recorder.start(250); // a chunk every 250 ms: the button's data-chunks shows the recording grow
  button.dataset['chunks'] = '0';
  button.dataset['recording'] = 'true';
  button.textContent = 'Stop';
}

export function wireAttachments(): void {
  const input = byId<HTMLInputElement>('picture-input');
  input.accept = IMAGE_CONTENT_TYPES.join(',');
  byId<HTMLButtonElement>('attach-picture').addEventListener('click', () => input.click());
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    input.value = '';
    if (file) void pixelsOf(file).then((pixels) => sendAttachment((to) => page.store!.sendPicture(to, file, pixels)));
  });
  const record = byId<HTMLButtonElement>('record-voice');
  record.addEventListener('click', () => void toggleRecording(record));
}
