// Self-test of server.mjs: starts it with different options and runs OAuth flows against it
// with fetch. Run with `node --test selftest.mjs` (or `npm run selftest`).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';

const SERVER_PATH = new URL('./server.mjs', import.meta.url).pathname;
const TIMEOUT_MS = 5000;
const CLIENT = { clientId: 'relais-test-client', clientSecret: 'relais-test-secret' };
const GOOGLE_OPTIONS = { provider: 'google', ...CLIENT, email: 'mailbox@example.com', accessTokenTtlSecs: 3600 };
const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';
const MAIL_SCOPE = 'openid email https://mail.google.com/';

// Starts server.mjs and resolves once it prints its listening line.
async function startHarness(options) {
    const child = spawn(process.execPath, [SERVER_PATH], {
        env: { ...process.env, OAUTH_HARNESS_OPTIONS: JSON.stringify(options) },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', chunk => (stderr += chunk));
    const exited = new Promise(resolve => child.once('exit', code => resolve(code)));
    const stdoutLines = [];
    const lines = readline.createInterface({ input: child.stdout });
    const firstLine = new Promise(resolve => lines.once('line', resolve));
    lines.on('line', line => stdoutLines.push(line));

    let timer;
    const timeout = new Promise((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`harness did not listen within ${TIMEOUT_MS} ms; stderr: ${stderr}`)), TIMEOUT_MS);
    });
    const exitedEarly = exited.then(code => {
        throw new Error(`harness exited with code ${code} before listening; stderr: ${stderr}`);
    });
    const line = await Promise.race([firstLine, exitedEarly, timeout]).finally(() => clearTimeout(timer));
    const listening = JSON.parse(line);

    return {
        listening,
        base: listening.issuer,
        stdoutLines,
        stderr: () => stderr,
        async stop() {
            child.kill('SIGTERM');
            return exited;
        },
    };
}

// Runs a test body against a fresh harness and stops it afterwards, also when the body fails.
async function withHarness(options, body) {
    const harness = await startHarness(options);
    try {
        await body(harness);
    } finally {
        assert.equal(await harness.stop(), 0, 'the harness did not exit with code 0');
    }
}

function newPkce() {
    const verifier = crypto.randomBytes(32).toString('base64url');
    const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
    return { verifier, challenge };
}

// Sends an authorization request and returns the parameters of the redirect.
async function authorize(harness, overrides = {}) {
    const pkce = newPkce();
    const params = {
        response_type: 'code',
        client_id: CLIENT.clientId,
        redirect_uri: REDIRECT_URI,
        scope: MAIL_SCOPE,
        state: 'state-123',
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
        ...overrides,
    };
    for (const [name, value] of Object.entries(params)) {
        if (value === undefined) {
            delete params[name];
        }
    }
    const response = await fetch(`${harness.base}/authorize?${new URLSearchParams(params)}`, { redirect: 'manual' });
    const location = response.headers.get('location');
    const redirect = location ? new URL(location) : null;
    return {
        status: response.status,
        redirect,
        query: redirect ? Object.fromEntries(redirect.searchParams) : null,
        verifier: pkce.verifier,
        response,
    };
}

