/**
 * X's OAuth 2.0 endpoints for our confidential app (X-API.md §1, §8) through twitter-api-v2:
 * authorize URL, code exchange, refresh, revoke and `users/me`. Errors become `ChannelError`s via
 * `mapXError`; every token seen is registered for log redaction.
 *
 * The authorize URL is built here rather than with `generateOAuth2AuthLink`: that helper makes its
 * own PKCE verifier, sends `s256` in lower case and always answers `https://x.com/…`, while we need
 * our verifier (kept in the state record), RFC 7636's `S256`, and a configurable origin.
 */
import { registerSecretValue } from '../../lambdas/shared/logger';
import type { OAuthTokenSet, XOAuth } from '../../core/oauth';
import type { AppCredentialsProvider } from '../aws/secrets-app-credentials';
import { createXAppClient, createXUserClient, X_AUTHORIZE_URL, type XClientSettings } from './client';
import { mapXError } from './errors';

export interface XOAuthOptions {
  /** Origin of the X API (the simulated X locally). */
  apiBaseUrl: string;
  /** X's browser authorize page. */
  authorizeUrl?: string;
  credentials: AppCredentialsProvider;
  timeoutMs?: number;
  /** Sees every successful `users/me` answer (the spend meter prices it: $0.01 a sign-in). */
  onResponse?: XClientSettings['onResponse'];
}

function toTokenSet(r: {
  accessToken: string;
  refreshToken?: string;
  expiresIn: number;
  scope?: string[] | string;
}): OAuthTokenSet {
  registerSecretValue(r.accessToken);
  registerSecretValue(r.refreshToken);
  const scopes = Array.isArray(r.scope)
    ? r.scope
    : typeof r.scope === 'string'
      ? r.scope.split(/\s+/).filter(Boolean)
      : [];
  return {
    accessToken: r.accessToken,
    refreshToken: r.refreshToken ?? null,
    expiresInSeconds: Number.isFinite(r.expiresIn) && r.expiresIn > 0 ? r.expiresIn : 7200,
    scopes,
  };
}

/** Builds the X OAuth port. */
export function createXOAuth(options: XOAuthOptions): XOAuth {
  const authorizeBase = options.authorizeUrl ?? X_AUTHORIZE_URL;
  const app = async () => {
    const creds = await options.credentials.get();
    return {
      creds,
      client: createXAppClient({ apiBaseUrl: options.apiBaseUrl, timeoutMs: options.timeoutMs, ...creds }),
    };
  };
  return {
    async authorizeUrl({ redirectUri, scopes, state, codeChallenge }) {
      const { creds } = await app();
      const url = new URL(authorizeBase);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('client_id', creds.clientId);
      url.searchParams.set('redirect_uri', redirectUri);
      url.searchParams.set('scope', scopes.join(' '));
      url.searchParams.set('state', state);
      url.searchParams.set('code_challenge', codeChallenge);
      url.searchParams.set('code_challenge_method', 'S256');
      return url.toString();
    },

    async exchangeCode({ code, codeVerifier, redirectUri }) {
      registerSecretValue(code);
      registerSecretValue(codeVerifier);
      const { client } = await app();
      try {
        return toTokenSet(await client.loginWithOAuth2({ code, codeVerifier, redirectUri }));
      } catch (e) {
        throw mapXError(e, 'token');
      }
    },

    async refresh(refreshToken) {
      registerSecretValue(refreshToken);
      const { client } = await app();
      try {
        return toTokenSet(await client.refreshOAuth2Token(refreshToken));
      } catch (e) {
        throw mapXError(e, 'refresh');
      }
    },

    async revoke(token, kind) {
      const { client } = await app();
      try {
        await client.revokeOAuth2Token(token, kind);
      } catch (e) {
        throw mapXError(e, 'revoke');
      }
    },

    async me(accessToken) {
      const client = createXUserClient({
        apiBaseUrl: options.apiBaseUrl,
        accessToken,
        timeoutMs: options.timeoutMs,
        onResponse: options.onResponse,
      });
      try {
        const { data } = await client.v2.me({ 'user.fields': ['profile_image_url', 'name', 'username'] });
        return {
          id: data.id,
          username: data.username,
          name: data.name,
          avatarUrl: data.profile_image_url ?? null,
        };
      } catch (e) {
        throw mapXError(e, 'me');
      }
    },
  };
}
