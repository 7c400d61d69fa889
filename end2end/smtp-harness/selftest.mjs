// Self-test of server.mjs: starts it with different options and talks SMTP to it over
// plain TCP and TLS. Run with `node --test selftest.mjs` (or `npm run selftest`).
// The TLS tests need `openssl` on PATH to create a throwaway CA and server certificate.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';

const SERVER_PATH = new URL('./server.mjs', import.meta.url).pathname;
const TIMEOUT_MS = 5000;

function withTimeout(promise, description) {
    let timer;
    const timeout = new Promise((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out waiting for ${description}`)), TIMEOUT_MS);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Starts server.mjs and queues the JSON lines that it prints.
async function startHarness(options) {
    const child = spawn(process.execPath, [SERVER_PATH], {
        env: { ...process.env, SMTP_HARNESS_OPTIONS: JSON.stringify(options) },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
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
