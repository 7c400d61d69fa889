// OAuth 2.0 / OpenID Connect provider for end-to-end tests: reads its options as JSON from
// OAUTH_HARNESS_OPTIONS, listens on 127.0.0.1 on a port the OS picks and prints one JSON line
// on stdout once it listens. README.md in this folder lists the options and the endpoints.
//
// The npm package oauth2-mock-server signs the JWTs, serves the JWKS and builds the
// authorization redirects and token responses. It accepts any code, client and refresh token,
// so the plain `http` server in this file checks each request first (client credentials,
// PKCE, single-use codes, refresh token rotation, revocation) and then hands it to the
// library. The library's events fill in the claims and response fields from that state.
import http from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { OAuth2Issuer, OAuth2Service } from 'oauth2-mock-server';
import { exitWithError, parseOptions, validateControlRequest } from './options.mjs';
import { OAuthError, ProviderState, splitScope } from './provider-state.mjs';

const MAX_BODY_BYTES = 64 * 1024;

// RFC 7636 section 4.2: an S256 challenge is the unpadded base64url form of a SHA-256 digest.
const S256_CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

function log(message) {
    process.stderr.write(`oauth-harness: ${message}\n`);
}

// ---- HTTP helpers ----

function sendJson(res, status, body, headers = {}) {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
    res.end(JSON.stringify(body));
}

function sendOAuthError(req, res, error) {
    log(`${req.method} ${req.path}: ${error.status} ${error.error}: ${error.message}`);
    const headers = error.status === 401 && req.usedBasicAuth ? { 'WWW-Authenticate': 'Basic realm="oauth-harness"' } : {};
    sendJson(res, error.status, { error: error.error, error_description: error.message }, headers);
}

async function readBody(req) {
    const chunks = [];
    let size = 0;
    for await (const chunk of req) {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
            throw new OAuthError(413, 'invalid_request', `request body is larger than ${MAX_BODY_BYTES} bytes`);
        }
        chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
}

// Parses an application/x-www-form-urlencoded body. RFC 6749 section 3.2 forbids repeated parameters.
async function readForm(req) {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (contentType !== 'application/x-www-form-urlencoded') {
        throw new OAuthError(400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
    }
    const form = {};
    for (const [name, value] of new URLSearchParams(await readBody(req))) {
        if (Object.hasOwn(form, name)) {
            throw new OAuthError(400, 'invalid_request', `parameter "${name}" is repeated`);
        }
        form[name] = value;
    }
    return form;
}

// Decodes HTTP Basic client credentials. RFC 6749 section 2.3.1 form-encodes both parts before base64.
function parseBasicCredentials(header) {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
    if (!match) {
        return null;
    }
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) {
        return null;
    }
    const formDecode = text => decodeURIComponent(text.replace(/\+/g, ' '));
    try {
        return { clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) };
    } catch {
        return null;
    }
}

// ---- Provider ----

// Derives a stable `sub` claim from a mailbox.
function subjectOf(email) {
    return createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 24);
}

