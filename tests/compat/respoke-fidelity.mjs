#!/usr/bin/env node
// Fidelity check: the flows respoke.js 1.56.0's and respoke-admin 1.9.0's own authors tested,
// against respoke-devserver, in Debian's Chromium (fake media devices) and in Node.
//
//   npm --prefix tests/compat ci
//   node tests/compat/respoke-fidelity.mjs --server target/debug/respoke-devserver
//
// Spawns two servers: the built-in demo config, and one with a [turn] section (a config file
// written to a temporary directory). Checks:
// - respoke-admin in Node: admin session (Admin-Token), the app, a role created with group
//   permissions, a token minted for it (with the Admin-Token and with the App-Secret),
//   respoke.js in the page connects with it and the role's permissions hold (join yes,
//   publish no), the role is deleted (then 404 "Object 'Roles' not found.").
// - respoke-admin in the page (its Node-only modules shimmed, see lib.mjs): the same flow
//   cross-origin, so every request passes the CORS preflight with admin-token, app-secret,
//   app-token and respoke-sdk; a header the server does not allow is refused (control).
// - presence: observing an endpoint that is in a group with you leaves it a member
//   (`group.connections`, `getMembers`, no `leave`), and `endpoint.listen('presence')`
//   fires only when its presence really changes; a member with a presence set is pushed.
// - calls: an audio call to an endpoint with two connections; one answers, the other hangs
//   up by itself within 2 s (the `connected` signal reaches it); the call connects, then
//   hangs up cleanly.
// - TURN: respoke.js's getTurnCredentials yields the configured URIs with coturn REST-API
//   credentials (checked against an HMAC computed here), Chromium accepts them; without
//   [turn] the answer is an empty list.
// Prints PASS/FAIL per check and a summary; exits 1 on any failure.

import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import {
  assert, bundleRespoke, bundleRespokeAdmin, check, http, launchChromium, onCleanUp, results, run,
  sleep, spawnServer, startStaticServer, waitFor,
} from './lib.mjs';

const require = createRequire(import.meta.url);
const RespokeAdmin = require('respoke-admin');

