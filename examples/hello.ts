// docs/deploy.md §4: connect with the SDK, send one message, print what arrives.
// URL=<wss url> TOKEN=<jwt> npx tsx examples/hello.ts <peer user id>
import { WebSocket } from 'ws';
import { ChatClient, peer } from '../client/index.js';

const [to] = process.argv.slice(2);
const url = process.env['URL'];
const token = process.env['TOKEN'];
if (!to || !url || !token) {
  console.error('usage: URL=<wss url> TOKEN=<jwt> npx tsx examples/hello.ts <peer user id>');
  process.exit(2);
}

const chat = new ChatClient({ url, token, WebSocket }); // apps pass getToken: () => … instead of a fixed token
chat.on('message', (m) => console.log(`${m.from_user_id}: ${m.msg_data}`));
await chat.connect();
const ack = await chat.send({ to: peer(to), msgData: 'hi from examples/hello.ts' }); // resolves once stored
console.log(`stored as msg_id ${ack.msg_id}`);
chat.close();
