/**
 * The attachment bucket in the synthesized template: private (Block Public Access, bucket-owner objects), SSL only,
 * encrypted, unversioned, with the lifecycle rules that delete unreferenced uploads after a day and referenced
 * copies with the message retention; the attachment settings reach the functions that use them; cdk-nag is clean.
 */
import { readFileSync } from 'node:fs';
import { App, Duration, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../core/config.js';
import { ChatBackend, type ChatBackendProps } from '../../lib/chat-backend.js';

const CDK_CONTEXT = (
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }
).context;

function synth(props: ChatBackendProps) {
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Attach', { env: { account: '123456789012', region: 'eu-west-1' } });
  const backend = new ChatBackend(stack, 'Chat', { apiGatewayLogsRole: 'leave', ...props });
  const nag = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(nag);
  return { app, stack, backend, nag, template: Template.fromStack(stack) };
}

type Rule = {
  Id: string;
  Prefix?: string;
  ExpirationInDays?: number;
  AbortIncompleteMultipartUpload?: unknown;
  Status: string;
};

function rulesOf(template: Template): Rule[] {
  const buckets = Object.values(template.findResources('AWS::S3::Bucket'));
  expect(buckets).toHaveLength(1);
  return (buckets[0]!['Properties']['LifecycleConfiguration']['Rules'] as Rule[]).map((r) => ({ ...r }));
}

describe('attachment bucket', () => {
  const withRetention = synth({
    messageRetention: Duration.days(30),
    maxImageBytes: 5_000_000,
    attachmentCorsOrigins: ['https://chat.example.com'],
  });
  const plain = synth({});

  it('is private, SSL only, encrypted and unversioned', () => {
    plain.template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      VersioningConfiguration: Match.absent(),
    });
    plain.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
    const policy = JSON.stringify(plain.template.findResources('AWS::S3::BucketPolicy'));
    expect(policy).not.toContain('"Effect":"Allow"');
  });

  it('deletes uploads after a day (referenced ones live on as their copy under att/), att/ a day after the message retention, and account exports after two days', () => {
    const exportsRule = { Id: 'AccountExports', Prefix: 'exports/', ExpirationInDays: 2, Status: 'Enabled' };
    expect(rulesOf(plain.template)).toEqual([
      { Id: 'UnreferencedUploads', Prefix: 'uploads/', ExpirationInDays: 1, Status: 'Enabled' },
      exportsRule,
      { Id: 'AbortIncompleteUploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' },
    ]);
    expect(rulesOf(withRetention.template)).toEqual([
      { Id: 'UnreferencedUploads', Prefix: 'uploads/', ExpirationInDays: 1, Status: 'Enabled' },
      { Id: 'AttachmentRetention', Prefix: 'att/', ExpirationInDays: 31, Status: 'Enabled' },
      exportsRule,
      { Id: 'AbortIncompleteUploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' },
    ]);
  });

  it('lets browsers PUT and GET from the configured origins', () => {
    withRetention.template.hasResourceProperties('AWS::S3::Bucket', {
      CorsConfiguration: {
        CorsRules: [
          Match.objectLike({ AllowedOrigins: ['https://chat.example.com'], AllowedMethods: ['PUT', 'GET', 'HEAD'] }),
        ],
      },
    });
    plain.template.hasResourceProperties('AWS::S3::Bucket', {
      CorsConfiguration: { CorsRules: [Match.objectLike({ AllowedOrigins: ['*'] })] },
    });
  });

  it('passes the bucket and the limits to the attachment users, with the defaults unless set', () => {
    const envOf = (s: ReturnType<typeof synth>, fn: 'attachments' | 'send' | 'sync') => {
      const id = s.stack.getLogicalId(s.backend.functions[fn].node.defaultChild as CfnElement);
      return s.template.toJSON()['Resources'][id]['Properties']['Environment']['Variables'] as Record<string, unknown>;
    };
    const bucketName = plain.stack.resolve(plain.backend.attachmentBucket.bucketName);
    expect(envOf(plain, 'attachments')[ENV.attachmentBucket]).toEqual(bucketName);
    expect(envOf(plain, 'send')[ENV.attachmentBucket]).toEqual(bucketName);
    expect(envOf(plain, 'sync')[ENV.attachmentBucket]).toBeUndefined();
    expect(envOf(plain, 'attachments')).toMatchObject({
      [ENV.maxImageBytes]: '10485760',
      [ENV.maxAudioBytes]: '2097152',
      [ENV.attachmentUrlTtlSeconds]: '300',
    });
    expect(envOf(withRetention, 'attachments')).toMatchObject({ [ENV.maxImageBytes]: '5000000' });
  });

  it('refuses limits S3 or the signing credentials cannot honour', () => {
    expect(() => synth({ maxAudioBytes: 0 })).toThrow(/maxAudioBytes/);
    expect(() => synth({ maxImageBytes: 6 * 1024 ** 3 })).toThrow(/maxImageBytes/);
    expect(() => synth({ attachmentUrlTtl: Duration.hours(2) })).toThrow(/attachmentUrlTtl/);
  });

  it('has no unacknowledged cdk-nag finding', () => {
    for (const s of [plain, withRetention]) expect(s.nag.validateScope(s.app).violations).toEqual([]);
  });
});
