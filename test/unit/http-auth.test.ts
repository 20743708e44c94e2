/**
 * Goal: the HTTP endpoint's password check accepts exactly the configured password, as HTTP Basic
 * with any user name or as a Bearer token, and asks nothing when no password is set.
 * Method: the pure functions of src/server/http-auth.ts.
 */
import { describe, expect, it } from 'vitest';
import { authorizationHeader, authorized, httpPassword } from '../../src/server/http-auth.js';

const basic = (s: string): string => `Basic ${Buffer.from(s).toString('base64')}`;

describe('http-auth', () => {
  it('takes metrics-password, else requirepass', () => {
    expect(httpPassword((n) => ({ 'metrics-password': 'm', requirepass: 'r' })[n] ?? '')).toBe('m');
    expect(httpPassword((n) => ({ 'metrics-password': '', requirepass: 'r' })[n] ?? '')).toBe('r');
    expect(httpPassword(() => '')).toBe('');
  });

  it('checks Basic (any user, password with colons) and Bearer', () => {
    expect(authorized(undefined, '')).toBe(true);
    expect(authorized(undefined, 'p')).toBe(false);
    expect(authorized(basic('any:p:q'), 'p:q')).toBe(true);
    expect(authorized(basic(':p'), 'p')).toBe(true);
    expect(authorized(basic('p'), 'p')).toBe(false);
    expect(authorized(basic('u:px'), 'p')).toBe(false);
    expect(authorized('bearer p', 'p')).toBe(true);
    expect(authorized('Bearer  p ', 'p')).toBe(true);
    expect(authorized('Bearer', 'p')).toBe(false);
    expect(authorized('Digest p', 'p')).toBe(false);
    expect(authorized(authorizationHeader('s3').authorization, 's3')).toBe(true);
    expect(authorizationHeader('')).toEqual({});
  });
});
