/** buildWebApp(): the page the local emulator serves at / and /app.js. */
import { describe, expect, it } from 'vitest';
import { buildWebApp } from '../../local/web/build.js';

describe('buildWebApp', () => {
  it('returns the page with the stable element ids and a non-empty browser bundle', async () => {
    const { html, js } = await buildWebApp();
    for (const id of ['user-id', 'login', 'peer-id', 'message-input', 'send', 'messages', 'status', 'sessions', 'unread-total', 'load-older', 'remove-session', 'group-form', 'group-name', 'group-members', 'create-group', 'group-panel', 'group-member-list', 'group-add-member', 'add-member', 'leave-group', 'group-events']) {
      expect(html).toContain(`id="${id}"`);
    }
    expect(html).toContain('src="/app.js"');
    expect(html).not.toContain('/*STYLES*/'); // The CSS is inlined.
    expect(html).toContain('.messages');
    expect(js.length).toBeGreaterThan(1000);
    expect(js).toContain('/local/token?user_id=');
    expect(js).not.toMatch(/\bfrom\s*["']ws["']|require\(/); // Browser code only: no Node modules.
    expect(() => new Function(js.replace(/\bexport\s*\{[^}]*\};?\s*$/, ''))).not.toThrow(); // Parses as a script body.
  });
});