// Formats a SHA-256 digest of `text` as a UUID, for the Microsoft `oid` and `tid` claims.
function uuidOf(text) {
    const hex = createHash('sha256').update(text).digest('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

// Fills the claims and response fields of the library's output from the harness state
// that the request handlers attach to `req`.
function shapeLibraryOutput(options, service, state) {
    // The library emits beforeTokenSigning for the access token and then for the ID token. In
    // oauth2-mock-server 8.2.3 only the ID token payload has an `aud` claim at this point.
    service.on('beforeTokenSigning', (token, req) => {
        const { grant, scope, accessTokenExpiresAtMs } = req.harnessToken;
        const payload = token.payload;
        payload.sub = subjectOf(grant.email);
        if (!Object.hasOwn(payload, 'aud')) {
            payload.exp = Math.floor(accessTokenExpiresAtMs / 1000);
            payload.scope = scope;
            payload.client_id = options.clientId;
            // Two tokens signed in the same second would otherwise be identical.
            payload.jti = randomUUID();
            return;
        }
        Object.assign(payload, { aud: options.clientId, email: grant.email, email_verified: true });
        if (options.provider === 'google') {
            payload.azp = options.clientId;
        } else {
            Object.assign(payload, { preferred_username: grant.email, oid: uuidOf(grant.email), tid: uuidOf(options.clientId), ver: '2.0' });
        }
    });

    service.on('beforeResponse', (response, req) => {
        const { grant, scope, refreshToken, accessTokenExpiresAtMs } = req.harnessToken;
        const body = response.body;
        state.recordAccessToken(body.access_token, grant, scope, accessTokenExpiresAtMs);
        body.refresh_token = refreshToken;
        body.scope = scope;
        body.expires_in = options.accessTokenTtlSecs;
        if (options.provider === 'microsoft') {
            body.ext_expires_in = options.accessTokenTtlSecs;
        }
    });

    service.on('beforeAuthorizeRedirect', (redirect, req) => {
        const code = redirect.url.searchParams.get('code');
        state.recordCode(code, req.harnessAuthorization);
    });

    service.on('beforeUserinfo', (response, req) => {
        const { grant } = req.harnessAccessToken;
        response.body = { sub: subjectOf(grant.email), email: grant.email, email_verified: true };
    });
}

// Creates the request handler: the harness endpoints, and checks in front of the library's endpoints.
function createProvider(options, issuer, service, state) {
    // Authenticates the client with client_secret_basic or client_secret_post, but not both
    // (RFC 6749 section 2.3). With `required` false, a request without a client secret passes
    // unchecked, as the revocation endpoint of a public client needs.
    function authenticateClient(req, form, { required }) {
        const header = req.headers.authorization;
        const basic = header ? parseBasicCredentials(header) : null;
        if (header && !basic) {
            throw new OAuthError(401, 'invalid_client', 'Authorization header is not valid HTTP Basic credentials');
        }
        req.usedBasicAuth = basic !== null;
        if (basic && (form.client_secret !== undefined || (form.client_id !== undefined && form.client_id !== basic.clientId))) {
            throw new OAuthError(400, 'invalid_request', 'client credentials are in both the Authorization header and the body');
        }
        const credentials = basic ?? { clientId: form.client_id, clientSecret: form.client_secret };
        if (!required && credentials.clientSecret === undefined) {
            return;
        }
        if (credentials.clientId === undefined || credentials.clientSecret === undefined) {
            throw new OAuthError(401, 'invalid_client', 'client_id or client_secret is missing');
        }
        if (credentials.clientId !== options.clientId || credentials.clientSecret !== options.clientSecret) {
            throw new OAuthError(401, 'invalid_client', 'client_id or client_secret is wrong');
        }
    }

    function redirectWithError(res, redirectUri, { error, description, state: stateParam }) {
        const url = new URL(redirectUri);
        url.searchParams.set('error', error);
        url.searchParams.set('error_description', description);
        if (stateParam) {
            url.searchParams.set('state', stateParam);
        }
        log(`GET /authorize: redirecting with error=${error}: ${description}`);
        res.writeHead(302, { Location: url.href });
        res.end();
    }

    function handleAuthorize(req, res) {
        const query = req.query;
        if (query.client_id !== options.clientId) {
            throw new OAuthError(401, 'invalid_client', 'client_id is missing or unknown');
        }
        let redirectUrl;
        try {
            redirectUrl = new URL(query.redirect_uri ?? '');
        } catch {
            throw new OAuthError(400, 'invalid_request', 'redirect_uri is missing or not an absolute URL');
        }
        if (!['http:', 'https:'].includes(redirectUrl.protocol)) {
            throw new OAuthError(400, 'invalid_request', 'redirect_uri must be an http or https URL');
        }

        // From here on, errors go back to the client as a redirect (RFC 6749 section 4.1.2.1).
        const redirectError = (error, description) => redirectWithError(res, query.redirect_uri, { error, description, state: query.state });
        const requestedError = state.takeAuthorizeError();
        if (requestedError) {
            return redirectError(requestedError, 'error requested through /_harness/control');
        }
        if (query.response_type !== 'code') {
            return redirectError('unsupported_response_type', 'response_type must be "code"');
        }
        if (query.code_challenge === undefined) {
            return redirectError('invalid_request', 'code_challenge is missing (PKCE is required)');
        }
        if (query.code_challenge_method !== 'S256') {
            return redirectError('invalid_request', 'code_challenge_method must be S256');
        }
        if (!S256_CHALLENGE_PATTERN.test(query.code_challenge)) {
            return redirectError('invalid_request', 'code_challenge is not a base64url SHA-256 digest');
        }
        if (!query.scope || splitScope(query.scope).length === 0) {
            return redirectError('invalid_request', 'scope is missing');
        }

        req.harnessAuthorization = {
            redirectUri: query.redirect_uri,
            scope: query.scope,
            codeChallenge: query.code_challenge,
        };
        service.requestHandler(req, res);
    }

    async function handleToken(req, res) {
        const form = await readForm(req);
        state.countTokenRequest(form.grant_type);

        const delay = state.takeTokenDelay();
        if (delay > 0) {
            await sleep(delay);
        }
        const failure = state.takeTokenFailure();
        if (failure) {
            const error = failure.error ?? (failure.status >= 500 ? 'temporarily_unavailable' : 'invalid_request');
            throw new OAuthError(failure.status, error, 'failure requested through /_harness/control');
        }

        authenticateClient(req, form, { required: true });
        let grant;
        let scope;
        if (form.grant_type === 'authorization_code') {
            if (form.code === undefined) {
                throw new OAuthError(400, 'invalid_request', 'code is missing');
            }
            grant = state.redeemCode(form.code, { redirectUri: form.redirect_uri, codeVerifier: form.code_verifier });
            scope = grant.scope;
        } else if (form.grant_type === 'refresh_token') {
            if (form.refresh_token === undefined) {
                throw new OAuthError(400, 'invalid_request', 'refresh_token is missing');
            }
            ({ grant, scope } = state.findRefreshGrant(form.refresh_token, form.scope));
        } else {
            throw new OAuthError(400, 'unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
        }

        req.harnessToken = {
            grant,
            scope,
            refreshToken: state.rotateRefreshToken(grant),
            accessTokenExpiresAtMs: Date.now() + options.accessTokenTtlSecs * 1000,
        };
        // The library reads the parsed form from req.body, and its own body parser skips a
        // request whose stream has already been read. It gets only the fields that it uses,
        // because it would check a code_verifier again even on a refresh request.
        req.body = { grant_type: form.grant_type };
        if (form.grant_type === 'authorization_code') {
            Object.assign(req.body, { code: form.code, code_verifier: form.code_verifier });
        }
        service.requestHandler(req, res);
    }

    function findBearerToken(req) {
        const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
        if (!match) {
            return { error: new OAuthError(401, 'invalid_request', 'Authorization: Bearer <access token> is missing'), challenge: 'Bearer' };
        }
        const accessToken = state.findAccessToken(match[1]);
        if (!accessToken) {
            return { error: new OAuthError(401, 'invalid_token', 'access token is unknown, expired or revoked'), challenge: 'Bearer error="invalid_token"' };
        }
        return { accessToken };
    }

    function handleUserinfo(req, res) {
        const { accessToken, error, challenge } = findBearerToken(req);
        if (error) {
            log(`${req.method} ${req.path}: ${error.status} ${error.error}: ${error.message}`);
            return sendJson(res, error.status, { error: error.error, error_description: error.message }, { 'WWW-Authenticate': challenge });
        }
        req.harnessAccessToken = accessToken;
        service.requestHandler(req, res);
    }

    async function handleRevoke(req, res) {
        const form = await readForm(req);
        if (form.token === undefined) {
            throw new OAuthError(400, 'invalid_request', 'token is missing');
        }
        authenticateClient(req, form, { required: false });
        // RFC 7009 section 2.2: an unknown or already revoked token still gets 200.
        if (!state.revokeToken(form.token)) {
            log('POST /revoke: the token is unknown or already revoked');
        }
        service.requestHandler(req, res);
    }

    function handleDiscovery(req, res) {
        const base = issuer.url;
        sendJson(res, 200, {
            issuer: base,
            authorization_endpoint: `${base}/authorize`,
            token_endpoint: `${base}/token`,
            userinfo_endpoint: `${base}/userinfo`,
            revocation_endpoint: `${base}/revoke`,
            jwks_uri: `${base}/jwks`,
            response_types_supported: ['code'],
            response_modes_supported: ['query'],
            grant_types_supported: ['authorization_code', 'refresh_token'],
            code_challenge_methods_supported: ['S256'],
            token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
            revocation_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic'],
            subject_types_supported: ['public'],
            id_token_signing_alg_values_supported: ['RS256'],
            claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'nonce', 'email', 'email_verified'],
        }, { 'Cache-Control': 'max-age=0' });
    }

    async function handleControl(req, res) {
        let request;
        try {
            request = JSON.parse(await readBody(req));
        } catch (error) {
            if (error instanceof OAuthError) {
                throw error;
            }
            log(`POST /_harness/control: the request is not valid JSON: ${error.message}`);
            return sendJson(res, 400, { error: `the control request is not valid JSON: ${error.message}` });
        }
        const problem = validateControlRequest(request);
        if (problem) {
            log(`POST /_harness/control: ${problem}`);
            return sendJson(res, 400, { error: problem });
        }
        state.applyControls(request);
        sendJson(res, 200, { pending: state.controls });
    }

    function handleVerify(req, res) {
        const accessToken = req.query.token ? state.findAccessToken(req.query.token) : null;
        if (!accessToken) {
            return sendJson(res, 200, { valid: false });
        }
        sendJson(res, 200, {
            valid: true,
            email: accessToken.grant.email,
            expiresAt: Math.floor(accessToken.expiresAtMs / 1000),
            scope: accessToken.scope,
        });
    }

    const routes = {
        'GET /.well-known/openid-configuration': handleDiscovery,
        'GET /jwks': (req, res) => service.requestHandler(req, res),
        'GET /authorize': handleAuthorize,
        'POST /token': handleToken,
        'GET /userinfo': handleUserinfo,
        'POST /revoke': handleRevoke,
        'POST /_harness/control': handleControl,
        'GET /_harness/tokens/verify': handleVerify,
        'GET /_harness/stats': (req, res) => sendJson(res, 200, state.stats),
    };

    return async function handleRequest(req, res) {
        const url = new URL(req.url, issuer.url);
        req.path = url.pathname;
        req.query = Object.fromEntries(url.searchParams);
        const route = routes[`${req.method} ${url.pathname}`];
        try {
            if (!route) {
                return sendJson(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
            }
            await route(req, res);
        } catch (error) {
            if (error instanceof OAuthError) {
                return sendOAuthError(req, res, error);
            }
            log(`${req.method} ${url.pathname}: unexpected error: ${error.stack}`);
            if (!res.headersSent) {
                sendJson(res, 500, { error: 'server_error', error_description: error.message });
            }
        }
    };
}

const options = parseOptions(process.env.OAUTH_HARNESS_OPTIONS);
const issuer = new OAuth2Issuer();
await issuer.keys.generate('RS256');
const service = new OAuth2Service(issuer);
const state = new ProviderState({ defaultEmail: options.email });
shapeLibraryOutput(options, service, state);
const server = http.createServer(createProvider(options, issuer, service, state));

server.on('error', error => exitWithError(`failed to start: ${error.message}`, 1));
server.listen(0, '127.0.0.1', () => {
    const port = server.address().port;
    issuer.url = `http://127.0.0.1:${port}`;
    process.stdout.write(JSON.stringify({ event: 'listening', port, issuer: issuer.url }) + '\n');
});

for (const signal of ['SIGTERM', 'SIGINT']) {
    process.once(signal, () => {
        server.close(() => process.exit(0));
        server.closeAllConnections();
    });
}
