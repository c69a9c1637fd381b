/**
 * `npm run token -- <userId>`: prints an HS256 token for that user, signed with JWT_SECRET (default
 * `local-dev-secret`, the secret `npm start` uses), valid for 24 hours. Only the token goes to stdout, so
 * `TOKEN=$(npm run -s token -- alice)` works.
 */
import { DEFAULT_JWT_SECRET, DEFAULT_TOKEN_TTL_SECONDS, InvalidUserIdError, mintToken } from '../local/token.js';

const [userId, ...rest] = process.argv.slice(2);
if (userId === undefined || rest.length > 0 || userId === '--help' || userId === '-h') {
  console.error('usage: npm run token -- <userId>   (JWT_SECRET overrides the secret, default local-dev-secret)');
  process.exit(2);
}

try {
  const secret = process.env['JWT_SECRET'] || DEFAULT_JWT_SECRET;
  console.log(await mintToken(secret, userId));
  console.error(
    `token for ${userId}, valid ${DEFAULT_TOKEN_TTL_SECONDS / 3600} h, signed with ${secret === DEFAULT_JWT_SECRET ? 'the default secret' : 'JWT_SECRET'}`,
  );
} catch (error) {
  if (error instanceof InvalidUserIdError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
