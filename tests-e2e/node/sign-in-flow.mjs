#!/usr/bin/env node
// Signs a user in to Gatehouse through Logto's Node SDK, `@logto/node`, as a Logto web app would, while
// the test plays the browser and the sign-in page. It talks JSON lines: it prints
//   {"step": "sign-in", "url": <the SDK's authorization URL>}
// then reads one line {"callbackUrl": <where the OP sent the browser back>} on stdin, lets the SDK handle
// the callback (code exchange, ID token verification against the OP's JWKS), reads what an app reads
// (ID token claims, userinfo, an access token for each configured resource, the app context), signs out,
// and prints {"step": "done", ...} with the outcome of every call (`ok` or the SDK's error).
//
// Config (JSON) in env LOGTO_FLOW: endpoint, appId, appSecret?, resources[], scopes[], redirectUri,
// postLogoutRedirectUri, organizationId? (then the app also asks for an organization token, as an app
// of a multi-tenant product does, and for the claims of one).

import readline from 'node:readline';
import LogtoClient from '@logto/node';

const config = JSON.parse(process.env.LOGTO_FLOW ?? '{}');
if (!config.endpoint || !config.appId || !config.redirectUri) {
  console.error('LOGTO_FLOW needs endpoint, appId and redirectUri');
  process.exit(2);
}

const emit = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

const lines = readline.createInterface({ input: process.stdin });
const nextLine = () =>
  new Promise((resolve, reject) => {
    lines.once('line', resolve);
    lines.once('close', () => reject(new Error('stdin closed')));
  });

// The storage a web app keeps per browser session (a cookie or a KV store): a Map here.
const stored = new Map();
const storage = {
  getItem: async (key) => stored.get(key) ?? null,
  setItem: async (key, value) => void stored.set(key, value),
  removeItem: async (key) => void stored.delete(key),
};
const navigations = [];
const navigate = (url, parameters) => void navigations.push({ url, for: parameters?.for });

const client = new LogtoClient(
  {
    endpoint: config.endpoint,
    appId: config.appId,
    appSecret: config.appSecret,
    resources: config.resources ?? [],
    scopes: config.scopes ?? [],
  },
  { navigate, storage },
);

const describe = (error) => ({
  name: error?.name,
  code: error?.code,
  message: error?.message,
  data: error?.data ?? error?.cause?.data,
  status: error?.response?.status ?? error?.cause?.response?.status,
});

const outcome = { step: 'done', calls: {} };
/** Runs one SDK call, records its value or its error; never throws. */
async function call(name, fn) {
  try {
    const value = await fn();
    outcome.calls[name] = { ok: true, value: value ?? null };
    return value;
  } catch (error) {
    outcome.calls[name] = { ok: false, error: describe(error) };
    return undefined;
  }
}

try {
  await client.signIn({ redirectUri: config.redirectUri });
  const signIn = navigations.find((n) => n.for === 'sign-in');
  emit({ step: 'sign-in', url: signIn?.url ?? null });

  const { callbackUrl } = JSON.parse(await nextLine());
  outcome.isSignInRedirected = await client.isSignInRedirected(callbackUrl);
  const handled = await call('handleSignInCallback', () => client.handleSignInCallback(callbackUrl));
  void handled;
  if (outcome.calls.handleSignInCallback.ok) {
    await call('isAuthenticated', () => client.isAuthenticated());
    await call('getIdToken', () => client.getIdToken());
    await call('getIdTokenClaims', () => client.getIdTokenClaims());
    await call('fetchUserInfo', () => client.fetchUserInfo());
    await call('getAccessToken', () => client.getAccessToken());
    for (const resource of config.resources ?? []) {
      await call(`getAccessToken:${resource}`, () => client.getAccessToken(resource));
      await call(`getAccessTokenClaims:${resource}`, () => client.getAccessTokenClaims(resource));
    }
    if (config.organizationId) {
      const org = config.organizationId;
      await call('getOrganizationToken', () => client.getOrganizationToken(org));
      await call('getOrganizationTokenClaims', () => client.getOrganizationTokenClaims(org));
    }
    await call('getRefreshToken', () => client.getRefreshToken());
    const [resource] = config.resources ?? [];
    await call('getContext', () => client.getContext({ getAccessToken: true, resource, fetchUserInfo: true }));
    await call('signOut', () => client.signOut(config.postLogoutRedirectUri));
    outcome.signOutUrl = navigations.find((n) => n.for === 'sign-out')?.url ?? null;
    await call('isAuthenticatedAfterSignOut', () => client.isAuthenticated());
  }
  emit(outcome);
  lines.close();
} catch (error) {
  emit({ step: 'failed', error: describe(error), outcome });
  lines.close();
  process.exit(1);
}
