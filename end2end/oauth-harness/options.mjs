// Options of the OAuth harness (OAUTH_HARNESS_OPTIONS) and the requests that
// POST /_harness/control accepts. README.md in this folder describes both.

const PROVIDERS = ['google', 'microsoft'];
const KNOWN_OPTIONS = new Set(['provider', 'clientId', 'clientSecret', 'email', 'accessTokenTtlSecs']);
const DEFAULT_ACCESS_TOKEN_TTL_SECS = 3600;

// Error codes that `authorizeError` may set, from RFC 6749 section 4.1.2.1.
const AUTHORIZE_ERRORS = ['access_denied', 'invalid_request', 'unauthorized_client', 'unsupported_response_type', 'invalid_scope', 'server_error', 'temporarily_unavailable'];

export function exitWithError(message, exitCode = 2) {
    process.stderr.write(`oauth-harness: ${message}\n`);
    process.exit(exitCode);
}

function isPlainObject(value) {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value) {
    return typeof value === 'string' && value.length > 0;
}

export function parseOptions(text) {
    let options;
    try {
        options = JSON.parse(text || '{}');
    } catch (error) {
        exitWithError(`OAUTH_HARNESS_OPTIONS is not valid JSON: ${error.message}`);
    }
    if (!isPlainObject(options)) {
        exitWithError('OAUTH_HARNESS_OPTIONS must be a JSON object');
    }
    for (const name of Object.keys(options)) {
        if (!KNOWN_OPTIONS.has(name)) {
            exitWithError(`unknown option "${name}"`);
        }
    }
    if (!PROVIDERS.includes(options.provider)) {
        exitWithError(`invalid or missing option "provider": expected one of ${JSON.stringify(PROVIDERS)}`);
    }
    for (const name of ['clientId', 'clientSecret']) {
        if (!isNonEmptyString(options[name])) {
            exitWithError(`invalid or missing option "${name}": expected a non-empty string`);
        }
    }
    if (typeof options.email !== 'string' || !options.email.includes('@')) {
        exitWithError('invalid or missing option "email": expected an email address');
    }
    options.accessTokenTtlSecs ??= DEFAULT_ACCESS_TOKEN_TTL_SECS;
    if (!Number.isInteger(options.accessTokenTtlSecs) || options.accessTokenTtlSecs < 1) {
        exitWithError('invalid option "accessTokenTtlSecs": expected a whole number of seconds >= 1');
    }
    return options;
}

// Checks a control request and returns an error message, or null when it is valid.
export function validateControlRequest(request) {
    if (!isPlainObject(request)) {
        return 'the control request must be a JSON object';
    }
    const checks = {
        revokeAll: value => value === true,
        expireAccessTokens: value => value === true,
        failNextToken: value =>
            value === null ||
            (isPlainObject(value) &&
                Object.keys(value).every(key => ['status', 'error', 'count'].includes(key)) &&
                Number.isInteger(value.status) &&
                value.status >= 400 &&
                value.status <= 599 &&
                (value.error === undefined || isNonEmptyString(value.error)) &&
                (value.count === undefined || (Number.isInteger(value.count) && value.count >= 1))),
        delayNextTokenMs: value => Number.isFinite(value) && value >= 0,
        nextEmail: value => value === null || (typeof value === 'string' && value.includes('@')),
        authorizeError: value => value === null || AUTHORIZE_ERRORS.includes(value),
        dropScopes: value => typeof value === 'boolean' || (Array.isArray(value) && value.every(isNonEmptyString)),
    };
    for (const [name, value] of Object.entries(request)) {
        if (!Object.hasOwn(checks, name)) {
            return `unknown control "${name}"`;
        }
        if (!checks[name](value)) {
            return `invalid value for control "${name}"; README.md lists the accepted values`;
        }
    }
    return null;
}
