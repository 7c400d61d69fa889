// In-memory state of the OAuth harness: authorization codes, grants, refresh and access
// tokens, the one-shot test controls and the request counters. server.mjs owns the HTTP side.
import { createHash, randomBytes } from 'node:crypto';

// Authorization codes expire after 10 minutes, the upper limit that RFC 6749 section 4.1.2 recommends.
const CODE_LIFETIME_MS = 10 * 60 * 1000;

// Scopes that only identify the user. `dropScopes: true` keeps these and drops every other scope,
// as when a user unticks the mail permission on a consent screen.
const IDENTITY_SCOPES = new Set([
    'openid',
    'email',
    'profile',
    'offline_access',
    'https://www.googleapis.com/auth/userinfo.email',
    'https://www.googleapis.com/auth/userinfo.profile',
]);

// RFC 7636 section 4.1: 43 to 128 characters from the unreserved set.
const CODE_VERIFIER_PATTERN = /^[A-Za-z0-9\-._~]{43,128}$/;

/** Error that the HTTP layer sends as an OAuth error response (RFC 6749 section 5.2). */
export class OAuthError extends Error {
    constructor(status, error, description) {
        super(description);
        this.status = status;
        this.error = error;
    }
}

function invalidGrant(description) {
    return new OAuthError(400, 'invalid_grant', description);
}

function newToken(prefix) {
    return `${prefix}.${randomBytes(24).toString('base64url')}`;
}

