export type { AuthChallenge } from './lib/www-authenticate.ts';
export { parseWwwAuthenticate } from './lib/www-authenticate.ts';
