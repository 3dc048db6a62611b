/** Lifecycle of the embedded controller: states, idempotent stop, restart on the same data dir, bad options. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ControllerAdminClient, ControllerServer, isControllerError } from '../../../src/controller/index.js';
import { createLogger, type LogFields } from '../../../src/common/index.js';
import { Writable } from 'node:stream';

void describe('ControllerServer lifecycle', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-ctl-life-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void it('runs, stops idempotently, logs its transitions and keeps its state across restarts', async () => {
    const lines: LogFields[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as LogFields);
        cb();
      },
    });
    const logger = createLogger({ format: 'json', stream, level: 'debug' });
    const dataDir = path.join(dir, 'a');
    const s = await ControllerServer.create({ dataDir, listen: '127.0.0.1:0', logger });
    assert.equal(s.state, 'running');
    const ep = s.endpoints();
    assert.equal(new URL(ep.adminUrl).hostname, '127.0.0.1');
    assert.deepEqual(JSON.parse(await readFile(path.join(dataDir, 'controller.json'), 'utf8')), ep);
    const admin = new ControllerAdminClient(ep.adminUrl);
    await admin.addOnboard((await readFile(path.join(dataDir, 'certs/onboard.cert.pem'))).toString(), ['*']);
    const ran = s.run();
    await Promise.all([s.stop(), s.stop()]);
    await ran;
    await s.stop();
    assert.equal(s.state, 'stopped');
    await assert.rejects(access(path.join(dataDir, 'controller.json')));
    const transitions = lines.filter((l) => l.message === 'state').map((l) => `${String(l.from)}>${String(l.to)}`);
    assert.deepEqual(transitions, ['created>running', 'running>stopping', 'stopping>stopped']);
    assert.ok(lines.every((l) => typeof l.component === 'string' && l.component.startsWith('controller')));
    assert.ok(!lines.some((l) => JSON.stringify(l).includes('PRIVATE KEY')), 'no key material in logs');

    const root = await readFile(path.join(dataDir, 'certs/root-certificate.pem'));
    const again = await ControllerServer.create({ dataDir, listen: '127.0.0.1:0' });
    try {
      assert.deepEqual(await readFile(path.join(dataDir, 'certs/root-certificate.pem')), root);
      const list = await new ControllerAdminClient(again.endpoints().adminUrl).listOnboard();
      assert.deepEqual(list[0]?.serials, ['*']);
    } finally {
      await again.stop();
    }
  });

  void it('refuses bad options and a busy port, releasing what it took', async () => {
    const dataDir = path.join(dir, 'b');
    const refused = async (o: Parameters<typeof ControllerServer.create>[0], field: string): Promise<void> => {
      await assert.rejects(ControllerServer.create(o), (e: unknown) => isControllerError(e) && e.context.field === field);
    };
    await refused({ dataDir, listen: 'localhost' }, 'listen');
    await refused({ dataDir, listen: '127.0.0.1:0', adminListen: '10.0.0.1:9000' }, 'adminListen');
    await refused({ dataDir, listen: '127.0.0.1:0', infoHistory: 0 }, 'infoHistory');
    await refused({ dataDir, listen: '127.0.0.1:0', infoHistory: Number('x') }, 'infoHistory');
    await refused({ dataDir, listen: '127.0.0.1:0', durability: 'disk' as 'power' }, 'durability');
    await refused({ dataDir, listen: '127.0.0.1:0', advertise: 'bad host!' }, 'advertise');

    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      await assert.rejects(ControllerServer.create({ dataDir, listen: `127.0.0.1:${port}` }), /EADDRINUSE/);
      const ok = await ControllerServer.create({ dataDir, listen: '127.0.0.1:0', advertise: 'ctl.example.test' });
      assert.match(ok.endpoints().server, /^ctl\.example\.test:\d+$/);
      await ok.stop();
    } finally {
      busy.close();
    }
  });
});