/** Computes the S256 code challenge of a PKCE code verifier (RFC 7636 section 4.2). */
export function s256Challenge(verifier) {
    return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** Splits a space-separated scope string into its distinct scopes, keeping their order. */
export function splitScope(scope) {
    return [...new Set(scope.split(' ').filter(Boolean))];
}

export class ProviderState {
    #codes = new Map();
    #grants = new Map();
    #refreshTokens = new Map();
    #accessTokens = new Map();
    #nextGrantId = 1;

    #controls = {
        failNextToken: null,
        delayNextTokenMs: 0,
        nextEmail: null,
        authorizeError: null,
        dropScopes: false,
    };

    #stats = {
        tokenRequests: { authorization_code: 0, refresh_token: 0 },
        revocations: 0,
    };

    constructor({ defaultEmail }) {
        this.defaultEmail = defaultEmail;
    }

    // ---- Test controls ----

    get controls() {
        return structuredClone(this.#controls);
    }

    get stats() {
        return structuredClone(this.#stats);
    }

    /** Applies a validated control request. `revokeAll` and `expireAccessTokens` act at once. */
    applyControls(request) {
        if (request.revokeAll) {
            for (const grant of this.#grants.values()) {
                this.#revokeGrant(grant);
            }
        }
        if (request.expireAccessTokens) {
            const now = Date.now();
            for (const accessToken of this.#accessTokens.values()) {
                accessToken.expiresAtMs = Math.min(accessToken.expiresAtMs, now);
            }
        }
        if (request.failNextToken !== undefined) {
            this.#controls.failNextToken = request.failNextToken && { count: 1, ...request.failNextToken };
        }
        for (const name of ['delayNextTokenMs', 'nextEmail', 'authorizeError', 'dropScopes']) {
            if (request[name] !== undefined) {
                this.#controls[name] = request[name];
            }
        }
    }

    /** Returns and clears the delay for the next token request, in milliseconds. */
    takeTokenDelay() {
        const delay = this.#controls.delayNextTokenMs;
        this.#controls.delayNextTokenMs = 0;
        return delay;
    }

    /** Returns the failure to send for this token request, or null, and counts it down. */
    takeTokenFailure() {
        const failure = this.#controls.failNextToken;
        if (!failure) {
            return null;
        }
        failure.count -= 1;
        if (failure.count <= 0) {
            this.#controls.failNextToken = null;
        }
        return failure;
    }

    /** Returns and clears the error that the next authorization request redirects with. */
    takeAuthorizeError() {
        const error = this.#controls.authorizeError;
        this.#controls.authorizeError = null;
        return error;
    }

    countTokenRequest(grantType) {
        if (Object.hasOwn(this.#stats.tokenRequests, grantType)) {
            this.#stats.tokenRequests[grantType] += 1;
        }
    }

    // ---- Authorization codes ----

    /** Stores a code that the authorization endpoint issued, with the details of its authorization request. */
    recordCode(code, { redirectUri, scope, codeChallenge }) {
        this.#codes.set(code, {
            redirectUri,
            scope,
            codeChallenge,
            expiresAtMs: Date.now() + CODE_LIFETIME_MS,
            used: false,
            grant: null,
        });
    }

    /**
     * Exchanges an authorization code for a new grant. The first attempt that names a known
     * code uses it up, whether or not the attempt succeeds. A second use also revokes the
     * grant issued for the code, as RFC 6749 section 4.1.2 recommends.
     */
    redeemCode(code, { redirectUri, codeVerifier }) {
        const entry = this.#codes.get(code);
        if (!entry) {
            throw invalidGrant('authorization code is unknown');
        }
        if (entry.used) {
            if (entry.grant) {
                this.#revokeGrant(entry.grant);
            }
            throw invalidGrant('authorization code was already used');
        }
        entry.used = true;

        if (Date.now() >= entry.expiresAtMs) {
            throw invalidGrant('authorization code has expired');
        }
        if (entry.redirectUri !== redirectUri) {
            throw invalidGrant('redirect_uri does not match the one of the authorization request');
        }
        if (codeVerifier === undefined) {
            throw new OAuthError(400, 'invalid_request', 'code_verifier is missing');
        }
        if (!CODE_VERIFIER_PATTERN.test(codeVerifier)) {
            throw invalidGrant('code_verifier is not 43 to 128 unreserved characters');
        }
        if (s256Challenge(codeVerifier) !== entry.codeChallenge) {
            throw invalidGrant('code_verifier does not match the code_challenge');
        }

        const email = this.#controls.nextEmail ?? this.defaultEmail;
        this.#controls.nextEmail = null;
        entry.grant = this.#createGrant({ email, scope: this.#grantedScope(entry.scope) });
        return entry.grant;
    }

    #grantedScope(requestedScope) {
        const dropScopes = this.#controls.dropScopes;
        const scopes = splitScope(requestedScope);
        if (dropScopes === true) {
            return scopes.filter(scope => IDENTITY_SCOPES.has(scope)).join(' ');
        }
        if (Array.isArray(dropScopes)) {
            return scopes.filter(scope => !dropScopes.includes(scope)).join(' ');
        }
        return requestedScope;
    }

    // ---- Grants and tokens ----

    #createGrant({ email, scope }) {
        const grant = { id: this.#nextGrantId++, email, scope, refreshToken: null, accessTokens: new Set(), revoked: false };
        this.#grants.set(grant.id, grant);
        return grant;
    }

    #revokeGrant(grant) {
        grant.revoked = true;
        this.#refreshTokens.delete(grant.refreshToken);
        for (const accessToken of grant.accessTokens) {
            this.#accessTokens.delete(accessToken);
        }
        grant.accessTokens.clear();
    }

    /**
     * Finds the grant of a refresh token for a refresh request and returns it with the scope
     * of the new access token. A requested scope must be a subset of the granted one.
     */
    findRefreshGrant(refreshToken, requestedScope) {
        const grant = this.#grants.get(this.#refreshTokens.get(refreshToken));
        if (!grant || grant.revoked) {
            throw invalidGrant('refresh token is unknown, rotated or revoked');
        }
        if (requestedScope === undefined) {
            return { grant, scope: grant.scope };
        }
        const granted = new Set(splitScope(grant.scope));
        if (!splitScope(requestedScope).every(scope => granted.has(scope))) {
            throw new OAuthError(400, 'invalid_scope', 'requested scope exceeds the scope of the grant');
        }
        return { grant, scope: requestedScope };
    }

    /** Issues a new refresh token for a grant. The previous one stops working (rotation). */
    rotateRefreshToken(grant) {
        this.#refreshTokens.delete(grant.refreshToken);
        grant.refreshToken = newToken('rt');
        this.#refreshTokens.set(grant.refreshToken, grant.id);
        return grant.refreshToken;
    }

    recordAccessToken(token, grant, scope, expiresAtMs) {
        grant.accessTokens.add(token);
        this.#accessTokens.set(token, { grant, scope, expiresAtMs });
    }

    /** Returns the grant and scope of a valid access token, or null for an unknown, expired or revoked one. */
    findAccessToken(token) {
        const accessToken = this.#accessTokens.get(token);
        if (!accessToken || accessToken.grant.revoked || Date.now() >= accessToken.expiresAtMs) {
            return null;
        }
        return accessToken;
    }

    /**
     * Revokes the grant of a refresh or access token, so its refresh token and all its access
     * tokens stop working. Returns false for a token that this harness never issued or that
     * was already revoked.
     */
    revokeToken(token) {
        const grantId = this.#refreshTokens.get(token) ?? this.#accessTokens.get(token)?.grant.id;
        const grant = this.#grants.get(grantId);
        if (!grant) {
            return false;
        }
        this.#revokeGrant(grant);
        this.#stats.revocations += 1;
        return true;
    }
}