async function postForm(harness, path, form, headers = {}) {
    const response = await fetch(`${harness.base}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(form),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

function tokenRequest(harness, form, { basic = false } = {}) {
    if (!basic) {
        return postForm(harness, '/token', { client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, ...form });
    }
    const credentials = Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64');
    return postForm(harness, '/token', form, { Authorization: `Basic ${credentials}` });
}

// Runs the authorization code flow and returns the token response body.
async function signIn(harness, overrides = {}) {
    const authorization = await authorize(harness, overrides);
    assert.equal(authorization.status, 302);
    assert.ok(authorization.query.code, `no code in ${authorization.redirect}`);
    const response = await tokenRequest(harness, {
        grant_type: 'authorization_code',
        code: authorization.query.code,
        redirect_uri: REDIRECT_URI,
        code_verifier: authorization.verifier,
    });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body;
}

function refresh(harness, refreshToken) {
    return tokenRequest(harness, { grant_type: 'refresh_token', refresh_token: refreshToken });
}

async function getJson(harness, path, headers = {}) {
    const response = await fetch(`${harness.base}${path}`, { headers });
    return { status: response.status, headers: response.headers, body: await response.json() };
}

async function verifyToken(harness, token) {
    return (await getJson(harness, `/_harness/tokens/verify?token=${encodeURIComponent(token)}`)).body;
}

async function control(harness, request) {
    const response = await fetch(`${harness.base}/_harness/control`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(request),
    });
    return { status: response.status, body: await response.json() };
}

// Checks the JWT signature against the harness's JWKS and returns the payload.
async function verifiedJwtPayload(harness, jwt) {
    const [header, payload, signature] = jwt.split('.');
    const { kid, alg } = JSON.parse(Buffer.from(header, 'base64url'));
    assert.equal(alg, 'RS256');
    const jwks = (await getJson(harness, '/jwks')).body;
    const jwk = jwks.keys.find(key => key.kid === kid);
    assert.ok(jwk, `kid ${kid} is not in the JWKS`);
    const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
    const signed = crypto.verify('sha256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, 'base64url'));
    assert.ok(signed, 'JWT signature does not verify');
    return JSON.parse(Buffer.from(payload, 'base64url'));
}

describe('start-up', () => {
    test('prints port and issuer', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const { listening } = harness;
            assert.equal(listening.event, 'listening');
            assert.ok(Number.isInteger(listening.port), `port is not an integer: ${listening.port}`);
            assert.ok(listening.port > 0, `port is not positive: ${listening.port}`);
            assert.equal(listening.issuer, `http://127.0.0.1:${listening.port}`);
            assert.deepEqual(Object.keys(listening).sort(), ['event', 'issuer', 'port']);
        });
    });

    test('unknown option exits 2', async () => {
        await assert.rejects(startHarness({ ...GOOGLE_OPTIONS, clientID: 'typo' }), /code 2 .*unknown option "clientID"/);
    });

    test('missing provider exits 2', async () => {
        const { provider, ...withoutProvider } = GOOGLE_OPTIONS;
        assert.equal(provider, 'google');
        await assert.rejects(startHarness(withoutProvider), /code 2 .*"provider"/);
    });

    test('discovery lists endpoints', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const { body } = await getJson(harness, '/.well-known/openid-configuration');
            assert.equal(body.issuer, harness.base);
            assert.equal(body.authorization_endpoint, `${harness.base}/authorize`);
            assert.equal(body.token_endpoint, `${harness.base}/token`);
            assert.equal(body.userinfo_endpoint, `${harness.base}/userinfo`);
            assert.equal(body.revocation_endpoint, `${harness.base}/revoke`);
            assert.equal(body.jwks_uri, `${harness.base}/jwks`);
            assert.deepEqual(body.code_challenge_methods_supported, ['S256']);
        });
    });
});

describe('authorize', () => {
    test('redirects with code and state', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const { status, redirect, query } = await authorize(harness);
            assert.equal(status, 302);
            assert.equal(`${redirect.origin}${redirect.pathname}`, REDIRECT_URI);
            assert.ok(query.code);
            assert.equal(query.state, 'state-123');
            assert.equal(query.error, undefined);
        });
    });

    test('missing PKCE is invalid_request', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const { status, query } = await authorize(harness, { code_challenge: undefined, code_challenge_method: undefined });
            assert.equal(status, 302);
            assert.equal(query.error, 'invalid_request');
            assert.equal(query.code, undefined);
            assert.equal(query.state, 'state-123');
        });
    });

    test('plain PKCE is invalid_request', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const verifier = newPkce().verifier;
            const { query } = await authorize(harness, { code_challenge: verifier, code_challenge_method: 'plain' });
            assert.equal(query.error, 'invalid_request');
            assert.equal(query.code, undefined);
        });
    });

    test('unknown client is not redirected', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const { status, redirect, response } = await authorize(harness, { client_id: 'someone-else' });
            assert.equal(status, 401);
            assert.equal(redirect, null);
            assert.equal((await response.json()).error, 'invalid_client');
        });
    });

    test('authorizeError applies once', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            assert.equal((await control(harness, { authorizeError: 'access_denied' })).status, 200);
            const denied = await authorize(harness);
            assert.equal(denied.query.error, 'access_denied');
            assert.equal(denied.query.state, 'state-123');
            assert.equal(denied.query.code, undefined);
            const next = await authorize(harness);
            assert.ok(next.query.code, 'the second authorization request also failed');
        });
    });
});

