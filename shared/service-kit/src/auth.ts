import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from './errors';

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Requires `Authorization: Bearer <token>`: 401 (with `WWW-Authenticate`) without
 * one, 403 with a wrong one. Both sides are hashed first so that the comparison is
 * constant-time whatever the lengths (`timingSafeEqual` needs equal lengths).
 */
export function requireBearerToken(expectedToken: string, realm = 'admin'): RequestHandler {
  if (expectedToken.length === 0) throw new TypeError('requireBearerToken: the expected token must not be empty');
  const expected = sha256(expectedToken);
  return (req, _res, next) => {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.get('authorization') ?? '');
    if (match === null) {
      throw new HttpError(401, 'UNAUTHORIZED', 'A bearer token is required', {
        headers: { 'WWW-Authenticate': `Bearer realm="${realm}"` },
      });
    }
    if (!timingSafeEqual(sha256(match[1]!), expected)) {
      throw new HttpError(403, 'FORBIDDEN', 'The token is not valid for this resource');
    }
    next();
  };
}