const { values: opts } = parseArgs({
  options: {
    server: { type: 'string' }, // path of a respoke-devserver binary to spawn on free ports
    chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
    headed: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});

const TURN_SECRET = 'compat-turn-secret';
const TURN_URI = 'turn:127.0.0.1:3478?transport=udp';
const TURN_TTL = 3600;
const TURN_APP_ID = 'C0FFEE00-1111-4222-8333-444455556666';

// Installed in the page: respoke.js clients by name and what they saw.
function installHarness() {
  window.clients = {};
  window.events = {};
  window.groups = {};
  window.calls = {};
  const record = (name, entry) => window.events[name].push({ ...entry, at: Date.now() });
  window.makeClient = (name, settings) => {
    const client = window.respoke.createClient(settings);
    window.clients[name] = client;
    window.events[name] = [];
    for (const eventName of ['connect', 'disconnect', 'error']) {
      client.listen(eventName, () => record(name, { name: eventName }));
    }
    return true;
  };
  const settle = (promise) => promise.then(() => 'ok', (error) => `error: ${error && error.message}`);
  window.connectClient = (name, params) => settle(window.clients[name].connect(params));
  window.disconnectClient = (name) => settle(window.clients[name].disconnect());
  window.setPresence = (name, presence) => settle(window.clients[name].setPresence({ presence }));
  window.joinGroup = (name, id) =>
    window.clients[name].join({
      id,
      onJoin: (evt) => record(name, {
        name: 'group-join', group: id, endpointId: evt.connection.getEndpoint().id, connectionId: evt.connection.id,
      }),
      onLeave: (evt) => record(name, {
        name: 'group-leave', group: id, endpointId: evt.connection.getEndpoint().id, connectionId: evt.connection.id,
      }),
    }).then((group) => {
      window.groups[`${name}/${id}`] = group;
      return 'ok';
    }, (error) => `error: ${error && error.message}`);
  window.groupSend = (name, id, text) => settle(window.groups[`${name}/${id}`].sendMessage({ message: text }));
  window.groupMembers = (name, id) =>
    window.groups[`${name}/${id}`].getMembers().then(
      (connections) => connections.map((c) => c.getEndpoint().id).sort(),
      (error) => `error: ${error && error.message}`,
    );
  // The group's own cache, as respoke.js keeps it between getMembers calls.
  window.cachedMembers = (name, id) => window.groups[`${name}/${id}`].connections.map((c) => c.id).sort();
  // Observes `id` as an app does (client.getEndpoint, a presence listener on the endpoint),
  // and resolves once the server acked the observer request (the same batched request).
  window.observe = (name, id) => {
    const client = window.clients[name];
    const endpoint = client.getEndpoint({ id });
    endpoint.listen('presence', (evt) => record(name, { name: 'presence', of: id, presence: evt.presence }));
    return settle(client.signalingChannel.registerPresence({ endpointList: [id] }));
  };
  window.find = (name, predicate) => window.events[name].filter(predicate);
  // Calls: the callee side answers when told to; every call event is recorded.
  window.recordCalls = (name, { answer }) => {
    window.clients[name].listen('call', (evt) => {
      const call = evt.call;
      window.calls[name] = call;
      record(name, { name: 'call', caller: call.caller, from: evt.endpoint.id });
      for (const callEvent of ['answer', 'connect', 'hangup']) {
        call.listen(callEvent, () => record(name, { name: `call-${callEvent}` }));
      }
      if (answer && !call.caller) {
        record(name, { name: 'answering' });
        call.answer({ constraints: { audio: true, video: false } });
      }
    });
  };
  window.startCall = (name, endpointId) => {
    const call = window.clients[name].startAudioCall({ endpointId });
    window.calls[name] = call;
    for (const callEvent of ['connect', 'hangup']) {
      call.listen(callEvent, () => record(name, { name: `call-${callEvent}` }));
    }
    return true;
  };
  window.hangup = (name) => {
    window.calls[name].hangup();
    return true;
  };
  window.turnCredentials = (name) =>
    window.clients[name].signalingChannel.getTurnCredentials().then(
      (servers) => ({ servers }),
      (error) => ({ error: error && error.message }),
    );
  // Whether Chromium accepts respoke.js's ICE server objects (`url`, `username`, `credential`).
  window.peerConnectionAccepts = (servers) => {
    try {
      const pc = new RTCPeerConnection({ iceServers: servers });
      pc.close();
      return 'ok';
    } catch (error) {
      return `error: ${error.message}`;
    }
  };
}

async function main() {
  assert(opts.server, '--server PATH is required (this check spawns its own servers)');
  const demo = await spawnServer(opts.server, { verbose: opts.verbose });
  const config = (await http('GET', `${demo.appUrl}/api/config`)).json;
  assert(config && config.respokeBaseUrl && config.appId, `no /api/config at ${demo.appUrl}`);
  const baseURL = config.respokeBaseUrl;
  const { appId } = config;
  const printed = demo.stdout();
  const adminMatch = printed.match(/demo admin:\s+(\S+) \/ (\S+)/);
  const secretMatch = printed.match(/app secret:\s+(\S+)/);
  assert(adminMatch && secretMatch, `no demo admin or app secret in the start-up text:\n${printed}`);
  const [, adminName, adminPassword] = adminMatch;
  const appSecret = secretMatch[1];

  const dir = mkdtempSync(join(tmpdir(), 'respoke-fidelity-'));
  onCleanUp(() => rmSync(dir, { recursive: true, force: true }));
  const turnConfig = join(dir, 'turn.toml');
  writeFileSync(turnConfig, [
    '[[apps]]', `id = "${TURN_APP_ID}"`, 'secret = "turn-app-secret"', 'development_mode = true', '',
    '[turn]', `uris = ["${TURN_URI}"]`, `secret = "${TURN_SECRET}"`, `ttl = ${TURN_TTL}`, '',
  ].join('\n'));
  const turnServer = await spawnServer(opts.server, { extraArgs: ['--config', turnConfig], verbose: opts.verbose });
  const turnBaseURL = (await http('GET', `${turnServer.appUrl}/api/config`)).json.respokeBaseUrl;
  console.log(`respoke.js 1.56.0 / respoke-admin 1.9.0 fidelity check against ${baseURL} (and ${turnBaseURL} with [turn])`);

  const [respokeBundle, adminBundle] = await Promise.all([bundleRespoke(), bundleRespokeAdmin()]);
  const pageUrl = await startStaticServer({
    '/': ['text/html', '<!doctype html><meta charset="utf-8"><title>respoke fidelity</title>'
      + '<script src="/respoke.js"></script><script src="/respoke-admin.js"></script><body>fidelity</body>'],
    '/respoke.js': ['text/javascript', respokeBundle],
    '/respoke-admin.js': ['text/javascript', adminBundle],
  });
  const browser = await launchChromium(opts, [
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--autoplay-policy=no-user-gesture-required',
  ]);
  const page = await browser.newPage();
  const consoleLines = [];
  page.on('console', (msg) => {
    consoleLines.push(`[${msg.type()}] ${msg.text()}`);
    if (opts.verbose) console.log(`  page ${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (error) => {
    consoleLines.push(`[pageerror] ${error.message}`);
    if (opts.verbose) console.log(`  page error: ${error.stack || error}`);
  });
  await page.goto(pageUrl);
  await page.waitForFunction(() => typeof window.respoke === 'object' && typeof window.RespokeAdmin === 'function');
  await page.evaluate(installHarness);
  await page.evaluate(() => window.respoke.log.setLevel('warn'));

  const evaluate = (fn, arg) => page.evaluate(fn, arg);
  const find = (name, predicate) => evaluate(([n, p]) => window.find(n, new Function('e', `return ${p}`)), [name, predicate]);
  const waitEvent = (name, predicate, timeoutMs) =>
    waitFor(`${name}: ${predicate}`, async () => (await find(name, predicate))[0], timeoutMs);
  const unique = (prefix) => `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
  const devClient = async (name, endpointId, url = baseURL, app = appId) => {
    await evaluate(([n, s]) => window.makeClient(n, s), [name, { appId: app, baseURL: url, developmentMode: true, endpointId, reconnect: false }]);
    const result = await evaluate((n) => window.connectClient(n, {}), name);
    assert(result === 'ok', `${name} connect: ${result}`);
    await waitEvent(name, "e.name === 'connect'");
  };

  // ---- respoke-admin 1.9.0 in Node ----
  await check('respoke-admin in Node: admin session, app, role, tokens for it, respoke.js connects with its permissions, role deleted', async () => {
    const admin = new RespokeAdmin({ baseURL: `${baseURL}/v1` });
    const session = await admin.auth.admin({ username: adminName, password: adminPassword });
    assert(typeof session.token === 'string' && admin.tokens['Admin-Token'] === session.token, 'no Admin-Token');
    const wrong = await new RespokeAdmin({ baseURL: `${baseURL}/v1` })
      .auth.admin({ username: adminName, password: 'not the password' }).then(() => null, (e) => e);
    assert(wrong && wrong.res && wrong.res.statusCode === 401, `wrong password: ${wrong && wrong.message}`);
    const app = await admin.apps.get({ appId });
    assert(app.id === appId && app.developmentMode === true && typeof app.name === 'string', `app ${JSON.stringify(app)}`);
    const apps = await admin.apps.get();
    assert(Array.isArray(apps) && apps.some((a) => a.id === appId), `apps ${JSON.stringify(apps)}`);
    const name = `compat-role-${Date.now()}`;
    const role = await admin.roles.create({
      appId, name, mediaRelay: false, events: { subscribe: false, unsubscribe: false },
      groups: { list: true, '*': { create: true, subscribe: true, unsubscribe: true, getsubscribers: true, publish: false } },
    });
    assert(typeof role.id === 'string' && role.appId === appId && role.name === name, `role ${JSON.stringify(role)}`);
    const roles = await admin.roles.get({ appId });
    assert(roles.some((r) => r.id === role.id && r.name === name), 'the new role is not listed');
    const one = await admin.roles.get({ appId, roleId: role.id });
    assert(one.id === role.id && one.groups['*'].publish === false, `role by id ${JSON.stringify(one)}`);
    // A token for the role, with the Admin-Token; another with the App-Secret (app server style).
    const endpointId = unique('admin-node');
    const minted = await admin.auth.endpoint({ appId, endpointId, roleId: role.id });
    assert(minted.tokenId && minted.roleId === role.id, `minted ${JSON.stringify(minted)}`);
    const appServer = new RespokeAdmin({ baseURL: `${baseURL}/v1`, appId, 'App-Secret': appSecret });
    const minted2 = await appServer.auth.endpoint({ endpointId, roleId: role.id });
    assert(minted2.tokenId && minted2.tokenId !== minted.tokenId, 'no second tokenId');
    // respoke.js in the page connects with it (brokered), and the role's permissions hold.
    await evaluate(([s]) => window.makeClient('node-role', s), [{ appId, baseURL, developmentMode: false, reconnect: false }]);
    let result = await evaluate(([t]) => window.connectClient('node-role', { token: t }), [minted.tokenId]);
    assert(result === 'ok', `connect: ${result}`);
    const group = `role group ${Date.now()}`;
    result = await evaluate(([g]) => window.joinGroup('node-role', g), [group]);
    assert(result === 'ok', `join (subscribe + create allowed): ${result}`);
    result = await evaluate(([g]) => window.groupSend('node-role', g, 'not allowed'), [group]);
    assert(/Permission denied/.test(result), `publish without the permission: ${result}`);
    await admin.roles.delete({ roleId: role.id });
    const gone = await admin.roles.get({ appId, roleId: role.id }).then(() => null, (e) => e);
    assert(gone && gone.res.statusCode === 404 && gone.res.body.error === "Object 'Roles' not found.",
      `after delete: ${gone && JSON.stringify(gone.res)}`);
    const refused = await admin.auth.endpoint({ appId, endpointId, roleId: role.id }).then(() => null, (e) => e);
    assert(refused && refused.res.statusCode === 404, 'minted for a deleted role');
    result = await evaluate(() => window.disconnectClient('node-role'));
    assert(result === 'ok', `disconnect: ${result}`);
    return `role ${role.id}`;
  });

  // ---- respoke-admin 1.9.0 in the page ----
  await check('respoke-admin in the page (cross-origin): admin session, role, token, respoke.js connects, role deleted; CORS allows admin-token', async () => {
    const outcome = await evaluate(async ([url, app, user, password]) => {
      const admin = new window.RespokeAdmin({ baseURL: `${url}/v1` });
      await admin.auth.admin({ username: user, password });
      const got = await admin.apps.get({ appId: app });
      const role = await admin.roles.create({ appId: app, name: `page-role-${Date.now()}`, groups: { '*': { subscribe: true } } });
      const listed = (await admin.roles.get({ appId: app })).some((r) => r.id === role.id);
      const endpointId = `admin-page-${Date.now()}@example.com`;
      const minted = await admin.auth.endpoint({ appId: app, endpointId, roleId: role.id });
      window.makeClient('page-role', { appId: app, baseURL: url, developmentMode: false, reconnect: false });
      const connected = await window.connectClient('page-role', { token: minted.tokenId });
      await admin.roles.delete({ roleId: role.id });
      const gone = await admin.roles.get({ appId: app, roleId: role.id }).then(() => 'still there', (e) => e.res && e.res.statusCode);
      const disconnected = await window.disconnectClient('page-role');
      // Control: a request header the server does not allow fails the preflight.
      const control = await fetch(`${url}/v1/apps/${app}`, { headers: { 'X-Not-Allowed': '1' } })
        .then((r) => `status ${r.status}`, (e) => `refused: ${e.name}`);
      return { app: got.id, listed, roleId: minted.roleId === role.id, connected, gone, disconnected, control };
    }, [baseURL, appId, adminName, adminPassword]);
    assert(outcome.app === appId, `app ${outcome.app}`);
    assert(outcome.listed && outcome.roleId, JSON.stringify(outcome));
    assert(outcome.connected === 'ok' && outcome.disconnected === 'ok', JSON.stringify(outcome));
    assert(outcome.gone === 404, `after delete: ${outcome.gone}`);
    assert(/^refused/.test(outcome.control), `the CORS control passed: ${outcome.control}`);
    return 'every SDK request passed the preflight; X-Not-Allowed did not';
  });

  // ---- Presence after observing a group member ----
  await check('presence: observing a group member keeps it in the group; presence listeners fire on real changes only', async () => {
    const watcher = unique('watcher');
    const member = unique('member');
    const away = unique('away');
    await devClient('watcher', watcher);
    await devClient('member', member);
    await devClient('away', away);
    let result = await evaluate(() => window.setPresence('away', 'away'));
    assert(result === 'ok', `setPresence: ${result}`);
    const group = `presence group ${Date.now()}`;
    for (const name of ['watcher', 'member', 'away']) {
      result = await evaluate(([n, g]) => window.joinGroup(n, g), [name, group]);
      assert(result === 'ok', `${name} join: ${result}`);
    }
    await waitFor('watcher sees both members join', async () =>
      (await find('watcher', `e.name === 'group-join' && e.endpointId !== ${JSON.stringify(watcher)}`)).length >= 2);
    const memberConnection = await evaluate(() => window.clients.member.connectionId);
    const before = await evaluate(([g]) => window.cachedMembers('watcher', g), [group]);
    assert(before.includes(memberConnection), `member not cached before observing: ${before}`);
    // Observe both (respoke.js: client.getEndpoint + endpoint.listen('presence')).
    for (const id of [member, away]) {
      result = await evaluate(([i]) => window.observe('watcher', i), [id]);
      assert(result === 'ok', `observe ${id}: ${result}`);
    }
    // The member with a presence set is pushed...
    await waitEvent('watcher', `e.name === 'presence' && e.of === ${JSON.stringify(away)} && e.presence === 'away'`);
    await sleep(500);
    // ...the one without is not reported as gone.
    const early = await find('watcher', `e.name === 'presence' && e.of === ${JSON.stringify(member)}`);
    assert(early.length === 0, `presence listener fired before any change: ${JSON.stringify(early)}`);
    const leaves = await find('watcher', "e.name === 'group-leave'");
    assert(leaves.length === 0, `spurious leave: ${JSON.stringify(leaves)}`);
    const cached = await evaluate(([g]) => window.cachedMembers('watcher', g), [group]);
    assert(cached.includes(memberConnection), `member dropped from the group's cache: ${cached}`);
    const members = await evaluate(([g]) => window.groupMembers('watcher', g), [group]);
    assert(JSON.stringify(members) === JSON.stringify([watcher, member, away].sort()), `getMembers ${JSON.stringify(members)}`);
    // A real change fires the listener, once.
    result = await evaluate(() => window.setPresence('member', 'available'));
    assert(result === 'ok', `setPresence: ${result}`);
    await waitEvent('watcher', `e.name === 'presence' && e.of === ${JSON.stringify(member)} && e.presence === 'available'`);
    await sleep(300);
    const fired = await find('watcher', `e.name === 'presence' && e.of === ${JSON.stringify(member)}`);
    assert(fired.length === 1, `listener fired ${fired.length} times`);
    for (const name of ['watcher', 'member', 'away']) await evaluate((n) => window.disconnectClient(n), name);
    return 'away pushed, the other member kept, one listener call on the change';
  });

  // ---- A call to an endpoint with two connections ----
  await check('call: one of the callee\'s two connections answers, the other hangs up by itself within 2 s', async () => {
    const caller = unique('caller');
    const callee = unique('callee');
    await devClient('caller', caller);
    await devClient('callee1', callee);
    await devClient('callee2', callee);
    await evaluate(() => {
      window.recordCalls('callee1', { answer: true });
      window.recordCalls('callee2', { answer: false });
      return true;
    });
    await evaluate(([to]) => window.startCall('caller', to), [callee]);
    const rang = await Promise.all(['callee1', 'callee2'].map((n) => waitEvent(n, "e.name === 'call'")));
    assert(rang.every((e) => e.from === caller && e.caller === false), JSON.stringify(rang));
    const answered = await waitEvent('callee1', "e.name === 'answering'");
    const lost = await waitEvent('callee2', "e.name === 'call-hangup'", 5_000);
    const delay = lost.at - answered.at;
    assert(delay >= 0 && delay <= 2_000, `the losing connection hung up ${delay} ms after the answer`);
    await waitEvent('caller', "e.name === 'call-connect'", 15_000);
    await waitEvent('callee1', "e.name === 'call-connect'", 15_000);
    const winnerHungUp = await find('callee1', "e.name === 'call-hangup'");
    assert(winnerHungUp.length === 0, 'the answering connection hung up');
    await evaluate(() => window.hangup('caller'));
    await waitEvent('callee1', "e.name === 'call-hangup'");
    for (const name of ['caller', 'callee1', 'callee2']) await evaluate((n) => window.disconnectClient(n), name);
    return `loser hung up ${delay} ms after the answer; media connected`;
  });

  // ---- TURN credentials ----
  await check('TURN: respoke.js receives the configured URIs with coturn REST-API credentials; none configured: an empty list', async () => {
    const endpointId = unique('turn');
    await devClient('turn', endpointId, turnBaseURL, TURN_APP_ID);
    const before = Math.floor(Date.now() / 1000);
    const got = await evaluate(() => window.turnCredentials('turn'));
    assert(got.servers && got.servers.length === 1, `getTurnCredentials: ${JSON.stringify(got)}`);
    const [server] = got.servers;
    const url = server.url || (Array.isArray(server.urls) ? server.urls[0] : server.urls);
    assert(url === TURN_URI, `uri ${url}`);
    const [expiry, user] = [server.username.slice(0, server.username.indexOf(':')), server.username.slice(server.username.indexOf(':') + 1)];
    assert(user === endpointId, `username ${server.username}`);
    assert(Number(expiry) >= before + TURN_TTL && Number(expiry) <= before + TURN_TTL + 5, `expiry ${expiry}`);
    const expected = createHmac('sha1', TURN_SECRET).update(server.username).digest('base64');
    assert(server.credential === expected, `credential ${server.credential}, expected ${expected}`);
    const accepted = await evaluate((servers) => window.peerConnectionAccepts(servers), got.servers);
    assert(accepted === 'ok', `Chromium refuses respoke.js's ICE servers: ${accepted}`);
    await evaluate(() => window.disconnectClient('turn'));
    // Without [turn]: an empty list of URIs (respoke.js: "Got no TURN credentials.", at debug
    // level; its calls then use the browser's default ICE configuration, as the call above did).
    await devClient('noturn', unique('noturn'));
    const none = await evaluate(() => window.turnCredentials('noturn'));
    assert(none.error === 'Got no TURN credentials.', `without [turn]: ${JSON.stringify(none)}`);
    await evaluate(() => window.disconnectClient('noturn'));
    return `username ${server.username}`;
  });

  await check('no uncaught exception or respoke.js error log in the page', async () => {
    const bad = consoleLines.filter((line) => line.startsWith('[pageerror]')
      || (line.startsWith('[error]') && line.includes('[Respoke]')));
    assert(bad.length === 0, bad.slice(0, 3).join(' | '));
  });

  if (results.some((r) => !r.ok) && consoleLines.length > 0) {
    console.log('\npage console (last 40 lines):');
    for (const line of consoleLines.slice(-40)) console.log(`  ${line}`);
  }
}

await run('respoke.js 1.56.0 / respoke-admin 1.9.0 fidelity', main);