describe('authorization code exchange', () => {
    test('returns tokens and signed id_token', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const tokens = await signIn(harness, { nonce: 'nonce-1' });
            assert.equal(tokens.token_type, 'Bearer');
            assert.equal(tokens.expires_in, 3600);
            assert.equal(tokens.scope, MAIL_SCOPE);
            assert.ok(tokens.access_token);
            assert.ok(tokens.refresh_token);
            const idToken = await verifiedJwtPayload(harness, tokens.id_token);
            assert.equal(idToken.iss, harness.base);
            assert.equal(idToken.aud, CLIENT.clientId);
            assert.equal(idToken.email, 'mailbox@example.com');
            assert.equal(idToken.email_verified, true);
            assert.equal(idToken.nonce, 'nonce-1');
        });
    });

    test('client_secret_basic is accepted', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const { query, verifier } = await authorize(harness);
            const form = { grant_type: 'authorization_code', code: query.code, redirect_uri: REDIRECT_URI, code_verifier: verifier };
            const response = await tokenRequest(harness, form, { basic: true });
            assert.equal(response.status, 200, JSON.stringify(response.body));
            assert.ok(response.body.access_token);
        });
    });

    test('wrong client secret is 401', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const { query, verifier } = await authorize(harness);
            const form = { grant_type: 'authorization_code', code: query.code, redirect_uri: REDIRECT_URI, code_verifier: verifier };
            const posted = await tokenRequest(harness, { ...form, client_secret: 'wrong' });
            assert.equal(posted.status, 401);
            assert.equal(posted.body.error, 'invalid_client');
            const basic = Buffer.from(`${CLIENT.clientId}:wrong`).toString('base64');
            const viaHeader = await postForm(harness, '/token', form, { Authorization: `Basic ${basic}` });
            assert.equal(viaHeader.status, 401);
            assert.equal(viaHeader.body.error, 'invalid_client');
            assert.match(viaHeader.headers.get('www-authenticate'), /^Basic /);
        });
    });

    test('two client auth methods rejected', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const { query, verifier } = await authorize(harness);
            const basic = Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64');
            const response = await postForm(
                harness,
                '/token',
                { grant_type: 'authorization_code', code: query.code, redirect_uri: REDIRECT_URI, code_verifier: verifier, client_secret: CLIENT.clientSecret },
                { Authorization: `Basic ${basic}` },
            );
            assert.equal(response.status, 400);
            assert.equal(response.body.error, 'invalid_request');
        });
    });

    test('wrong code_verifier is invalid_grant', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const { query } = await authorize(harness);
            const response = await tokenRequest(harness, {
                grant_type: 'authorization_code',
                code: query.code,
                redirect_uri: REDIRECT_URI,
                code_verifier: newPkce().verifier,
            });
            assert.equal(response.status, 400);
            assert.equal(response.body.error, 'invalid_grant');
        });
    });

    test('missing code_verifier is rejected', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const { query } = await authorize(harness);
            const response = await tokenRequest(harness, { grant_type: 'authorization_code', code: query.code, redirect_uri: REDIRECT_URI });
            assert.equal(response.status, 400);
            assert.equal(response.body.error, 'invalid_request');
        });
    });

    test('other redirect_uri is invalid_grant', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const { query, verifier } = await authorize(harness);
            const response = await tokenRequest(harness, {
                grant_type: 'authorization_code',
                code: query.code,
                redirect_uri: 'http://127.0.0.1:9/other',
                code_verifier: verifier,
            });
            assert.equal(response.status, 400);
            assert.equal(response.body.error, 'invalid_grant');
        });
    });

    test('second use of code fails', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const { query, verifier } = await authorize(harness);
            const form = { grant_type: 'authorization_code', code: query.code, redirect_uri: REDIRECT_URI, code_verifier: verifier };
            const first = await tokenRequest(harness, form);
            assert.equal(first.status, 200);
            const second = await tokenRequest(harness, form);
            assert.equal(second.status, 400);
            assert.equal(second.body.error, 'invalid_grant');
            // RFC 6749 section 4.1.2: the tokens issued for a reused code are revoked.
            assert.deepEqual(await verifyToken(harness, first.body.access_token), { valid: false });
        });
    });
});

