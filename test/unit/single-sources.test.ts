/**
 * Facts stated once. Where two packages must each state one — the emulator (`teamtalk-local`) imports nothing of the
 * repository — a test holds the two equal; where server code reads a fact of the protocol, a test makes it follow.
 */
import { AWS_LIMITS, CONNECT_ROUTE, DEFAULT_ROUTE, DISCONNECT_ROUTE } from 'teamtalk-local';
import { describe, expect, it } from 'vitest';
import { parseClientType } from '../../core/domain/connection.js';
import * as routes from '../../core/routes.js';
import { ClientType } from '../../protocol/frames.js';
import { MAX_FRAME_BYTES } from '../../protocol/limits.js';

describe('facts stated once', () => {
  it("the authorizer accepts exactly protocol/frames.ts's ClientType values in ?client_type=", () => {
    for (const value of Object.values(ClientType)) expect(parseClientType(String(value))).toBe(value);
    for (const other of ['0', '3', '16', '19', 'ios', '', null, undefined])
      expect(parseClientType(other)).toBeUndefined();
  });

  it("API Gateway's own route keys are the emulator's, and ROUTES holds them with every action", () => {
    expect([routes.CONNECT_ROUTE, routes.DISCONNECT_ROUTE, routes.DEFAULT_ROUTE]).toEqual([
      CONNECT_ROUTE,
      DISCONNECT_ROUTE,
      DEFAULT_ROUTE,
    ]);
    expect(Object.keys(routes.ROUTES).sort()).toEqual(
      [CONNECT_ROUTE, DISCONNECT_ROUTE, DEFAULT_ROUTE, ...Object.keys(routes.ACTION_ROUTES)].sort(),
    );
  });

  it("the largest frame the server posts is the emulator's API Gateway message limit, both ways", () => {
    expect(AWS_LIMITS.maxPostBytes).toBe(MAX_FRAME_BYTES);
    expect(AWS_LIMITS.maxMessageBytes).toBe(MAX_FRAME_BYTES);
  });
});
