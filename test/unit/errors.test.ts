/**
 * The server's errors are one family (core/errors.ts): every error class exported by core/, lib/ or protocol/ names
 * itself (minified bundles would otherwise log `Error` or `e`), every class of core/ is a ServerError with a code of
 * its own, no module of core/ or lib/ throws a bare Error, and the failures that used to throw one throw a member.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, tokenVerifierFromEnv } from '../../core/auth/verify-token.js';
import * as errors from '../../core/errors.js';
import { pushContent } from '../../core/domain/push-content.js';
import { parsePushEvent } from '../../core/domain/push-event.js';
import { FcmSender } from '../../core/push-providers/fcm.js';
import { backendPropsFromContext } from '../../lib/app.js';
import { ChatBackend } from '../../lib/index.js';
import { FakeFcm } from '../../local/push/fake-fcm.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { ConfigError, InvalidTokenError, MalformedPushEventError, ProviderAuthError, ServerError } = errors;

/** The .ts modules under a folder of the repository (no tests, no declarations). */
function modulesUnder(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

type ErrorClass = abstract new (...args: never[]) => Error;
const isErrorClass = (value: unknown): value is ErrorClass =>
  typeof value === 'function' && value.prototype instanceof Error;

/** Every Error subclass a module of core/, lib/ or protocol/ exports, by the module that declares it. */
async function exportedErrorClasses(): Promise<Map<ErrorClass, string>> {
  const found = new Map<ErrorClass, string>();
  for (const path of ['core', 'lib', 'protocol'].flatMap(modulesUnder)) {
    const module: Record<string, unknown> = await import(join(ROOT, path));
    for (const value of Object.values(module)) if (isErrorClass(value) && !found.has(value)) found.set(value, path);
  }
  return found;
}

/** An instance, for a look at its fields (FrameError takes a code before the message). */
const instance = (Class: ErrorClass): Error => {
  const Concrete = Class as unknown as new (...args: unknown[]) => Error;
  return Class === errors.FrameError ? new Concrete('bad_request', 'm') : new Concrete('m');
};

describe('one family of errors', () => {
  let classes: Map<ErrorClass, string>;
  beforeAll(async () => {
    classes = await exportedErrorClasses();
  }, 120_000);

  it('finds the classes (core/errors.ts and protocol/attachments.ts among them)', () => {
    expect([...classes.values()]).toEqual(expect.arrayContaining(['core/errors.ts', 'protocol/attachments.ts']));
    expect(classes.size).toBeGreaterThan(10);
  });

  it('every exported error class has a name equal to its class name, written out, and no two share one', () => {
    const concrete = [...classes.keys()].filter((Class) => Class !== ServerError);
    for (const Class of concrete)
      expect(instance(Class).name, `${Class.name} (${classes.get(Class)})`).toBe(Class.name);
    const names = concrete.map((Class) => Class.name);
    expect(new Set(names).size, names.join(', ')).toBe(names.length);
  });

  it('every error class of core/ is a ServerError, declared in core/errors.ts, with a code of its own', () => {
    const core = [...classes].filter(([, path]) => path.startsWith('core/'));
    for (const [Class, path] of core) {
      expect(path, Class.name).toBe('core/errors.ts');
      expect(Class === ServerError || Class.prototype instanceof ServerError, Class.name).toBe(true);
    }
    const codes = core
      .filter(([Class]) => Class !== ServerError && Class !== errors.FrameError)
      .map(([Class]) => (instance(Class) as InstanceType<typeof ServerError>).code);
    expect(new Set(codes).size, codes.join(', ')).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
  });

  it('no module of core/ or lib/ throws a bare Error (a bug that cannot happen is an assertion)', () => {
    const bare = ['core', 'lib'].flatMap(modulesUnder).flatMap((path) =>
      readFileSync(join(ROOT, path), 'utf8')
        .split('\n')
        .flatMap((line, i) => (/\bnew Error\(/.test(line) ? [`${path}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(bare).toEqual([]);
  });
});

describe('the failures that threw a bare Error throw a member of the family', () => {
  let fcm: FakeFcm;
  beforeAll(async () => {
    fcm = await FakeFcm.start();
  });
  afterAll(async () => {
    await fcm?.stop();
  });

  it('a token verifier without a secret or an issuer refuses every token with ConfigError', async () => {
    await expect(createTokenVerifier({})('a.b.c')).rejects.toThrow(ConfigError);
  });

  it('a token time in the environment that is not whole seconds is a ConfigError', () => {
    expect(() => tokenVerifierFromEnv({ JWT_SECRET: 's', JWT_CLOCK_SKEW_SECONDS: '1.5' })).toThrow(ConfigError);
  });

  it('a refused token is an InvalidTokenError, a ServerError', async () => {
    const refusal = await createTokenVerifier({ secret: 's' })(undefined).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(InvalidTokenError);
    expect(refusal).toBeInstanceOf(ServerError);
  });

  it('a record that is not a push event is a MalformedPushEventError, a ServerError', () => {
    expect(() => parsePushEvent('not json')).toThrow(MalformedPushEventError);
    expect(() => parsePushEvent('{}')).toThrow(ServerError);
  });

  it("FCM's token endpoint refusing the service account is a ProviderAuthError", async () => {
    const sender = new FcmSender({
      serviceAccount: { ...fcm.serviceAccount, client_email: 'someone-else@example.iam.gserviceaccount.com' },
      clock: { now: () => Date.now() },
      origin: fcm.origin,
    });
    const content = pushContent(
      {
        reason: 'offline',
        receivers: ['bob'],
        from_user_id: 'alice',
        session_type: 1,
        session_id: 'alice',
        msg_id: 1,
        msg_type: 1,
        create_time: 1_790_000_000,
      },
      1,
    );
    await expect(sender.send('device-token', content)).rejects.toThrow(ProviderAuthError);
  });

  it('a bad ChatBackend prop or context key is a ConfigError, raised at synth', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Probe');
    expect(() => new ChatBackend(stack, 'Chat', { sweepInterval: Duration.seconds(90) })).toThrow(ConfigError);
    expect(() => backendPropsFromContext(new App({ context: { removalPolicy: 'sometimes' } }))).toThrow(ConfigError);
  });
});