describe('refresh', () => {
    test('rotates the refresh token', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const tokens = await signIn(harness);
            const refreshed = await refresh(harness, tokens.refresh_token);
            assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
            assert.notEqual(refreshed.body.access_token, tokens.access_token);
            assert.notEqual(refreshed.body.refresh_token, tokens.refresh_token);
            assert.equal(refreshed.body.scope, MAIL_SCOPE);
            assert.equal(refreshed.body.expires_in, 3600);

            const reused = await refresh(harness, tokens.refresh_token);
            assert.equal(reused.status, 400);
            assert.equal(reused.body.error, 'invalid_grant');
            const next = await refresh(harness, refreshed.body.refresh_token);
            assert.equal(next.status, 200, JSON.stringify(next.body));
        });
    });

    test('ignores stray code parameters', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const tokens = await signIn(harness);
            const refreshed = await tokenRequest(harness, {
                grant_type: 'refresh_token',
                refresh_token: tokens.refresh_token,
                code: 'not-a-code',
                code_verifier: newPkce().verifier,
            });
            assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
        });
    });

    test('scope must stay within grant', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const tokens = await signIn(harness);
            const narrower = await tokenRequest(harness, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, scope: 'https://mail.google.com/' });
            assert.equal(narrower.status, 200, JSON.stringify(narrower.body));
            assert.equal(narrower.body.scope, 'https://mail.google.com/');
            const wider = await tokenRequest(harness, { grant_type: 'refresh_token', refresh_token: narrower.body.refresh_token, scope: 'openid profile' });
            assert.equal(wider.status, 400);
            assert.equal(wider.body.error, 'invalid_scope');
        });
    });

    test('unknown refresh token fails', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const response = await refresh(harness, 'rt.never-issued');
            assert.equal(response.status, 400);
            assert.deepEqual(Object.keys(response.body).sort(), ['error', 'error_description']);
            assert.equal(response.body.error, 'invalid_grant');
        });
    });
});

