// SMTP server for end-to-end tests: reads its options as JSON from SMTP_HARNESS_OPTIONS,
// listens on 127.0.0.1 on a port the OS picks and reports events as JSON lines on stdout.
// README.md in this folder lists the options and the output format.
import fs from 'node:fs';
import { SMTPServer } from 'smtp-server';
import SASL from 'smtp-server/lib/sasl.js';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

const TLS_MODES = ['none', 'starttls', 'implicit'];
const AUTH_METHODS = ['PLAIN', 'LOGIN'];
const REPLY_OPTIONS = ['authReply', 'rejectSender', 'rejectRecipient', 'rejectData'];
const BOOLEAN_OPTIONS = ['smtputf8', 'hideStartTls', 'multilineReply'];
const KNOWN_OPTIONS = new Set(['tls', 'certFile', 'keyFile', 'auth', 'xoauth2', 'greetingDelayMs', 'replyDelayMs', ...REPLY_OPTIONS, ...BOOLEAN_OPTIONS]);
const XOAUTH2_OPTIONS = new Set(['verifyUrl', 'requiredScope']);

const INVALID_CREDENTIALS = { code: 535, message: '5.7.8 Authentication credentials invalid' };
const SMTPUTF8_NOT_SUPPORTED = { code: 555, message: '5.5.4 SMTPUTF8 is not supported' };
const XOAUTH2_REJECTED = { code: 535, message: '5.7.8 Username and Password not accepted' };
// RFC 4954 section 6 names this reply for a failure of the authentication backend.
const XOAUTH2_CHECK_FAILED = { code: 454, message: '4.7.0 Temporary authentication failure' };
const XOAUTH2_DEFAULT_SCOPE = 'https://mail.google.com/';
const VERIFY_TIMEOUT_MS = 5000;

// Grace period for open sessions after SIGTERM. smtp-server waits 30 s by default,
// which would stall every test that stops the harness while a client is still connected.
const CLOSE_TIMEOUT_MS = 1000;

function exitWithError(message, exitCode = 2) {
    process.stderr.write(`smtp-harness: ${message}\n`);
    process.exit(exitCode);
}

function printEvent(event) {
    process.stdout.write(JSON.stringify(event) + '\n');
}

