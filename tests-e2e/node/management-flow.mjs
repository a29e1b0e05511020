#!/usr/bin/env node
// Drives Gatehouse's Management API through Logto's own client, `@logto/api`, as a Logto user would:
// an API resource with two scopes, a machine-to-machine role holding them, a machine-to-machine app
// given that role, its secret; then client_credentials tokens for the new app (plain fetch) before and
// after the role is taken away again.
//
// Usage: node management-flow.mjs [BASE_URL [CLIENT_ID [CLIENT_SECRET [API_INDICATOR]]]]
// or the env variables GATEHOUSE_URL, GATEHOUSE_CLIENT_ID, GATEHOUSE_CLIENT_SECRET,
// GATEHOUSE_API_INDICATOR (default https://default.logto.app/api).
// Prints one JSON summary on stdout; exits 1 on any mismatch, 2 on bad usage.

import { randomUUID } from 'node:crypto';
import { createManagementApi } from '@logto/api/management';

const [argBase, argId, argSecret, argIndicator] = process.argv.slice(2);
const baseUrl = (argBase ?? process.env.GATEHOUSE_URL ?? '').replace(/\/+$/, '');
const clientId = argId ?? process.env.GATEHOUSE_CLIENT_ID;
const clientSecret = argSecret ?? process.env.GATEHOUSE_CLIENT_SECRET;
const apiIndicator = argIndicator ?? process.env.GATEHOUSE_API_INDICATOR ?? 'https://default.logto.app/api';

if (!baseUrl || !clientId || !clientSecret) {
  console.error('usage: management-flow.mjs BASE_URL CLIENT_ID CLIENT_SECRET [API_INDICATOR] (or GATEHOUSE_* env)');
  process.exit(2);
}

const summary = {
  ok: false,
  client: { package: '@logto/api', tenantId: 'default', baseUrl, apiIndicator },
  calls: [],
  mismatches: [],
  clientWarnings: [],
};

// createManagementApi warns on stderr when the management token's scope is not "all": keep those too.
const warn = console.warn.bind(console);
console.warn = (...args) => {
  summary.clientWarnings.push(args.map(String).join(' '));
  warn(...args);
};

const mismatch = (what, detail) => summary.mismatches.push(detail === undefined ? what : { what, detail });

class Abort extends Error {}

/** Runs one typed call of the client and checks its status; aborts the flow when it is not the expected one. */
async function call(method, path, params, expected) {
  const entry = { method, path, expected };
  summary.calls.push(entry);
  let result;
  try {
    result = await apiClient[method](path, params);
  } catch (err) {
    // openapi-fetch throws e.g. when a 2xx body is not the JSON the operation promises.
    entry.thrown = `${err?.name}: ${err?.message}`;
    mismatch(`${method} ${path} threw in @logto/api`, entry.thrown);
    throw new Abort(entry.thrown);
  }
  const { data, error, response } = result;
  entry.status = response.status;
  if (response.status !== expected) {
    entry.error = error ?? null;
    mismatch(`${method} ${path}: status ${response.status}, expected ${expected}`, error ?? null);
    throw new Abort(`${method} ${path}`);
  }
  return data;
}