describe('access tokens', () => {
    test('verify reports email and expiry', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const before = Math.floor(Date.now() / 1000);
            const tokens = await signIn(harness);
            const verified = await verifyToken(harness, tokens.access_token);
            assert.equal(verified.valid, true);
            assert.equal(verified.email, 'mailbox@example.com');
            assert.equal(verified.scope, MAIL_SCOPE);
            assert.ok(verified.expiresAt >= before + 3600 - 1, `expiresAt ${verified.expiresAt}`);
            assert.ok(verified.expiresAt <= Math.floor(Date.now() / 1000) + 3600, `expiresAt ${verified.expiresAt}`);
            assert.deepEqual(await verifyToken(harness, 'never-issued'), { valid: false });
        });
    });

    test('token expires after TTL', async () => {
        await withHarness({ ...GOOGLE_OPTIONS, accessTokenTtlSecs: 1 }, async harness => {
            const tokens = await signIn(harness);
            assert.equal(tokens.expires_in, 1);
            assert.equal((await verifyToken(harness, tokens.access_token)).valid, true);
            await sleep(1100);
            assert.deepEqual(await verifyToken(harness, tokens.access_token), { valid: false });
            // The refresh token outlives the access token.
            assert.equal((await refresh(harness, tokens.refresh_token)).status, 200);
        });
    });

    test('expireAccessTokens keeps refresh', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const tokens = await signIn(harness);
            assert.equal((await control(harness, { expireAccessTokens: true })).status, 200);
            assert.deepEqual(await verifyToken(harness, tokens.access_token), { valid: false });
            const refreshed = await refresh(harness, tokens.refresh_token);
            assert.equal(refreshed.status, 200);
            assert.equal((await verifyToken(harness, refreshed.body.access_token)).valid, true);
        });
    });

    test('userinfo needs a valid token', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const tokens = await signIn(harness);
            const ok = await getJson(harness, '/userinfo', { Authorization: `Bearer ${tokens.access_token}` });
            assert.equal(ok.status, 200);
            assert.equal(ok.body.email, 'mailbox@example.com');
            assert.equal(ok.body.email_verified, true);
            const missing = await getJson(harness, '/userinfo');
            assert.equal(missing.status, 401);
            assert.match(missing.headers.get('www-authenticate'), /^Bearer/);
            const unknown = await getJson(harness, '/userinfo', { Authorization: 'Bearer never-issued' });
            assert.equal(unknown.status, 401);
            assert.equal(unknown.body.error, 'invalid_token');
        });
    });
});

describe('revocation', () => {
    test('revoke invalidates the grant', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const tokens = await signIn(harness);
            const response = await postForm(harness, '/revoke', { token: tokens.refresh_token });
            assert.equal(response.status, 200);
            assert.deepEqual(await verifyToken(harness, tokens.access_token), { valid: false });
            const refreshed = await refresh(harness, tokens.refresh_token);
            assert.equal(refreshed.status, 400);
            assert.equal(refreshed.body.error, 'invalid_grant');
            // Revoking again and revoking an unknown token both get 200 (RFC 7009) but are not counted.
            assert.equal((await postForm(harness, '/revoke', { token: tokens.refresh_token })).status, 200);
            assert.equal((await postForm(harness, '/revoke', { token: 'never-issued' })).status, 200);
            assert.equal((await getJson(harness, '/_harness/stats')).body.revocations, 1);
        });
    });

    test('revokeAll invalidates every grant', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const first = await signIn(harness);
            const second = await signIn(harness);
            assert.equal((await control(harness, { revokeAll: true })).status, 200);
            for (const tokens of [first, second]) {
                assert.deepEqual(await verifyToken(harness, tokens.access_token), { valid: false });
                const refreshed = await refresh(harness, tokens.refresh_token);
                assert.equal(refreshed.status, 400);
                assert.equal(refreshed.body.error, 'invalid_grant');
            }
            // A new sign-in works again.
            await signIn(harness);
        });
    });
});