function isPlainObject(value) {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validateReply(name, reply) {
    if (!isPlainObject(reply) || !Number.isInteger(reply.code) || reply.code < 400 || reply.code > 599 || typeof reply.message !== 'string') {
        exitWithError(`invalid option "${name}": expected {"code": <400-599>, "message": "<text>"}`);
    }
}

function validateAuth(auth) {
    if (!isPlainObject(auth) || typeof auth.username !== 'string' || typeof auth.password !== 'string') {
        exitWithError('invalid option "auth": expected {"username": "<text>", "password": "<text>", "methods": [...]}');
    }
    const methods = auth.methods ?? AUTH_METHODS;
    if (!Array.isArray(methods) || methods.length === 0 || !methods.every(method => AUTH_METHODS.includes(method))) {
        exitWithError(`invalid option "auth.methods": expected a non-empty subset of ${JSON.stringify(AUTH_METHODS)}`);
    }
}

function validateXoauth2(xoauth2) {
    const usage = 'expected {"verifyUrl": "http://127.0.0.1:<port>/_harness/tokens/verify", "requiredScope": "<scope>"}';
    if (!isPlainObject(xoauth2)) {
        exitWithError(`invalid option "xoauth2": ${usage}`);
    }
    for (const name of Object.keys(xoauth2)) {
        if (!XOAUTH2_OPTIONS.has(name)) {
            exitWithError(`unknown option "xoauth2.${name}"`);
        }
    }
    let url;
    try {
        url = new URL(xoauth2.verifyUrl);
    } catch {
        exitWithError(`invalid or missing option "xoauth2.verifyUrl": ${usage}`);
    }
    if (!['http:', 'https:'].includes(url.protocol)) {
        exitWithError('invalid option "xoauth2.verifyUrl": expected an http or https URL');
    }
    if (xoauth2.requiredScope !== undefined && (typeof xoauth2.requiredScope !== 'string' || xoauth2.requiredScope === '')) {
        exitWithError('invalid option "xoauth2.requiredScope": expected a non-empty string');
    }
}

function parseOptions(text) {
    let options;
    try {
        options = JSON.parse(text || '{}');
    } catch (error) {
        exitWithError(`SMTP_HARNESS_OPTIONS is not valid JSON: ${error.message}`);
    }
    if (!isPlainObject(options)) {
        exitWithError('SMTP_HARNESS_OPTIONS must be a JSON object');
    }

    // Rejecting unknown names turns a typo in a test into an error instead of a silently ignored option.
    for (const name of Object.keys(options)) {
        if (!KNOWN_OPTIONS.has(name)) {
            exitWithError(`unknown option "${name}"`);
        }
    }
    options.tls ??= 'none';
    if (!TLS_MODES.includes(options.tls)) {
        exitWithError(`invalid option "tls": expected one of ${JSON.stringify(TLS_MODES)}`);
    }
    for (const name of ['certFile', 'keyFile']) {
        if (options[name] !== undefined && typeof options[name] !== 'string') {
            exitWithError(`invalid option "${name}": expected a file path`);
        }
    }
    if ((options.certFile === undefined) !== (options.keyFile === undefined)) {
        exitWithError('options "certFile" and "keyFile" must be given together');
    }
    if (options.auth !== undefined) {
        validateAuth(options.auth);
    }
    if (options.xoauth2 !== undefined) {
        validateXoauth2(options.xoauth2);
    }
    for (const name of REPLY_OPTIONS) {
        if (options[name] !== undefined) {
            validateReply(name, options[name]);
        }
    }
    for (const name of BOOLEAN_OPTIONS) {
        if (options[name] !== undefined && typeof options[name] !== 'boolean') {
            exitWithError(`invalid option "${name}": expected true or false`);
        }
    }
    for (const name of ['greetingDelayMs', 'replyDelayMs']) {
        const delay = options[name];
        if (delay !== undefined && !(Number.isFinite(delay) && delay >= 0)) {
            exitWithError(`invalid option "${name}": expected a number of milliseconds >= 0`);
        }
    }
    return options;
}

// smtp-server 3.21 replaces control characters in reply text with spaces, so a "\n" in an
// error message never reaches the wire as a line break. The configured multi-line texts are
// split here and go through the library's own multi-line path, which sends "<code>-<line>"
// for every line but the last and "<code> <line>" for the last one.
function enableMultilineReplies(messages) {
    const send = SMTPConnection.prototype.send;
    SMTPConnection.prototype.send = function sendWithMultilineReplies(code, data, context) {
        if (typeof data === 'string' && messages.has(data)) {
            data = data.split(/\r?\n/);
        }
        return send.call(this, code, data, context);
    };
}

// smtp-server 3.21.6 ends a failed XOAUTH2 exchange with "535 Error: Username and Password
// not accepted" after the client's empty line. Gmail sends the enhanced status code 5.7.8
// there, so the harness replaces that step of the exchange.
function useGmailXoauth2Rejection() {
    SASL.XOAUTH2_error = function rejectXoauth2(_line, callback) {
        this.send(XOAUTH2_REJECTED.code, XOAUTH2_REJECTED.message);
        callback();
    };
}

// Asks the OAuth harness whether an access token is valid. The token goes into the query
// string of the request and is never printed.
async function fetchTokenInfo(verifyUrl, accessToken) {
    const url = new URL(verifyUrl);
    url.searchParams.set('token', accessToken);
    const response = await fetch(url, { signal: AbortSignal.timeout(VERIFY_TIMEOUT_MS) });
    if (!response.ok) {
        throw new Error(`the token check returned HTTP ${response.status}`);
    }
    return response.json();
}

// Returns why an XOAUTH2 attempt fails, or null when the token is valid for the user.
function xoauth2Problem(tokenInfo, username, requiredScope) {
    if (tokenInfo.valid !== true) {
        return 'the access token is unknown, expired or revoked';
    }
    if (typeof tokenInfo.email !== 'string' || tokenInfo.email.toLowerCase() !== username.toLowerCase()) {
        return 'the access token belongs to another mailbox';
    }
    if (requiredScope !== undefined && !(tokenInfo.scope ?? '').split(' ').includes(requiredScope)) {
        return `the access token lacks the scope ${requiredScope}`;
    }
    return null;
}

// Checks an XOAUTH2 attempt against the OAuth harness. A rejected token gets a 334 challenge
// with the JSON error of the example in Google's XOAUTH2 protocol documentation, and the 535
// reply follows the client's next line.
async function authenticateXoauth2(auth, xoauth2, callback) {
    let tokenInfo;
    try {
        tokenInfo = await fetchTokenInfo(xoauth2.verifyUrl, auth.accessToken);
    } catch (error) {
        const cause = error.cause?.message ? `: ${error.cause.message}` : '';
        process.stderr.write(`smtp-harness: XOAUTH2 token check for ${auth.username} failed: ${error.message}${cause}\n`);
        return callback(replyError(XOAUTH2_CHECK_FAILED));
    }
    const problem = xoauth2Problem(tokenInfo, auth.username, xoauth2.requiredScope);
    if (problem) {
        process.stderr.write(`smtp-harness: XOAUTH2 rejected for ${auth.username}: ${problem}\n`);
        const challenge = { status: '401', schemes: 'bearer mac', scope: xoauth2.requiredScope ?? XOAUTH2_DEFAULT_SCOPE };
        return callback(null, { data: challenge });
    }
    callback(null, { user: { method: 'XOAUTH2', username: auth.username } });
}

function replyError({ code, message }) {
    const error = new Error(message);
    error.responseCode = code;
    return error;
}

function readPemFile(name, path) {
    try {
        return fs.readFileSync(path);
    } catch (error) {
        exitWithError(`failed to read ${name} ${path}: ${error.message}`);
    }
}

// PLAIN and LOGIN come from `auth` (both by default, or without `auth` when only `authReply`
// is set), and XOAUTH2 from `xoauth2`.
function advertisedAuthMethods(options) {
    let methods = AUTH_METHODS;
    if (options.auth) {
        methods = options.auth.methods ?? AUTH_METHODS;
    } else if (options.xoauth2) {
        methods = [];
    }
    return options.xoauth2 ? [...methods, 'XOAUTH2'] : methods;
}

// Wraps each hook so that its reply leaves `delayMs` after the server decides it.
function delayReplies(hooks, delayMs) {
    if (!delayMs) {
        return hooks;
    }
    const delayed = {};
    for (const [name, hook] of Object.entries(hooks)) {
        delayed[name] = (subject, session, callback) =>
            hook(subject, session, (...reply) => setTimeout(() => callback(...reply), delayMs));
    }
    return delayed;
}

// The hooks whose replies `replyDelayMs` delays: AUTH, MAIL FROM, RCPT TO and the end of DATA.
function replyHooks(options) {
    return {
        onAuth(auth, session, callback) {
            if (options.authReply) {
                return callback(replyError(options.authReply));
            }
            if (auth.method === 'XOAUTH2') {
                return authenticateXoauth2(auth, options.xoauth2, callback);
            }
            if (!options.auth || auth.username !== options.auth.username || auth.password !== options.auth.password) {
                return callback(replyError(INVALID_CREDENTIALS));
            }
            callback(null, { user: { method: auth.method, username: auth.username } });
        },

        onMailFrom(address, session, callback) {
            // smtp-server 3.21 accepts the SMTPUTF8 parameter even when EHLO does not advertise
            // it, so the harness rejects it here as a strict server does.
            if (address.args?.SMTPUTF8 && options.smtputf8 !== true) {
                return callback(replyError(SMTPUTF8_NOT_SUPPORTED));
            }
            if (options.rejectSender) {
                return callback(replyError(options.rejectSender));
            }
            callback();
        },

        onRcptTo(address, session, callback) {
            if (options.rejectRecipient) {
                return callback(replyError(options.rejectRecipient));
            }
            callback();
        },

        onData(stream, session, callback) {
            const chunks = [];
            stream.on('data', chunk => chunks.push(chunk));
            stream.on('end', () => {
                if (options.rejectData) {
                    return callback(replyError(options.rejectData));
                }
                const envelope = session.envelope;
                printEvent({
                    event: 'message',
                    mailFrom: envelope.mailFrom.address,
                    rcptTo: envelope.rcptTo.map(recipient => recipient.address),
                    auth: session.user ? { method: session.user.method, username: session.user.username } : null,
                    secure: session.secure === true,
                    utf8: envelope.smtpUtf8 === true,
                    // NOTE: bytes that are not valid UTF-8 are replaced with U+FFFD.
                    raw: Buffer.concat(chunks).toString('utf8'),
                });
                callback(null, 'OK: message queued');
            });
        },
    };
}

function createServer(options) {
    const authEnabled = options.auth !== undefined || options.authReply !== undefined || options.xoauth2 !== undefined;
    const disabledCommands = [];
    if (options.tls === 'none') {
        disabledCommands.push('STARTTLS');
    }
    if (!authEnabled) {
        disabledCommands.push('AUTH');
    }

    const serverOptions = {
        secure: options.tls === 'implicit',
        disabledCommands,
        hideSTARTTLS: options.hideStartTls === true,
        hideSMTPUTF8: options.smtputf8 !== true,
        authMethods: advertisedAuthMethods(options),
        authOptional: !authEnabled,
        // A reverse lookup of 127.0.0.1 would query the system's DNS servers.
        disableReverseLookup: true,
        logger: false,
        closeTimeout: CLOSE_TIMEOUT_MS,

        onConnect(session, callback) {
            setTimeout(callback, (options.greetingDelayMs ?? 0) + (options.replyDelayMs ?? 0));
        },

        ...delayReplies(replyHooks(options), options.replyDelayMs),
    };

    if (options.certFile !== undefined) {
        serverOptions.cert = readPemFile('certFile', options.certFile);
        serverOptions.key = readPemFile('keyFile', options.keyFile);
    }
    return new SMTPServer(serverOptions);
}

const options = parseOptions(process.env.SMTP_HARNESS_OPTIONS);
if (options.multilineReply) {
    const messages = REPLY_OPTIONS.map(name => options[name]?.message).filter(message => message?.includes('\n'));
    enableMultilineReplies(new Set(messages));
}

if (options.xoauth2) {
    useGmailXoauth2Rejection();
}

const server = createServer(options);
let listening = false;

// Client errors such as a TLS handshake that the client aborted are expected in tests,
// so they are logged and the server keeps running.
server.on('error', error => {
    if (!listening) {
        exitWithError(`failed to start: ${error.message}`, 1);
    }
    process.stderr.write(`smtp-harness: connection error: ${error.code ?? 'unknown'}: ${error.message}\n`);
});

server.listen(0, '127.0.0.1', () => {
    listening = true;
    printEvent({ event: 'listening', port: server.server.address().port });
});

for (const signal of ['SIGTERM', 'SIGINT']) {
    process.once(signal, () => server.close(() => process.exit(0)));
}
