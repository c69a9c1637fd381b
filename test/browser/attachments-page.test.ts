/**
 * Pictures and voice notes on the chat page, in headless Chromium against the local stack (its local S3 included):
 * alice sends a picture (a file input) and records a voice note (MediaRecorder on Chromium's fake microphone);
 * bob's page shows the thumbnail, loaded from S3 through a presigned URL, and plays the voice note.
 * Skipped only where no Chromium is installed (CHROMIUM_PATH overrides).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack.js';
import { eventually, HAS_CHROMIUM, launchChromium, startPageStack, openChatPage } from './support.js';

/** A 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

describe.skipIf(!HAS_CHROMIUM)('pictures and voice notes on the chat page', () => {
  let stack: LocalStack;
  let browser: Browser;

  beforeAll(async () => {
    stack = await startPageStack();
    browser = await launchChromium([
      // A fake microphone (a beep), granted without a prompt; media may play without a click.
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--autoplay-policy=no-user-gesture-required',
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  function open(user: string, peer: string): Promise<Page> {
    return openChatPage(browser, stack, `?user=${user}&peer=${peer}`);
  }

  it('alice sends a picture and a voice note; bob sees the picture and plays the voice note', async () => {
    const alice = await open('alice', 'bob');
    const bob = await open('bob', 'alice');

    await alice.setInputFiles('#picture-input', { name: 'dot.png', mimeType: 'image/png', buffer: PNG });
    const sentPicture = alice.locator('#messages > li[data-own="true"] img[data-attachment="picture"]');
    await sentPicture.waitFor();
    await eventually(() => alice.locator('#messages > li[data-own="true"]').first().getAttribute('data-state')).toBe(
      'stored',
    );

    const picture = bob.locator('#messages > li[data-msg-id="1"] img[data-attachment="picture"]');
    await picture.waitFor();
    await eventually(() => picture.getAttribute('data-loaded')).toBe('true');
    expect(await picture.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([1, 1]);

    await alice.click('#record-voice');
    await eventually(() => alice.locator('#record-voice').getAttribute('data-recording')).toBe('true');
    // Stop once the recorder has handed over a few chunks of audio (a state, not a time).
    await eventually(async () =>
      Number(await alice.locator('#record-voice').getAttribute('data-chunks')),
    ).toBeGreaterThanOrEqual(3);
    await alice.click('#record-voice');

    const voice = bob.locator('#messages > li[data-msg-id="2"] audio[data-attachment="voice"]');
    await voice.waitFor();
    await eventually(() => voice.getAttribute('data-loaded')).toBe('true');
    const played = await voice.evaluate(async (audio: HTMLAudioElement) => {
      await audio.play();
      return { paused: audio.paused, error: audio.error?.code ?? null, src: audio.src.includes('X-Amz-Signature') };
    });
    expect(played).toEqual({ paused: false, error: null, src: true });
    const item = bob.locator('#messages > li[data-msg-id="2"]');
    expect(await item.getAttribute('data-from')).toBe('alice');
    // The session list says what the last message is, not its JSON.
    await eventually(() => bob.locator('#sessions > li[data-session-id="alice"] .preview').textContent()).toMatch(
      /^\[voice note [\d.]+ s\]$/,
    );

    await Promise.all([alice.close(), bob.close()]);
  });
});
