/**
 * The dashboard's HTTP side without a browser, on a real controller over loopback HTTP: where it is served (admin
 * listener, `uiListen`, off), bad input (one-line JSON errors, read-only, no path traversal), and the live stream's
 * aggregation: a burst of infos from 300 devices becomes at most one event per push interval, saying `many`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ControllerServer, isControllerError } from '../../../src/controller/index.js';
import type { ChangeEvent } from '../../../src/controller/ui-types.js';
import { waitFor } from '../../helpers/wait.js';

interface Answer {
  status: number;
  type: string;
  body: string;
}

function request(url: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

void describe('dashboard HTTP API', () => {
  let dir: string;
  let server: ControllerServer;
  let ui: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-ctl-ui-'));
    server = await ControllerServer.create({ dataDir: path.join(dir, 'a'), listen: '127.0.0.1:0' });
    ui = server.endpoints().uiUrl!;
  });
  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  void it('is served on the admin listener; the admin API still answers beside it', async () => {
    assert.equal(ui, `${server.endpoints().adminUrl}/ui/`);
    const page = await request(ui);
    assert.equal(page.status, 200);
    assert.match(page.type, /^text\/html/);
    assert.match(page.body, /<script type="module" src="\/ui\/assets\/app.js">/);
    const js = await request(`${ui}assets/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.type, /^text\/javascript/);
    assert.equal((await request(`${server.endpoints().adminUrl}/ui`)).status, 302);
    assert.equal((await request(`${server.endpoints().adminUrl}/admin/status`)).status, 200);
  });

  void it('bad input: one-line JSON errors naming the field, 404 for unknown ids and paths, read-only', async () => {
    const cases: [string, number, string][] = [
      ['api/fleet?limit=0', 400, 'limit: must be an integer from 1 to 500, got "0"'],
      ['api/fleet?offset=-1', 400, 'offset: must be an integer from 0 to 9007199254740991, got "-1"'],
      ['api/fleet?limit=abc', 400, 'limit: must be an integer from 1 to 500, got "abc"'],
      ['api/devices/nope', 404, 'device "nope" not found'],
      ['api/clusters/nope', 404, 'cluster "nope" not found'],
      ['api/secrets', 404, 'no dashboard API /ui/api/secrets'],
      ['api/devices/%E0%A4', 400, 'path segment "%E0%A4" is not valid percent-encoding'],
    ];
    for (const [p, status, error] of cases) {
      const r = await request(`${ui}${p}`);
      assert.equal(r.status, status, p);
      assert.deepEqual(JSON.parse(r.body), { error }, p);
    }
    for (const p of ['devices/nope', 'clusters/nope', 'elsewhere', 'devices/a/b']) {
      const r = await request(`${ui}${p}`);
      assert.equal(r.status, 404, p);
      assert.match(r.type, /^text\/html/, `${p}: the app, which says "not found"`);
    }
    assert.equal((await request(`${ui}devices/%E0%A4`)).status, 400);
    for (const p of ['assets/..%2Fui-server.js', 'assets/../../store.js', 'assets/app.ts', 'assets/.hidden.js']) {
      assert.equal((await request(`${ui}${p}`)).status, 404, p);
    }
    assert.equal((await request(`${ui}api/fleet`, 'POST')).status, 405);
    assert.equal((await request(`${ui}api/fleet`, 'DELETE')).status, 405);
  });

  void it('aggregates a burst of infos into at most one event per push interval', async () => {
    for (let i = 0; i < 300; i++) {
      server.store.addDevice({ uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, serial: `S-${i}`, onboardHashHex: null, certPem: 'P', certHashHex: `h${i}` });
    }
    const events: ChangeEvent[] = [];
    const req = http.get(`${ui}events`, { agent: false }, (res) => {
      assert.match(String(res.headers['content-type']), /^text\/event-stream/);
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (c: string) => {
        buf += c;
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (data) events.push(JSON.parse(data) as ChangeEvent);
        }
      });
    });
    try {
      // Counts are shared for one push interval: the 300 new devices show within the next one.
      await waitFor('an event counting the 300 devices', () => events.some((e) => e.summary.total === 300), 5_000, 20);
      const start = events.length;
      // 3 infos from each of 300 devices in one burst.
      const writes: Promise<unknown>[] = [];
      for (let k = 0; k < 3; k++) {
        for (let i = 0; i < 300; i++) writes.push(server.store.queueInfo(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, 'ZiDevice', { k }));
      }
      await Promise.all(writes);
      const burst = await waitFor('the burst event', () => events.slice(start).find((e) => e.ztypes.includes('ZiDevice')), 5_000, 20);
      assert.equal(burst.many, true, 'more than 200 devices: "many" instead of a list');
      assert.deepEqual(burst.devices, []);
      await new Promise((r) => setTimeout(r, 1_200));
      const after = events.slice(start).filter((e) => e.ztypes.includes('ZiDevice'));
      assert.equal(after.length, 1, '900 infos, one event');
      // One device: its UUID is named.
      await server.store.queueInfo('00000000-0000-4000-8000-000000000007', 'ZiApp', {});
      const one = await waitFor('the single-device event', () => events.find((e) => e.ztypes.includes('ZiApp')), 5_000, 20);
      assert.deepEqual([one.many, one.devices], [false, ['00000000-0000-4000-8000-000000000007']]);
    } finally {
      req.destroy();
    }
  });

  void it('uiListen: its own loopback port (the admin listener then has no /ui); ui false: none; non-loopback refused', async () => {
    const own = await ControllerServer.create({ dataDir: path.join(dir, 'b'), listen: '127.0.0.1:0', uiListen: '127.0.0.1:0' });
    try {
      const url = own.endpoints().uiUrl!;
      assert.notEqual(new URL(url).port, new URL(own.endpoints().adminUrl).port);
      assert.equal((await request(url)).status, 200);
      assert.equal((await request(`${url}api/fleet`)).status, 200);
      assert.equal((await request(`${url.replace('/ui/', '')}/admin/status`)).status, 404, 'no admin API on the dashboard port');
      assert.equal((await request(`${own.endpoints().adminUrl}/ui/`)).status, 404);
    } finally {
      await own.stop();
    }
    const off = await ControllerServer.create({ dataDir: path.join(dir, 'c'), listen: '127.0.0.1:0', ui: false });
    try {
      assert.equal(off.endpoints().uiUrl, undefined);
      assert.equal((await request(`${off.endpoints().adminUrl}/ui/`)).status, 404);
    } finally {
      await off.stop();
    }
    await assert.rejects(
      ControllerServer.create({ dataDir: path.join(dir, 'd'), listen: '127.0.0.1:0', uiListen: '0.0.0.0:0' }),
      (e) => isControllerError(e) && e.kind === 'INVALID_INPUT' && e.message === 'uiListen: 0.0.0.0 is not a loopback address',
    );
  });
});
