#!/usr/bin/env node
// Compatibility check: the original respoke.js 1.56.0 (with socket.io-client 0.9.17), running
// in Debian's Chromium, against respoke-devserver.
//
//   npm --prefix tests/compat ci
//   node tests/compat/respoke-js.mjs --server target/debug/respoke-devserver   # spawns one
//   node tests/compat/respoke-js.mjs --app http://127.0.0.1:8080               # uses a running one
//
// The npm package ships sources only (no prebuilt bundle), so this script bundles them with
// esbuild, using socket.io-client's own browser build (dist/socket.io.js), as respoke's
// webpack build did. The page is served from its own loopback port, so every call to the
// Respoke side is cross-origin with credentials (the CORS trap PROTOCOL.md describes).
//
// Checks, in brokered mode (tokens from the example app server, which holds the App-Secret)
// and in development mode (respoke.js mints its own token): connect, `disconnect` on
// /dev/drop, connect again with a fresh token, messages both ways between the two clients,
// presence (one observes the other: set, and `unavailable` when its socket drops), a group
// (join events, group.sendMessage -> pubsub, getMembers, leave), and a clean disconnect.
// Prints PASS/FAIL per check and a summary; exits 1 on any failure.

import { parseArgs } from 'node:util';

import {
  assert, bundleRespoke, check, http, launchChromium, results, run, spawnServer, startStaticServer,
  waitFor,
} from './lib.mjs';