function decodePayload(jwt) {
  const part = String(jwt).split('.')[1] ?? '';
  return JSON.parse(Buffer.from(part.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
}

const scopeSet = (value) => (typeof value === 'string' && value !== '' ? value.split(' ').sort() : []);

/** A client_credentials token for the new app, with plain fetch (client_secret_basic). */
async function token(appId, appSecret, resource, scope) {
  const form = new URLSearchParams({ grant_type: 'client_credentials', resource });
  if (scope !== undefined) form.set('scope', scope);
  const resp = await fetch(`${baseUrl}/oidc/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(appId)}:${encodeURIComponent(appSecret)}`).toString('base64')}`,
    },
    body: form.toString(),
  });
  const text = await resp.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  const out = { requestedScope: scope ?? null, status: resp.status };
  if (resp.ok && body && typeof body === 'object' && 'access_token' in body) {
    const payload = decodePayload(body.access_token);
    Object.assign(out, {
      tokenType: body.token_type,
      scope: body.scope ?? null,
      payload: { aud: payload.aud, sub: payload.sub, client_id: payload.client_id, scope: payload.scope ?? null },
    });
  } else {
    out.body = body;
  }
  return out;
}

const { apiClient, clientCredentials } = createManagementApi('default', {
  clientId,
  clientSecret,
  baseUrl,
  apiIndicator,
});

const suffix = randomUUID().slice(0, 8);
const created = {};
const scopeNames = [`read:things-${suffix}`, `write:things-${suffix}`];

try {
  // --- the resource and its scopes
  const resource = await call(
    'POST',
    '/api/resources',
    { body: { name: `e2e logto client ${suffix}`, indicator: `https://e2e-${suffix}.gatehouse.test/api` } },
    201,
  );
  created.resourceId = resource.id;
  if (resource.indicator !== `https://e2e-${suffix}.gatehouse.test/api`) mismatch('resource indicator', resource);
  if (resource.isDefault !== false) mismatch('resource isDefault', resource);

  const scopes = [];
  for (const name of scopeNames) {
    const scope = await call(
      'POST',
      '/api/resources/{resourceId}/scopes',
      { params: { path: { resourceId: resource.id } }, body: { name, description: `${name} for the e2e flow` } },
      201,
    );
    if (scope.resourceId !== resource.id || scope.name !== name) mismatch('created scope', scope);
    scopes.push(scope);
  }

  // --- a machine-to-machine role holding both scopes
  const role = await call(
    'POST',
    '/api/roles',
    {
      body: {
        name: `e2e-m2m-${suffix}`,
        description: 'made by @logto/api in the e2e flow',
        type: 'MachineToMachine',
        scopeIds: scopes.map((s) => s.id),
      },
    },
    200,
  );
  created.roleId = role.id;
  if (role.type !== 'MachineToMachine') mismatch('role type', role);

  const roleScopes = await call('GET', '/api/roles/{id}/scopes', { params: { path: { id: role.id } } }, 200);
  const roleScopeNames = (roleScopes ?? []).map((s) => s.name).sort();
  if (JSON.stringify(roleScopeNames) !== JSON.stringify([...scopeNames].sort())) {
    mismatch('role scopes', roleScopeNames);
  }

  // --- a machine-to-machine app, given the role
  const app = await call(
    'POST',
    '/api/applications',
    { body: { name: `e2e m2m ${suffix}`, type: 'MachineToMachine', description: 'made by @logto/api' } },
    200,
  );
  created.applicationId = app.id;
  if (app.type !== 'MachineToMachine') mismatch('application type', app);

  await call(
    'POST',
    '/api/roles/{id}/applications',
    { params: { path: { id: role.id } }, body: { applicationIds: [app.id] } },
    201,
  );

  const appRoles = await call(
    'GET',
    '/api/applications/{applicationId}/roles',
    { params: { path: { applicationId: app.id } } },
    200,
  );
  if (!(appRoles ?? []).some((r) => r.id === role.id)) mismatch('application roles after assigning', appRoles);

  const secrets = await call('GET', '/api/applications/{id}/secrets', { params: { path: { id: app.id } } }, 200);
  const secret = Array.isArray(secrets) ? secrets.find((s) => typeof s?.value === 'string' && s.value) : undefined;
  summary.secrets = Array.isArray(secrets)
    ? secrets.map((s) => ({ name: s?.name, hasValue: Boolean(s?.value), keys: Object.keys(s ?? {}).sort() }))
    : secrets;
  if (!secret) {
    mismatch('no application secret with a value', summary.secrets);
    throw new Abort('no secret');
  }

  // --- tokens for the new app while it holds the role
  const wanted = scopeNames.join(' ');
  summary.tokenWithRole = await token(app.id, secret.value, resource.indicator, wanted);
  summary.tokenWithRoleNoScope = await token(app.id, secret.value, resource.indicator);
  for (const [label, t] of [
    ['tokenWithRole', summary.tokenWithRole],
    ['tokenWithRoleNoScope', summary.tokenWithRoleNoScope],
  ]) {
    if (t.status !== 200) {
      mismatch(`${label}: status ${t.status}`, t.body);
      continue;
    }
    const expectedScopes = JSON.stringify([...scopeNames].sort());
    if (JSON.stringify(scopeSet(t.payload.scope)) !== expectedScopes) mismatch(`${label}: payload scope`, t.payload);
    if (JSON.stringify(scopeSet(t.scope)) !== expectedScopes) mismatch(`${label}: response scope`, t.scope);
    if (t.payload.aud !== resource.indicator) mismatch(`${label}: aud`, t.payload);
    if (t.payload.sub !== app.id) mismatch(`${label}: sub`, t.payload);
  }

  // --- take the role away again: the scopes go with it
  await call(
    'DELETE',
    '/api/applications/{applicationId}/roles/{roleId}',
    { params: { path: { applicationId: app.id, roleId: role.id } } },
    204,
  );
  const rolesAfter = await call(
    'GET',
    '/api/applications/{applicationId}/roles',
    { params: { path: { applicationId: app.id } } },
    200,
  );
  if ((rolesAfter ?? []).some((r) => r.id === role.id)) mismatch('application roles after removing', rolesAfter);

  summary.tokenWithoutRole = await token(app.id, secret.value, resource.indicator, wanted);
  const denied = summary.tokenWithoutRole;
  if (denied.status !== 400 || denied.body?.error !== 'invalid_scope') {
    mismatch('tokenWithoutRole: expected 400 invalid_scope', denied);
  }
  summary.tokenWithoutRoleNoScope = await token(app.id, secret.value, resource.indicator);
  const empty = summary.tokenWithoutRoleNoScope;
  if (empty.status !== 200) {
    mismatch(`tokenWithoutRoleNoScope: status ${empty.status}`, empty.body);
  } else {
    if (scopeSet(empty.payload.scope).length !== 0) mismatch('tokenWithoutRoleNoScope: payload scope', empty.payload);
    if (scopeSet(empty.scope).length !== 0) mismatch('tokenWithoutRoleNoScope: response scope', empty.scope);
  }
} catch (err) {
  if (!(err instanceof Abort)) mismatch('unexpected error', `${err?.name}: ${err?.message}\n${err?.stack}`);
} finally {
  // --- clean up what the flow made (through the client as well)
  const cleanup = [
    ['applicationId', '/api/applications/{id}'],
    ['roleId', '/api/roles/{id}'],
    ['resourceId', '/api/resources/{id}'],
  ];
  for (const [key, path] of cleanup) {
    if (!created[key]) continue;
    try {
      await call('DELETE', path, { params: { path: { id: created[key] } } }, 204);
    } catch (err) {
      if (!(err instanceof Abort)) mismatch(`cleanup ${path}`, String(err));
    }
  }
  try {
    const { scope } = await clientCredentials.getAccessToken();
    summary.client.managementTokenScope = scope ?? null;
  } catch (err) {
    mismatch('management token', String(err));
  }
}

summary.created = created;
summary.scopeNames = scopeNames;
summary.ok = summary.mismatches.length === 0;
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
process.exit(summary.ok ? 0 : 1);