describe('controls', () => {
    test('failNextToken fails one request', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const tokens = await signIn(harness);
            assert.equal((await control(harness, { failNextToken: { status: 503 } })).status, 200);
            const failed = await refresh(harness, tokens.refresh_token);
            assert.equal(failed.status, 503);
            assert.equal(failed.body.error, 'temporarily_unavailable');
            // The failed request did not rotate the refresh token.
            const retried = await refresh(harness, tokens.refresh_token);
            assert.equal(retried.status, 200, JSON.stringify(retried.body));
        });
    });

    test('failNextToken count and error', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const tokens = await signIn(harness);
            await control(harness, { failNextToken: { status: 400, error: 'invalid_grant', count: 2 } });
            for (let attempt = 1; attempt <= 2; attempt++) {
                const failed = await refresh(harness, tokens.refresh_token);
                assert.equal(failed.status, 400, `attempt ${attempt}`);
                assert.equal(failed.body.error, 'invalid_grant', `attempt ${attempt}`);
            }
            assert.equal((await refresh(harness, tokens.refresh_token)).status, 200);
        });
    });

    test('delayNextTokenMs delays one request', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const tokens = await signIn(harness);
            await control(harness, { delayNextTokenMs: 600 });
            let started = Date.now();
            assert.equal((await refresh(harness, tokens.refresh_token)).status, 200);
            assert.ok(Date.now() - started >= 600, `answered after ${Date.now() - started} ms`);
            started = Date.now();
            await signIn(harness);
            assert.ok(Date.now() - started < 600, `the delay applied twice (${Date.now() - started} ms)`);
        });
    });

    test('nextEmail changes one grant', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            await control(harness, { nextEmail: 'other@example.com' });
            const other = await signIn(harness);
            assert.equal((await verifiedJwtPayload(harness, other.id_token)).email, 'other@example.com');
            assert.equal((await verifyToken(harness, other.access_token)).email, 'other@example.com');
            const userinfo = await getJson(harness, '/userinfo', { Authorization: `Bearer ${other.access_token}` });
            assert.equal(userinfo.body.email, 'other@example.com');
            // The refresh of that grant keeps its mailbox, and the next grant gets the default again.
            const refreshed = await refresh(harness, other.refresh_token);
            assert.equal((await verifiedJwtPayload(harness, refreshed.body.id_token)).email, 'other@example.com');
            const usual = await signIn(harness);
            assert.equal((await verifiedJwtPayload(harness, usual.id_token)).email, 'mailbox@example.com');
        });
    });

    test('dropScopes keeps identity scopes', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            await control(harness, { dropScopes: true });
            const dropped = await signIn(harness);
            assert.equal(dropped.scope, 'openid email');
            assert.equal((await verifyToken(harness, dropped.access_token)).scope, 'openid email');
            await control(harness, { dropScopes: ['email'] });
            assert.equal((await signIn(harness)).scope, 'openid https://mail.google.com/');
            await control(harness, { dropScopes: false });
            assert.equal((await signIn(harness)).scope, MAIL_SCOPE);
        });
    });

    test('invalid control is 400', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const unknown = await control(harness, { revokeEverything: true });
            assert.equal(unknown.status, 400);
            assert.match(unknown.body.error, /unknown control "revokeEverything"/);
            const badStatus = await control(harness, { failNextToken: { status: 200 } });
            assert.equal(badStatus.status, 400);
        });
    });

    test('stats count token requests', async () => {
        await withHarness(GOOGLE_OPTIONS, async harness => {
            const tokens = await signIn(harness);
            await refresh(harness, tokens.refresh_token);
            await refresh(harness, tokens.refresh_token);
            await postForm(harness, '/revoke', { token: tokens.access_token });
            const { body } = await getJson(harness, '/_harness/stats');
            assert.deepEqual(body, { tokenRequests: { authorization_code: 1, refresh_token: 2 }, revocations: 1 });
        });
    });
});

describe('microsoft provider', () => {
    test('adds Microsoft claims and fields', async () => {
        const scope = 'openid email offline_access https://outlook.office.com/SMTP.Send';
        await withHarness({ ...GOOGLE_OPTIONS, provider: 'microsoft' }, async harness => {
            const tokens = await signIn(harness, { scope });
            assert.equal(tokens.scope, scope);
            assert.equal(tokens.ext_expires_in, 3600);
            const idToken = await verifiedJwtPayload(harness, tokens.id_token);
            assert.equal(idToken.email, 'mailbox@example.com');
            assert.equal(idToken.preferred_username, 'mailbox@example.com');
            assert.equal(idToken.ver, '2.0');
        });
    });
});

test('secrets stay out of output', async () => {
    const harness = await startHarness(GOOGLE_OPTIONS);
    const tokens = await signIn(harness);
    await refresh(harness, 'rt.never-issued');
    assert.equal(await harness.stop(), 0);
    const output = harness.stdoutLines.join('\n') + harness.stderr();
    assert.equal(harness.stdoutLines.length, 1, 'stdout has more than the listening line');
    for (const secret of [CLIENT.clientSecret, tokens.access_token, tokens.refresh_token]) {
        assert.ok(!output.includes(secret), 'a secret was printed');
    }
});
