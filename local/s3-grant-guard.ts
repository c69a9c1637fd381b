/**
 * Local IAM for the attachment bucket: each function's S3 client may touch only the key prefixes lib/grants.ts gives
 * it (`attachments.read` for s3:GetObject — GET, HEAD, a copy's source — and `attachments.write` for s3:PutObject —
 * PUT, a copy's target — and `attachments.delete` for s3:DeleteObject), checked on every call, presigning included, as IAM checks the signer's role on AWS. A call
 * outside the grant is recorded and answered as S3 answers it: 403 AccessDenied.
 */
import { S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import type { S3ClientPlugin } from '../core/compose/adapters.js';
import { FUNCTION_ACCESS, type FunctionId } from '../lib/grants.js';

export interface S3AccessViolation {
  readonly functionId: FunctionId;
  readonly command: string;
  readonly action: 's3:GetObject' | 's3:PutObject' | 's3:DeleteObject';
  readonly key: string;
}

type Input = { readonly Key?: string; readonly CopySource?: string };

/** The object permissions a call needs. Throws for a command the attachments code does not use. */
function required(command: string, input: Input): [S3AccessViolation['action'], string][] {
  const key = input.Key ?? '';
  switch (command) {
    case 'HeadObjectCommand':
    case 'GetObjectCommand':
      return [['s3:GetObject', key]];
    case 'PutObjectCommand':
      return [['s3:PutObject', key]];
    case 'DeleteObjectCommand':
      return [['s3:DeleteObject', key]];
    case 'CopyObjectCommand':
      return [
        ['s3:GetObject', decodeURIComponent((input.CopySource ?? '').split('/').slice(1).join('/'))],
        ['s3:PutObject', key],
      ];
    default:
      throw new Error(`local/s3-grant-guard.ts does not know ${command}: add its permissions`);
  }
}

export class S3GrantGuard {
  readonly violations: S3AccessViolation[] = [];

  forFunction(functionId: FunctionId): S3ClientPlugin {
    return {
      attach: (client: S3Client) =>
        client.middlewareStack.add(
          (next, context) => async (args) => {
            this.check(functionId, context.commandName ?? 'unknown', args.input as Input);
            return next(args);
          },
          { step: 'initialize', name: 's3GrantGuard', priority: 'high', override: true },
        ),
    };
  }

  private check(functionId: FunctionId, command: string, input: Input): void {
    const access = FUNCTION_ACCESS[functionId].attachments;
    for (const [action, key] of required(command, input)) {
      const prefixes =
        action === 's3:GetObject' ? access?.read : action === 's3:PutObject' ? access?.write : access?.delete;
      if (prefixes?.some((p) => key.startsWith(p))) continue;
      this.violations.push({ functionId, command, action, key });
      throw new S3ServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: `${functionId} is not authorized to perform ${action} on ${key} (local mode: lib/grants.ts gives it ${prefixes?.join(', ') || 'no prefix'})`,
      });
    }
  }
}
