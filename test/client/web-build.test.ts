/** buildWebApp(): the page the local emulator serves at / and /app.js, built on the SDK package's build. */
import { describe, expect, it } from 'vitest';
import { buildWebApp } from '../../local/web/build.js';

describe('buildWebApp', () => {
  it('returns the page with the stable element ids and a browser bundle made from the SDK package build', async () => {
    const { html, js, inputs } = await buildWebApp();
    for (const id of [
      'user-id',
      'login',
      'peer-id',
      'message-input',
      'send',
      'messages',
      'status',
      'banner',
      'sessions',
      'unread-total',
      'load-older',
      'remove-session',
      'group-form',
      'group-name',
      'group-members',
      'create-group',
      'group-panel',
      'group-member-list',
      'group-add-member',
      'add-member',
      'leave-group',
      'group-events',
    ]) {
      expect(html).toContain(`id="${id}"`);
    }
    expect(html).toContain('src="/app.js"');
    expect(html).not.toContain('/*STYLES*/'); // The CSS is inlined.
    expect(html).toContain('.messages');
    expect(js).toContain('/local/token?user_id=');
    expect(js).not.toMatch(/\bfrom\s*["']ws["']|require\(/); // Browser code only: no Node modules.
    expect(() => new Function(js.replace(/\bexport\s*\{[^}]*\};?\s*$/, ''))).not.toThrow(); // Parses as a script body.
    // The SDK comes from client/dist (what the package ships), never from its source, and no server code comes in.
    expect(inputs.some((file) => file.startsWith('client/dist/esm/client/'))).toBe(true);
    expect(inputs.filter((file) => !file.startsWith('local/web/') && !file.startsWith('client/dist/'))).toEqual([]);
  });
});
