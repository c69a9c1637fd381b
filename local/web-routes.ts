/**
 * Local mode's plain HTTP routes besides @connections, served by the emulator (its `httpRoutes`): the chat page and
 * the token endpoint.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpRoutes } from 'teamtalk-local';
import { isUserId } from '../core/domain/ids.js';

export interface WebApp {
  readonly html: string;
  readonly js: string;
  /** The page's service worker (`GET /sw.js`: the scope must be the page's). */
  readonly serviceWorker?: string;
  /** The VAPID public key the page subscribes with (`GET /local/push-config`), when local mode runs the push sender. */
  readonly vapidPublicKey?: string;
}

export interface WebRoutesOptions {
  /** Serves `GET /`, `/app.js`, `/sw.js` and `/local/push-config`. @default - none: `/` answers 404 with a hint */
  readonly webApp?: WebApp;
  /** Mints a token for a valid user id (`GET /local/token?user_id=`). @default - none: 404 */
  readonly mintToken?: (userId: string) => Promise<string>;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  send(res, status, 'application/json', JSON.stringify(body));

/** Answers `/`, `/app.js`, `/sw.js`, `/local/push-config` and `/local/token`; leaves any other request to the emulator. */
export function webRoutes(options: WebRoutesOptions): HttpRoutes {
  return (req, res, url) => handleWebRequest(req, res, url, options);
}

async function handleWebRequest(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  options: WebRoutesOptions,
): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  switch (url.pathname) {
    case '/':
    case '/index.html':
      if (options.webApp) send(res, 200, 'text/html; charset=utf-8', options.webApp.html);
      else
        send(
          res,
          404,
          'text/plain; charset=utf-8',
          `No web page is served here. WebSocket clients connect to ws://${url.host}/?token=<jwt>\n`,
        );
      return true;
    case '/app.js':
      if (!options.webApp) return false;
      send(res, 200, 'text/javascript; charset=utf-8', options.webApp.js);
      return true;
    case '/sw.js':
      if (!options.webApp?.serviceWorker) return false;
      send(res, 200, 'text/javascript; charset=utf-8', options.webApp.serviceWorker);
      return true;
    case '/local/push-config':
      if (!options.webApp) return false;
      json(res, 200, { vapid_public_key: options.webApp.vapidPublicKey ?? null });
      return true;
    case '/local/token': {
      if (!options.mintToken) return false;
      const userId = url.searchParams.get('user_id') ?? '';
      if (!isUserId(userId)) {
        json(res, 400, { message: 'user_id must be 1-128 characters of A-Za-z0-9_.@-' });
        return true;
      }
      json(res, 200, { token: await options.mintToken(userId) });
      return true;
    }
    default:
      return false;
  }
}