const { values: opts } = parseArgs({
  options: {
    server: { type: 'string' }, // path of a respoke-devserver binary to spawn on free ports
    app: { type: 'string', default: 'http://127.0.0.1:8080' }, // a running app server
    chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
    headed: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});

// Installed in the page: clients by name, and every event each one fires.
function installHarness() {
  window.clients = {};
  window.events = {};
  window.makeClient = (name, settings) => {
    const client = window.respoke.createClient(settings);
    window.clients[name] = client;
    window.events[name] = [];
    for (const eventName of ['connect', 'disconnect', 'reconnect', 'message', 'error', 'join', 'leave']) {
      client.listen(eventName, (evt) => {
        const entry = { name: eventName, at: Date.now() };
        if (eventName === 'message' && evt && evt.message) {
          entry.text = evt.message.message;
          entry.from = evt.message.endpointId;
          entry.group = evt.group ? evt.group.id : null;
        }
        if ((eventName === 'join' || eventName === 'leave') && evt && evt.group) {
          entry.group = evt.group.id;
        }
        window.events[name].push(entry);
      });
    }
    return true;
  };
  const record = (name, entry) => window.events[name].push({ ...entry, at: Date.now() });
  const describe = (connection) => ({
    connectionId: connection && connection.id,
    endpointId: connection && connection.getEndpoint && connection.getEndpoint().id,
  });
  window.groups = {};
  window.joinGroup = (name, id) =>
    window.clients[name].join({
      id,
      onMessage: (evt) => record(name, {
        name: 'group-message', group: id, text: evt.message.message, from: evt.message.endpointId,
      }),
      onJoin: (evt) => record(name, { name: 'group-join', group: id, ...describe(evt.connection) }),
      onLeave: (evt) => record(name, { name: 'group-leave', group: id, ...describe(evt.connection) }),
    }).then(
      (group) => {
        window.groups[`${name}/${id}`] = group;
        return 'ok';
      },
      (error) => `error: ${error && error.message}`,
    );
  window.groupSend = (name, id, text) =>
    window.groups[`${name}/${id}`].sendMessage({ message: text }).then(
      () => 'ok',
      (error) => `error: ${error && error.message}`,
    );
  window.groupMembers = (name, id) =>
    window.groups[`${name}/${id}`].getMembers().then(
      (connections) => connections.map((c) => c.getEndpoint().id).sort(),
      (error) => `error: ${error && error.message}`,
    );
  window.groupLeave = (name, id) =>
    window.groups[`${name}/${id}`].leave().then(
      () => 'ok',
      (error) => `error: ${error && error.message}`,
    );
  // getEndpoint without skipPresence registers a presence observer (post /v1/presenceobservers).
  window.observe = (name, id) => {
    window.clients[name].getEndpoint({
      id,
      onPresence: (evt) => record(name, { name: 'presence', of: id, presence: evt.presence }),
    });
    return true;
  };
  window.presenceOf = (name, id) => {
    const endpoint = window.clients[name].getEndpoint({ id, skipPresence: true });
    return endpoint.presence;
  };
  window.setPresence = (name, presence) =>
    window.clients[name].setPresence({ presence }).then(
      () => 'ok',
      (error) => `error: ${error && error.message}`,
    );
  window.find = (name, predicate) => window.events[name].filter(predicate);
  window.connectClient = (name, params) =>
    window.clients[name].connect(params).then(
      () => 'ok',
      (error) => `error: ${error && error.message}`,
    );
  window.disconnectClient = (name) =>
    window.clients[name].disconnect().then(
      () => 'ok',
      (error) => `error: ${error && error.message}`,
    );
  window.sendMessage = (name, to, text) =>
    window.clients[name].getEndpoint({ id: to }).sendMessage({ message: text }).then(
      () => 'ok',
      (error) => `error: ${error && error.message}`,
    );
  window.count = (name, eventName) => window.events[name].filter((e) => e.name === eventName).length;
}

// ---------------------------------------------------------------------------------------------
// The checks

async function main() {
  const appUrl = opts.server
    ? (await spawnServer(opts.server, { verbose: opts.verbose })).appUrl
    : opts.app.replace(/\/$/, '');
  const config = (await http('GET', `${appUrl}/api/config`)).json;
  assert(config && config.respokeBaseUrl && config.appId, `no /api/config at ${appUrl}`);
  const baseURL = config.respokeBaseUrl;
  const appId = config.appId;
  console.log(`respoke.js 1.56.0 compatibility check against ${baseURL} (app server ${appUrl})`);

  const stats = async (endpointId) =>
    (await http('GET', `${baseURL}/dev/stats?endpointId=${encodeURIComponent(endpointId)}`)).json;
  const drop = async (endpointId) => (await http('POST', `${baseURL}/dev/drop`, { body: { endpointId } })).json;
  await http('POST', `${baseURL}/dev/reset`, { body: {} });

  // Brokered tokens: log in as a test user on the app server, then ask it for tokens.
  const brokeredUser = `test${30 + Math.floor(Math.random() * 10) + 1}@example.com`;
  const login = await http('POST', `${appUrl}/api/login`, { body: { username: brokeredUser, password: 'test' } });
  assert(login.status === 200, `login failed: ${login.status} ${login.text}`);
  const cookie = (login.headers.get('set-cookie') || '').split(';')[0];
  const freshToken = async () => {
    const reply = await http('POST', `${appUrl}/api/tokens`, { body: { endpointId: brokeredUser }, headers: { Cookie: cookie } });
    assert(reply.status === 200 && reply.json && reply.json.token, `token request failed: ${reply.status} ${reply.text}`);
    return reply.json.token;
  };
  const before = await stats(brokeredUser);

  const bundle = await bundleRespoke();
  const pageUrl = await startStaticServer({
    '/': ['text/html', '<!doctype html><meta charset="utf-8"><title>respoke.js compat</title>'
      + '<script src="/respoke.js"></script><body>respoke.js 1.56.0 compat page</body>'],
    '/respoke.js': ['text/javascript', bundle],
  });
  const browser = await launchChromium(opts);
  const page = await browser.newPage();
  const consoleLines = [];
  page.on('console', (msg) => {
    consoleLines.push(`[${msg.type()}] ${msg.text()}`);
    if (opts.verbose) console.log(`  page ${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (error) => consoleLines.push(`[pageerror] ${error.message}`));
  await page.goto(pageUrl);
  await page.waitForFunction(() => typeof window.respoke === 'object' && typeof window.respoke.createClient === 'function');
  await page.evaluate(installHarness);
  await page.evaluate(() => window.respoke.log.setLevel('warn'));
  const version = await page.evaluate(() => window.respoke.version);
  await check('respoke.js bundle loads in Chromium', async () => {
    assert(version === '1.56.0', `version ${version}`);
    return `respoke.version ${version}`;
  });

  const count = (name, eventName) => page.evaluate(([n, e]) => window.count(n, e), [name, eventName]);
  const waitEvents = (name, eventName, n) =>
    waitFor(`${n} '${eventName}' event(s) on ${name}`, async () => (await count(name, eventName)) >= n);

  // ---- Brokered mode ----
  await page.evaluate(([settings]) => window.makeClient('brokered', settings), [{ appId, baseURL, developmentMode: false, reconnect: false }]);
  let brokeredUp = await check('brokered: connect with a tokenId from the app server', async () => {
    const token = await freshToken();
    const result = await page.evaluate(([t]) => window.connectClient('brokered', { token: t }), [token]);
    assert(result === 'ok', result);
    await waitEvents('brokered', 'connect', 1);
    const s = await stats(brokeredUser);
    assert(s.liveSockets === 1, `liveSockets ${s.liveSockets}`);
    assert(s.lastTokenIds.includes(token), 'tokenId not among the exchanged ones');
    return `endpoint ${brokeredUser}`;
  });

  if (brokeredUp) {
    await check('brokered: /dev/drop fires disconnect', async () => {
      const dropped = await drop(brokeredUser);
      assert(dropped.dropped === 1, `dropped ${JSON.stringify(dropped)}`);
      await waitEvents('brokered', 'disconnect', 1);
      await waitFor('liveSockets 0', async () => (await stats(brokeredUser)).liveSockets === 0);
    });
    brokeredUp = await check('brokered: connect again with a fresh tokenId', async () => {
      const token = await freshToken();
      const result = await page.evaluate(([t]) => window.connectClient('brokered', { token: t }), [token]);
      assert(result === 'ok', result);
      await waitEvents('brokered', 'connect', 2);
      const s = await stats(brokeredUser);
      assert(s.liveSockets === 1, `liveSockets ${s.liveSockets}`);
      assert(s.exchangesAccepted - before.exchangesAccepted === 2, `exchangesAccepted +${s.exchangesAccepted - before.exchangesAccepted}`);
      assert(s.exchangesRejectedUsed === before.exchangesRejectedUsed, 'a spent tokenId was offered again');
    });
  }

  // ---- Development mode ----
  const devUser = `respoke-js-dev-${Date.now()}@example.com`;
  await page.evaluate(([settings]) => window.makeClient('dev', settings), [{ appId, baseURL, developmentMode: true, endpointId: devUser, reconnect: false }]);
  const devUp = await check('development mode: connect (respoke.js mints its own token)', async () => {
    const result = await page.evaluate(() => window.connectClient('dev', {}));
    assert(result === 'ok', result);
    await waitEvents('dev', 'connect', 1);
    const s = await stats(devUser);
    assert(s.tokensIssued === 1 && s.liveSockets === 1, JSON.stringify(s));
  });

  if (devUp && brokeredUp) {
    await check('message from the development-mode client reaches the brokered client', async () => {
      const text = `hello from ${devUser}`;
      const result = await page.evaluate(([to, t]) => window.sendMessage('dev', to, t), [brokeredUser, text]);
      assert(result === 'ok', result);
      const got = await waitFor('message event', () =>
        page.evaluate(() => window.events.brokered.find((e) => e.name === 'message')));
      assert(got.text === text, `text ${JSON.stringify(got.text)}`);
      assert(got.from === devUser, `from ${got.from}`);
    });

    await check('message from the brokered client reaches the development-mode client', async () => {
      const text = `hello back from ${brokeredUser}`;
      const result = await page.evaluate(([to, t]) => window.sendMessage('brokered', to, t), [devUser, text]);
      assert(result === 'ok', result);
      const got = await waitFor('message event on dev', () =>
        page.evaluate((t) => window.events.dev.find((e) => e.name === 'message' && e.text === t), text));
      assert(got.from === brokeredUser, `from ${got.from}`);
      assert(got.group === null, 'a 1:1 message came with a group');
      const s = await stats(brokeredUser);
      assert(s.messagesSent >= 1 && s.messagesDelivered >= 1, JSON.stringify(s));
    });

    await check('presence: the brokered client observes the development-mode client', async () => {
      await page.evaluate((id) => window.observe('brokered', id), devUser);
      const result = await page.evaluate(() => window.setPresence('dev', 'available'));
      assert(result === 'ok', result);
      await waitFor('dev seen available', async () =>
        (await page.evaluate((id) => window.presenceOf('brokered', id), devUser)) === 'available');
      const away = await page.evaluate(() => window.setPresence('dev', 'away'));
      assert(away === 'ok', away);
      await waitFor('dev seen away', async () =>
        (await page.evaluate((id) => window.presenceOf('brokered', id), devUser)) === 'away');
      return 'available, then away';
    });

    await check('groups: join events, group.sendMessage (pubsub), getMembers, leave', async () => {
      const group = `compat group ${Date.now()}`; // a space: percent-encoded in the URLs
      let result = await page.evaluate((g) => window.joinGroup('brokered', g), group);
      assert(result === 'ok', `brokered join: ${result}`);
      result = await page.evaluate((g) => window.joinGroup('dev', g), group);
      assert(result === 'ok', `dev join: ${result}`);
      // The brokered member hears of the development-mode client's connection joining.
      await waitFor('group-join of dev on brokered', () => page.evaluate(([g, id]) =>
        window.find('brokered', (e) => e.name === 'group-join' && e.group === g && e.endpointId === id).length > 0,
      [group, devUser]));
      const members = await page.evaluate((g) => window.groupMembers('dev', g), group);
      assert(Array.isArray(members), `getMembers: ${members}`);
      assert(JSON.stringify(members) === JSON.stringify([brokeredUser, devUser].sort()), `members ${JSON.stringify(members)}`);
      // A group message, as Group#message and Client#message (with the group).
      const text = `to the group from ${devUser}`;
      result = await page.evaluate(([g, t]) => window.groupSend('dev', g, t), [group, text]);
      assert(result === 'ok', `sendMessage: ${result}`);
      const got = await waitFor('group-message on brokered', () => page.evaluate(([g, t]) =>
        window.find('brokered', (e) => e.name === 'group-message' && e.group === g && e.text === t)[0], [group, text]));
      assert(got.from === devUser, `from ${got.from}`);
      await waitFor('client message with group on brokered', () => page.evaluate(([g, t]) =>
        window.find('brokered', (e) => e.name === 'message' && e.group === g && e.text === t).length > 0, [group, text]));
      const echoed = await page.evaluate(([g, t]) =>
        window.find('dev', (e) => e.name === 'group-message' && e.text === t).length, [group, text]);
      assert(echoed === 0, 'the publisher got its own group message');
      // Leaving: the other member hears of it.
      result = await page.evaluate((g) => window.groupLeave('dev', g), group);
      assert(result === 'ok', `leave: ${result}`);
      await waitFor('group-leave of dev on brokered', () => page.evaluate(([g, id]) =>
        window.find('brokered', (e) => e.name === 'group-leave' && e.group === g && e.endpointId === id).length > 0,
      [group, devUser]));
      const left = await page.evaluate((g) => window.groupMembers('brokered', g), group);
      assert(JSON.stringify(left) === JSON.stringify([brokeredUser]), `members after leave ${JSON.stringify(left)}`);
      const errors = await page.evaluate(() => window.events.brokered.filter((e) => e.name === 'error').length
        + window.events.dev.filter((e) => e.name === 'error').length);
      assert(errors === 0, `${errors} error event(s)`);
      return `group ${JSON.stringify(group)}`;
    });
  }

  if (devUp) {
    await check('development mode: /dev/drop fires disconnect, connect again mints a new token', async () => {
      await drop(devUser);
      await waitEvents('dev', 'disconnect', 1);
      const result = await page.evaluate(() => window.connectClient('dev', {}));
      assert(result === 'ok', result);
      await waitEvents('dev', 'connect', 2);
      const s = await stats(devUser);
      assert(s.tokensIssued === 2 && s.exchangesAccepted === 2 && s.liveSockets === 1, JSON.stringify(s));
    });
    if (brokeredUp) {
      await check('presence: the dropped connection is reported unavailable, the new one restores presence', async () => {
        // respoke.js re-sends its last presence ('away') on connect; the dropped connection
        // must have been reported unavailable.
        const view = () => page.evaluate((id) => {
          const endpoint = window.clients.brokered.getEndpoint({ id, skipPresence: true });
          return {
            resolved: endpoint.presence,
            current: window.clients.dev.connectionId,
            connections: endpoint.connections.map((c) => ({ id: c.id, presence: c.presence })),
          };
        }, devUser);
        const seen = await waitFor('the observer\'s view of dev', async () => {
          const v = await view();
          const current = v.connections.find((c) => c.id === v.current);
          const dropped = v.connections.filter((c) => c.id !== v.current);
          return current && current.presence === 'away' && dropped.length > 0
            && dropped.every((c) => c.presence === 'unavailable') ? v : null;
        });
        assert(seen.resolved === 'away', `resolved ${seen.resolved}`);
        return `${seen.connections.length} connections seen`;
      });
    }
    await check('development mode: clean disconnect', async () => {
      const before = await count('dev', 'disconnect');
      const result = await page.evaluate(() => window.disconnectClient('dev'));
      assert(result === 'ok', result);
      await waitEvents('dev', 'disconnect', before + 1);
      await waitFor('dev liveSockets 0', async () => (await stats(devUser)).liveSockets === 0);
      const s = await stats(devUser);
      assert(s.sessionTokensDeleted === 1, `sessionTokensDeleted ${s.sessionTokensDeleted}`);
    });
  }

  if (brokeredUp) {
    await check('brokered: clean disconnect (delete connection, DELETE session-tokens, close)', async () => {
      const disconnectsBefore = await count('brokered', 'disconnect');
      const result = await page.evaluate(() => window.disconnectClient('brokered'));
      assert(result === 'ok', result);
      await waitEvents('brokered', 'disconnect', disconnectsBefore + 1);
      await waitFor('liveSockets 0', async () => (await stats(brokeredUser)).liveSockets === 0);
      const s = await stats(brokeredUser);
      assert(s.sessionTokensDeleted - before.sessionTokensDeleted === 1, `sessionTokensDeleted +${s.sessionTokensDeleted - before.sessionTokensDeleted}`);
      assert(s.connectionsDeleted - before.connectionsDeleted >= 1, 'no delete /v1/connections');
    });
  }

  await check('no uncaught exception or respoke.js error log in the page', async () => {
    // A push event of the wrong shape shows up here: respoke.js's socket handlers throw, or
    // log an error (e.g. "Can't add endpoint to group").
    const bad = consoleLines.filter((line) => line.startsWith('[pageerror]')
      || (line.startsWith('[error]') && line.includes('[Respoke]')));
    assert(bad.length === 0, bad.slice(0, 3).join(' | '));
  });

  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0 && consoleLines.length > 0) {
    console.log('\npage console (last 40 lines):');
    for (const line of consoleLines.slice(-40)) console.log(`  ${line}`);
  }
}

await run('respoke.js 1.56.0 compat', main);
