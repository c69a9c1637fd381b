/** The send function's content check: the team's Lambda (CONTENT_CHECK_FUNCTION), or what local mode and tests give. */
import { LambdaContentCheck } from '../gateway/lambda-content-check.js';
import type { ContentCheck } from '../ports/moderation.js';
import type { Adapters } from './adapters.js';

export function contentCheck({ config, region, options }: Adapters): ContentCheck | undefined {
  if (options.contentCheck) return options.contentCheck;
  const settings = config.contentCheck;
  if (!settings) return undefined;
  return new LambdaContentCheck({
    ...settings,
    region: region ?? 'us-east-1',
    ...(options.contentCheckEndpoint ? { endpoint: options.contentCheckEndpoint } : {}),
  });
}
