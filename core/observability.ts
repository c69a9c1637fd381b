/** One Powertools logger per Lambda instance; JSON lines with the service name, never message bodies or tokens. */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: 'teamtalk-serverless' });
