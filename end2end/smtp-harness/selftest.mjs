// Self-test of server.mjs: starts it with different options and talks SMTP to it over
// plain TCP and TLS. Run with `node --test selftest.mjs` (or `npm run selftest`).
// The TLS tests need `openssl` on PATH to create a throwaway CA and server certificate.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';

const SERVER_PATH = new URL('./server.mjs', import.meta.url).pathname;
const OAUTH_HARNESS_DIR = new URL('../oauth-harness/', import.meta.url).pathname;
const TIMEOUT_MS = 5000;

function withTimeout(promise, description) {
    let timer;
    const timeout = new Promise((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out waiting for ${description}`)), TIMEOUT_MS);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Harness processes that have not exited yet. A test that fails before its stop() call
// leaves its harness running, and node --test would wait for it forever.
const runningHarnesses = new Set();
after(() => {
    for (const child of runningHarnesses) {
        child.kill('SIGTERM');
    }
});

// Starts server.mjs and queues the JSON lines that it prints.
async function startHarness(options) {
    const child = spawn(process.execPath, [SERVER_PATH], {
        env: { ...process.env, SMTP_HARNESS_OPTIONS: JSON.stringify(options) },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    runningHarnesses.add(child);
    child.once('exit', () => runningHarnesses.delete(child));
    let stderr = '';
    child.stderr.on('data', chunk => (stderr += chunk));
    const exited = new Promise(resolve => child.once('exit', code => resolve(code)));

    const stdoutLines = [];
    const events = [];
    const waiters = [];
    readline.createInterface({ input: child.stdout }).on('line', line => {
        stdoutLines.push(line);
        const event = JSON.parse(line);
        const waiter = waiters.shift();
        waiter ? waiter(event) : events.push(event);
    });
    const nextEvent = () => withTimeout(new Promise(resolve => (events.length ? resolve(events.shift()) : waiters.push(resolve))), 'a harness event');

    const exitedEarly = exited.then(code => {
        throw new Error(`harness exited with code ${code} before listening; stderr: ${stderr}`);
    });
    const listening = await Promise.race([nextEvent(), exitedEarly]);
    assert.equal(listening.event, 'listening');
    assert.ok(Number.isInteger(listening.port), `port is not an integer: ${listening.port}`);
    assert.ok(listening.port > 0, `port is not positive: ${listening.port}`);

    return {
        port: listening.port,
        nextEvent,
        stdoutLines,
        stderr: () => stderr,
        async stop() {
            child.kill('SIGTERM');
            return withTimeout(exited, 'the harness to exit');
        },
    };
}

// Minimal SMTP client that returns each reply whole, including multi-line replies.
class SmtpClient {
    static connect(port, tlsOptions) {
        const client = new SmtpClient();
        const socket = tlsOptions
            ? tls.connect({ host: '127.0.0.1', port, ...tlsOptions })
            : net.connect({ host: '127.0.0.1', port });
        client.attach(socket);
        return client;
    }

    attach(socket) {
        this.socket = socket;
        this.buffer = '';
        this.waiter = null;
        this.error = null;
        socket.on('data', chunk => {
            this.buffer += chunk.toString('utf8');
            this.deliver();
        });
        socket.on('error', error => {
            this.error = error;
            this.deliver();
        });
        socket.on('close', () => {
            this.error ??= new Error('connection closed');
            this.deliver();
        });
    }

    deliver() {
        if (!this.waiter) {
            return;
        }
        if (this.error) {
            return this.waiter.reject(this.error);
        }
        // A reply ends with a line whose code is followed by a space or by nothing.
        const end = /^\d{3}(?: [^\r\n]*)?\r\n/m.exec(this.buffer);
        if (!end) {
            return;
        }
        const length = end.index + end[0].length;
        const raw = this.buffer.slice(0, length);
        this.buffer = this.buffer.slice(length);
        const waiter = this.waiter;
        this.waiter = null;
        waiter.resolve({ code: Number(raw.slice(0, 3)), raw, lines: raw.split('\r\n').slice(0, -1) });
    }

    readReply() {
        return withTimeout(
            new Promise((resolve, reject) => {
                this.waiter = { resolve, reject };
                this.deliver();
            }),
            'an SMTP reply',
        );
    }

    command(line) {
        this.socket.write(line + '\r\n');
        return this.readReply();
    }

    async ehlo() {
        const reply = await this.command('EHLO client.test');
        assert.equal(reply.code, 250, reply.raw);
        return reply.lines.map(line => line.slice(4));
    }

    // Sends STARTTLS and continues the session over TLS on the same socket.
    async startTls(tlsOptions) {
        const reply = await this.command('STARTTLS');
        assert.equal(reply.code, 220, reply.raw);
        this.socket.removeAllListeners('data');
        const secureSocket = tls.connect({ socket: this.socket, ...tlsOptions });
        await withTimeout(new Promise((resolve, reject) => secureSocket.once('secureConnect', resolve).once('error', reject)), 'the TLS handshake');
        this.attach(secureSocket);
    }

    close() {
        this.socket.destroy();
    }
}

function authPlainCommand(username, password) {
    return 'AUTH PLAIN ' + Buffer.from(`\0${username}\0${password}`).toString('base64');
}

function xoauth2Payload(username, accessToken) {
    return Buffer.from(`user=${username}\x01auth=Bearer ${accessToken}\x01\x01`).toString('base64');
}

const MESSAGE = 'From: sender@example.test\r\nTo: rcpt@example.test\r\nSubject: Self-test\r\n\r\nHello.\r\n..leading dot\r\n';

// Sends one message and returns the reply to the end of the data.
async function sendMessage(client, { from = 'sender@example.test', to = 'rcpt@example.test', mailParams = '' } = {}) {
    let reply = await client.command(`MAIL FROM:<${from}>${mailParams}`);
    assert.equal(reply.code, 250, reply.raw);
    reply = await client.command(`RCPT TO:<${to}>`);
    assert.equal(reply.code, 250, reply.raw);
    reply = await client.command('DATA');
    assert.equal(reply.code, 354, reply.raw);
    return client.command(MESSAGE + '.');
}

async function connectPlain(harness) {
    const client = SmtpClient.connect(harness.port);
    const greeting = await client.readReply();
    assert.equal(greeting.code, 220, greeting.raw);
    return client;
}

describe('plain mode', () => {
    test('accepts message and prints it', async () => {
        const harness = await startHarness({});
        const client = await connectPlain(harness);
        const extensions = await client.ehlo();
        assert.ok(!extensions.includes('STARTTLS'), extensions.join(','));
        assert.ok(!extensions.some(extension => extension.startsWith('AUTH')), extensions.join(','));
        assert.ok(!extensions.includes('SMTPUTF8'), extensions.join(','));

        const reply = await sendMessage(client);
        assert.equal(reply.code, 250, reply.raw);
        const event = await harness.nextEvent();
        assert.deepEqual(event, {
            event: 'message',
            mailFrom: 'sender@example.test',
            rcptTo: ['rcpt@example.test'],
            auth: null,
            secure: false,
            utf8: false,
            // The server removes the dot stuffing of the second body line.
            raw: MESSAGE.replace('..leading', '.leading'),
        });
        client.close();
        assert.equal(await harness.stop(), 0);
    });

    test('SIGTERM with open session exits 0', async () => {
        const harness = await startHarness({});
        const client = await connectPlain(harness);
        await client.ehlo();
        assert.equal(await harness.stop(), 0);
        client.close();
    });

    test('unknown option is rejected', async () => {
        await assert.rejects(startHarness({ tlsMode: 'none' }), /code 2 .*unknown option "tlsMode"/);
    });
});

describe('auth', () => {
    const options = { auth: { username: 'alice@example.test', password: 's3cret-pass', methods: ['PLAIN', 'LOGIN'] } };

    test('wrong password gets 535', async () => {
        const harness = await startHarness(options);
        const client = await connectPlain(harness);
        const extensions = await client.ehlo();
        assert.ok(extensions.includes('AUTH PLAIN LOGIN'), extensions.join(','));

        const mailBeforeAuth = await client.command('MAIL FROM:<alice@example.test>');
        assert.equal(mailBeforeAuth.code, 530, mailBeforeAuth.raw);
        const reply = await client.command(authPlainCommand('alice@example.test', 'wrong'));
        assert.equal(reply.raw, '535 5.7.8 Authentication credentials invalid\r\n');
        client.close();
        assert.equal(await harness.stop(), 0);
    });

    test('PLAIN with right password is reported', async () => {
        const harness = await startHarness(options);
        const client = await connectPlain(harness);
        await client.ehlo();
        const authReply = await client.command(authPlainCommand('alice@example.test', 's3cret-pass'));
        assert.equal(authReply.code, 235, authReply.raw);
        assert.equal((await sendMessage(client, { from: 'alice@example.test' })).code, 250);

        const event = await harness.nextEvent();
        assert.deepEqual(event.auth, { method: 'PLAIN', username: 'alice@example.test' });
        client.close();
        assert.equal(await harness.stop(), 0);
        assert.ok(!harness.stdoutLines.join('\n').includes('s3cret-pass'), 'password printed on stdout');
        assert.ok(!harness.stderr().includes('s3cret-pass'), 'password printed on stderr');
    });

    test('LOGIN with right password succeeds', async () => {
        const harness = await startHarness(options);
        const client = await connectPlain(harness);
        await client.ehlo();
        assert.equal((await client.command('AUTH LOGIN')).code, 334);
        assert.equal((await client.command(Buffer.from('alice@example.test').toString('base64'))).code, 334);
        const reply = await client.command(Buffer.from('s3cret-pass').toString('base64'));
        assert.equal(reply.code, 235, reply.raw);
        client.close();
        assert.equal(await harness.stop(), 0);
    });

    test('authReply replaces every AUTH result', async () => {
        const harness = await startHarness({ ...options, authReply: { code: 534, message: '5.7.9 Application-specific password required' } });
        const client = await connectPlain(harness);
        await client.ehlo();
        const reply = await client.command(authPlainCommand('alice@example.test', 's3cret-pass'));
        assert.equal(reply.raw, '534 5.7.9 Application-specific password required\r\n');
        client.close();
        assert.equal(await harness.stop(), 0);
    });

    test('multilineReply spans several lines', async () => {
        const harness = await startHarness({
            ...options,
            multilineReply: true,
            authReply: {
                code: 535,
                message: '5.7.8 Username and Password not accepted. For more information, go to\n5.7.8  https://support.google.com/mail/?p=BadCredentials',
            },
        });
        const client = await connectPlain(harness);
        await client.ehlo();
        const reply = await client.command(authPlainCommand('alice@example.test', 's3cret-pass'));
        assert.equal(
            reply.raw,
            '535-5.7.8 Username and Password not accepted. For more information, go to\r\n' +
                '535 5.7.8  https://support.google.com/mail/?p=BadCredentials\r\n',
        );
        client.close();
        assert.equal(await harness.stop(), 0);
    });
});

describe('rejections', () => {
    test('rejectSender gets 553', async () => {
        const harness = await startHarness({ rejectSender: { code: 553, message: '5.7.1 Sender address rejected: not owned by user' } });
        const client = await connectPlain(harness);
        await client.ehlo();
        const reply = await client.command('MAIL FROM:<mallory@example.test>');
        assert.equal(reply.raw, '553 5.7.1 Sender address rejected: not owned by user\r\n');
        client.close();
        assert.equal(await harness.stop(), 0);
    });

    test('rejectRecipient answers RCPT TO', async () => {
        const harness = await startHarness({ rejectRecipient: { code: 550, message: '5.1.1 User unknown' } });
        const client = await connectPlain(harness);
        await client.ehlo();
        assert.equal((await client.command('MAIL FROM:<sender@example.test>')).code, 250);
        const reply = await client.command('RCPT TO:<nobody@example.test>');
        assert.equal(reply.raw, '550 5.1.1 User unknown\r\n');
        client.close();
        assert.equal(await harness.stop(), 0);
    });

    test('rejectData answers end of data', async () => {
        const harness = await startHarness({ rejectData: { code: 554, message: '5.7.1 Message rejected as spam' } });
        const client = await connectPlain(harness);
        await client.ehlo();
        const reply = await sendMessage(client);
        assert.equal(reply.raw, '554 5.7.1 Message rejected as spam\r\n');
        client.close();
        assert.equal(await harness.stop(), 0);
        assert.deepEqual(harness.stdoutLines.slice(1), [], 'a rejected message was printed');
    });
});

describe('smtputf8', () => {
    test('advertised and reported when enabled', async () => {
        const harness = await startHarness({ smtputf8: true });
        const client = await connectPlain(harness);
        assert.ok((await client.ehlo()).includes('SMTPUTF8'));
        const reply = await sendMessage(client, { from: 'sender@example.test', to: 'empfänger@example.test', mailParams: ' SMTPUTF8' });
        assert.equal(reply.code, 250, reply.raw);
        const event = await harness.nextEvent();
        assert.equal(event.utf8, true);
        assert.deepEqual(event.rcptTo, ['empfänger@example.test']);
        client.close();
        assert.equal(await harness.stop(), 0);
    });

    test('parameter rejected when disabled', async () => {
        const harness = await startHarness({});
        const client = await connectPlain(harness);
        await client.ehlo();
        const reply = await client.command('MAIL FROM:<sender@example.test> SMTPUTF8');
        assert.equal(reply.raw, '555 5.5.4 SMTPUTF8 is not supported\r\n');
        client.close();
        assert.equal(await harness.stop(), 0);
    });
});

test('greetingDelayMs delays banner', async () => {
    const harness = await startHarness({ greetingDelayMs: 700 });
    const started = Date.now();
    const client = await connectPlain(harness);
    assert.ok(Date.now() - started >= 700, `banner after ${Date.now() - started} ms`);
    client.close();
    assert.equal(await harness.stop(), 0);
});

test('replyDelayMs delays banner and replies', async () => {
    const harness = await startHarness({ replyDelayMs: 300 });
    const started = Date.now();
    const client = await connectPlain(harness);
    const bannerAfter = Date.now() - started;
    assert.ok(bannerAfter >= 300, `banner after ${bannerAfter} ms`);
    const ehloStarted = Date.now();
    assert.equal((await client.command('EHLO client.example.test')).code, 250);
    assert.ok(Date.now() - ehloStarted < 300, 'EHLO is answered at once');
    const mailStarted = Date.now();
    assert.equal((await client.command('MAIL FROM:<a@example.test>')).code, 250);
    assert.ok(Date.now() - mailStarted >= 300, `MAIL FROM after ${Date.now() - mailStarted} ms`);
    client.close();
    assert.equal(await harness.stop(), 0);
});

const hasOpenssl = (() => {
    try {
        execFileSync('openssl', ['version'], { stdio: 'ignore' });
        return true;
    } catch {
        return false;
    }
})();

describe('TLS', { skip: hasOpenssl ? false : 'openssl is not on PATH' }, () => {
    let directory;
    let tlsFiles;
    let clientTls;

    before(() => {
        directory = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-harness-selftest-'));
        const file = name => path.join(directory, name);
        const openssl = args => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
        openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=Self-test CA', '-keyout', file('ca.key'), '-out', file('ca.pem')]);
        openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', file('server.key'), '-out', file('server.csr')]);
        fs.writeFileSync(file('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
        openssl(['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', file('server.ext'), '-out', file('server.pem')]);
        tlsFiles = { certFile: file('server.pem'), keyFile: file('server.key') };
        // The client verifies the chain and the host name, so these tests fail if the
        // harness serves any certificate other than the one from certFile.
        clientTls = { ca: fs.readFileSync(file('ca.pem')), servername: 'localhost' };
    });

    after(() => fs.rmSync(directory, { recursive: true, force: true }));

    test('starttls advertises and upgrades', async () => {
        const harness = await startHarness({ tls: 'starttls', ...tlsFiles });
        const client = await connectPlain(harness);
        assert.ok((await client.ehlo()).includes('STARTTLS'));
        await client.startTls(clientTls);
        assert.ok(!(await client.ehlo()).includes('STARTTLS'));
        assert.equal((await sendMessage(client)).code, 250);
        const event = await harness.nextEvent();
        assert.equal(event.secure, true);
        client.close();
        assert.equal(await harness.stop(), 0);
    });

    test('starttls rejects AUTH before TLS', async () => {
        const harness = await startHarness({ tls: 'starttls', ...tlsFiles, auth: { username: 'alice', password: 'pw' } });
        const client = await connectPlain(harness);
        await client.ehlo();
        const reply = await client.command(authPlainCommand('alice', 'pw'));
        assert.equal(reply.code, 538, reply.raw);
        await client.startTls(clientTls);
        await client.ehlo();
        assert.equal((await client.command(authPlainCommand('alice', 'pw'))).code, 235);
        client.close();
        assert.equal(await harness.stop(), 0);
    });

    test('hideStartTls hides STARTTLS', async () => {
        const harness = await startHarness({ tls: 'starttls', ...tlsFiles, hideStartTls: true });
        const client = await connectPlain(harness);
        const extensions = await client.ehlo();
        assert.ok(!extensions.includes('STARTTLS'), extensions.join(','));
        client.close();
        assert.equal(await harness.stop(), 0);
    });

    test('implicit speaks TLS first', async () => {
        const harness = await startHarness({ tls: 'implicit', ...tlsFiles });
        const client = SmtpClient.connect(harness.port, clientTls);
        const greeting = await client.readReply();
        assert.equal(greeting.code, 220, greeting.raw);
        assert.equal(client.socket.getPeerCertificate().subject.CN, 'localhost');
        const extensions = await client.ehlo();
        assert.ok(!extensions.includes('STARTTLS'), extensions.join(','));
        assert.equal((await sendMessage(client)).code, 250);
        assert.equal((await harness.nextEvent()).secure, true);
        client.close();
        assert.equal(await harness.stop(), 0);
    });

    test('implicit refuses plain client', async () => {
        const harness = await startHarness({ tls: 'implicit', ...tlsFiles });
        const client = SmtpClient.connect(harness.port);
        client.socket.write('EHLO client.test\r\n');
        // The server expects a TLS handshake, so it closes the connection without an SMTP reply.
        await assert.rejects(client.readReply(), /connection closed|ECONNRESET/);
        client.close();
        assert.equal(await harness.stop(), 0);
    });
});

// Stands in for the OAuth harness's GET /_harness/tokens/verify: `tokens` maps an access
// token to the JSON that the endpoint returns for it, and other tokens get {"valid": false}.
async function startTokenVerifier(tokens) {
    const requests = [];
    const server = http.createServer((req, res) => {
        const url = new URL(req.url, 'http://127.0.0.1');
        requests.push(url.pathname);
        const token = url.searchParams.get('token');
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(Object.hasOwn(tokens, token) ? tokens[token] : { valid: false }));
    });
    await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
    return {
        verifyUrl: `http://127.0.0.1:${server.address().port}/_harness/tokens/verify`,
        requests,
        close: () => new Promise(resolve => server.close(resolve)),
    };
}

// Sends a rejected XOAUTH2 attempt as a client does and returns the decoded challenge and the final reply.
async function failXoauth2(client, username, accessToken) {
    const challenge = await client.command(`AUTH XOAUTH2 ${xoauth2Payload(username, accessToken)}`);
    assert.equal(challenge.code, 334, challenge.raw);
    const details = JSON.parse(Buffer.from(challenge.raw.slice(4).trim(), 'base64').toString('utf8'));
    const reply = await client.command('');
    return { details, reply };
}

describe('xoauth2', () => {
    const MAILBOX = 'mailbox@example.com';
    const VALID_TOKEN = 'access-token-valid';
    const inOneHour = () => Math.floor(Date.now() / 1000) + 3600;
    let verifier;

    before(async () => {
        verifier = await startTokenVerifier({
            [VALID_TOKEN]: { valid: true, email: MAILBOX, expiresAt: inOneHour(), scope: 'openid email https://mail.google.com/' },
            'access-token-other-mailbox': { valid: true, email: 'other@example.com', expiresAt: inOneHour(), scope: 'https://mail.google.com/' },
            'access-token-no-mail-scope': { valid: true, email: MAILBOX, expiresAt: inOneHour(), scope: 'openid email' },
        });
    });

    after(() => verifier.close());

    test('advertised with other methods', async () => {
        const harness = await startHarness({ auth: { username: 'alice', password: 'pw' }, xoauth2: { verifyUrl: verifier.verifyUrl } });
        const client = await connectPlain(harness);
        const extensions = await client.ehlo();
        assert.ok(extensions.includes('AUTH PLAIN LOGIN XOAUTH2'), extensions.join(','));
        assert.equal((await client.command(authPlainCommand('alice', 'pw'))).code, 235);
        client.close();
        assert.equal(await harness.stop(), 0);
    });

    test('alone advertises only XOAUTH2', async () => {
        const harness = await startHarness({ xoauth2: { verifyUrl: verifier.verifyUrl } });
        const client = await connectPlain(harness);
        const extensions = await client.ehlo();
        assert.ok(extensions.includes('AUTH XOAUTH2'), extensions.join(','));
        const mailBeforeAuth = await client.command(`MAIL FROM:<${MAILBOX}>`);
        assert.equal(mailBeforeAuth.code, 530, mailBeforeAuth.raw);
        const plain = await client.command(authPlainCommand(MAILBOX, 'password'));
        assert.equal(plain.code, 504, plain.raw);
        client.close();
        assert.equal(await harness.stop(), 0);
    });

    test('valid token is accepted', async () => {
        const harness = await startHarness({ xoauth2: { verifyUrl: verifier.verifyUrl } });
        const client = await connectPlain(harness);
        await client.ehlo();
        const reply = await client.command(`AUTH XOAUTH2 ${xoauth2Payload(MAILBOX, VALID_TOKEN)}`);
        assert.equal(reply.code, 235, reply.raw);
        assert.equal((await sendMessage(client, { from: MAILBOX })).code, 250);

        const event = await harness.nextEvent();
        assert.deepEqual(event.auth, { method: 'XOAUTH2', username: MAILBOX });
        client.close();
        assert.equal(await harness.stop(), 0);
        assert.ok(!harness.stdoutLines.join('\n').includes(VALID_TOKEN), 'access token printed on stdout');
        assert.ok(!harness.stderr().includes(VALID_TOKEN), 'access token printed on stderr');
    });

    test('token after empty challenge works', async () => {
        const harness = await startHarness({ xoauth2: { verifyUrl: verifier.verifyUrl } });
        const client = await connectPlain(harness);
        await client.ehlo();
        assert.equal((await client.command('AUTH XOAUTH2')).code, 334);
        const reply = await client.command(xoauth2Payload(MAILBOX, VALID_TOKEN));
        assert.equal(reply.code, 235, reply.raw);
        client.close();
        assert.equal(await harness.stop(), 0);
    });

    test('unknown token gets 334 then 535', async () => {
        const harness = await startHarness({ xoauth2: { verifyUrl: verifier.verifyUrl } });
        const client = await connectPlain(harness);
        await client.ehlo();
        const { details, reply } = await failXoauth2(client, MAILBOX, 'access-token-unknown');
        assert.deepEqual(details, { status: '401', schemes: 'bearer mac', scope: 'https://mail.google.com/' });
        assert.equal(reply.raw, '535 5.7.8 Username and Password not accepted\r\n');
        const mail = await client.command(`MAIL FROM:<${MAILBOX}>`);
        assert.equal(mail.code, 530, mail.raw);
        client.close();
        assert.equal(await harness.stop(), 0);
        assert.ok(!harness.stderr().includes('access-token-unknown'), 'access token printed on stderr');
    });

    test('other mailbox gets 535', async () => {
        const harness = await startHarness({ xoauth2: { verifyUrl: verifier.verifyUrl } });
        const client = await connectPlain(harness);
        await client.ehlo();
        const { reply } = await failXoauth2(client, MAILBOX, 'access-token-other-mailbox');
        assert.equal(reply.raw, '535 5.7.8 Username and Password not accepted\r\n');
        client.close();
        assert.equal(await harness.stop(), 0);
    });

    test('requiredScope rejects other scopes', async () => {
        const harness = await startHarness({ xoauth2: { verifyUrl: verifier.verifyUrl, requiredScope: 'https://mail.google.com/' } });
        const client = await connectPlain(harness);
        await client.ehlo();
        const { details, reply } = await failXoauth2(client, MAILBOX, 'access-token-no-mail-scope');
        assert.equal(details.scope, 'https://mail.google.com/');
        assert.equal(reply.raw, '535 5.7.8 Username and Password not accepted\r\n');
        const accepted = await client.command(`AUTH XOAUTH2 ${xoauth2Payload(MAILBOX, VALID_TOKEN)}`);
        assert.equal(accepted.code, 235, accepted.raw);
        client.close();
        assert.equal(await harness.stop(), 0);
    });

    test('authReply also answers XOAUTH2', async () => {
        const authReply = { code: 534, message: '5.7.9 Application-specific password required' };
        const harness = await startHarness({ xoauth2: { verifyUrl: verifier.verifyUrl }, authReply });
        const client = await connectPlain(harness);
        await client.ehlo();
        const reply = await client.command(`AUTH XOAUTH2 ${xoauth2Payload(MAILBOX, VALID_TOKEN)}`);
        assert.equal(reply.raw, '534 5.7.9 Application-specific password required\r\n');
        client.close();
        assert.equal(await harness.stop(), 0);
    });

    test('unreachable verifier gets 454', async () => {
        // A port that was just released has no listener, so the token check is refused.
        const closed = await startTokenVerifier({});
        await closed.close();
        const harness = await startHarness({ xoauth2: { verifyUrl: closed.verifyUrl } });
        const client = await connectPlain(harness);
        await client.ehlo();
        const reply = await client.command(`AUTH XOAUTH2 ${xoauth2Payload(MAILBOX, VALID_TOKEN)}`);
        assert.equal(reply.raw, '454 4.7.0 Temporary authentication failure\r\n');
        client.close();
        assert.equal(await harness.stop(), 0);
        assert.match(harness.stderr(), /XOAUTH2 token check for mailbox@example.com failed/);
    });

    test('missing verifyUrl is rejected', async () => {
        await assert.rejects(startHarness({ xoauth2: {} }), /code 2 .*"xoauth2.verifyUrl"/);
    });
});

const hasOauthHarness = fs.existsSync(path.join(OAUTH_HARNESS_DIR, 'node_modules', 'oauth2-mock-server'));

// Runs the OAuth harness in ../oauth-harness, so these tests check the two harnesses together.
describe('xoauth2 with OAuth harness', { skip: hasOauthHarness ? false : 'run npm ci in ../oauth-harness first' }, () => {
    const MAILBOX = 'mailbox@example.com';
    const CLIENT = { clientId: 'relais-test-client', clientSecret: 'relais-test-secret' };
    let oauth;

    before(async () => {
        const child = spawn(process.execPath, [path.join(OAUTH_HARNESS_DIR, 'server.mjs')], {
            env: { ...process.env, OAUTH_HARNESS_OPTIONS: JSON.stringify({ provider: 'google', ...CLIENT, email: MAILBOX, accessTokenTtlSecs: 1 }) },
            stdio: ['ignore', 'pipe', 'inherit'],
        });
        const exited = new Promise(resolve => child.once('exit', resolve));
        const line = await withTimeout(new Promise(resolve => readline.createInterface({ input: child.stdout }).once('line', resolve)), 'the OAuth harness');
        oauth = { issuer: JSON.parse(line).issuer, child, exited };
    });

    after(async () => {
        oauth.child.kill('SIGTERM');
        await oauth.exited;
    });

    // Runs the authorization code flow with PKCE and returns the access token.
    async function fetchAccessToken() {
        const verifier = crypto.randomBytes(32).toString('base64url');
        const redirectUri = 'http://127.0.0.1:9/oauth/callback';
        const query = new URLSearchParams({
            response_type: 'code',
            client_id: CLIENT.clientId,
            redirect_uri: redirectUri,
            scope: 'openid email https://mail.google.com/',
            code_challenge: crypto.createHash('sha256').update(verifier).digest('base64url'),
            code_challenge_method: 'S256',
        });
        const authorization = await fetch(`${oauth.issuer}/authorize?${query}`, { redirect: 'manual' });
        const code = new URL(authorization.headers.get('location')).searchParams.get('code');
        const response = await fetch(`${oauth.issuer}/token`, {
            method: 'POST',
            body: new URLSearchParams({
                grant_type: 'authorization_code',
                code,
                redirect_uri: redirectUri,
                code_verifier: verifier,
                client_id: CLIENT.clientId,
                client_secret: CLIENT.clientSecret,
            }),
        });
        assert.equal(response.status, 200);
        return (await response.json()).access_token;
    }

    test('fresh token accepted, expired rejected', async () => {
        const accessToken = await fetchAccessToken();
        const harness = await startHarness({ xoauth2: { verifyUrl: `${oauth.issuer}/_harness/tokens/verify` } });
        const client = await connectPlain(harness);
        await client.ehlo();
        const accepted = await client.command(`AUTH XOAUTH2 ${xoauth2Payload(MAILBOX, accessToken)}`);
        assert.equal(accepted.code, 235, accepted.raw);
        client.close();

        // The OAuth harness gives access tokens a lifetime of 1 s here.
        await sleep(1100);
        const later = await connectPlain(harness);
        await later.ehlo();
        const { reply } = await failXoauth2(later, MAILBOX, accessToken);
        assert.equal(reply.raw, '535 5.7.8 Username and Password not accepted\r\n');
        later.close();
        assert.equal(await harness.stop(), 0);
    });
});
