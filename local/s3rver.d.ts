/** The part of s3rver 3.7 (no types of its own) that local/s3-server.ts uses: a Koa app over a file-system store. */
declare module 's3rver' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface S3rverOptions {
    directory?: string;
    silent?: boolean;
    configureBuckets?: { name: string; configs?: string[] }[];
  }

  export default class S3rver {
    constructor(options?: S3rverOptions);
    configureBuckets(): Promise<void>;
    /** The file-system store behind the server. */
    readonly store: { existsObject(bucket: string, key: string): Promise<boolean> };
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  }
}
