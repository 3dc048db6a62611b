/**
 * The dashboard in a real headless Chromium (issue 15), against the embedded controller with a real 3-node cluster
 * (3 agents, k3s stand-in on etcd, loopback) and an app designated to node 2:
 * - the cluster view shows three READY nodes, one leader, the leader's view Ready for each;
 * - a fault injected on a node (k3s stopped → the node reports DOWN) is on screen within a few seconds of the
 *   controller receiving it (pushed over /ui/events, no reload), and an update status FAILED shows with its reason;
 * - the apps view shows the designated node and the node reporting the app running;
 * - the fleet table pages and searches (60 more devices seeded into the store), by keyboard;
 * - an unknown device or cluster id gives a "not found" page (HTTP 404, no stack trace);
 * - nothing served (HTML, JS, CSS, every JSON view, the event stream) contains the cluster token, an integrity
 *   token or a private key;
 * - 1280×800 and a 390 px wide screen have no horizontal overflow. Screenshots go to test-artifacts/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { applyCluster, startNodes, type TestCluster, type TestNode } from '../helpers/cluster.js';
import { setWorkloads, waitClusterReady, waitRunningOn } from '../helpers/apps.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { waitFor } from '../helpers/wait.js';

const ARTIFACTS = path.resolve('test-artifacts');
const APP = { uuid: '6f1a0c3e-2b7d-4c1e-9a55-0d1e2f3a4b5c', name: 'web-a' };
const SEEDED = 60;

let t: TestCluster;
let browser: TestBrowser;
let page: Page;
let ui: string;
let clusterId: string;
/** Script errors and console errors of the page (CSP violations included); expected 404 loads are left out. */
const pageErrors: string[] = [];

const nodeCard = (n: TestNode): string => `li.card[data-node="edge-${n.name}"]`;

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  t = await startNodes(3, { timeScale: 10 });
  clusterId = await applyCluster(t);
  await waitClusterReady(t);
  const [, dev2] = t.nodes as [TestNode, TestNode, TestNode];
  await setWorkloads(t, { apps: [{ ...APP, designated: dev2.uuid }], volumes: [{ uuid: 'a7c1e0d2-5b3f-4e6a-8c9d-1f2e3d4c5b6a', name: 'vol-a', designated: dev2.uuid }] });
  await waitRunningOn(t, APP.uuid, dev2);
  // More devices for paging: rows as registration leaves them (no keys needed to list them).
  for (let i = 0; i < SEEDED; i++) {
    t.ctl.server.store.addDevice({
      uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      serial: `SEED-${String(i).padStart(3, '0')}`,
      onboardHashHex: null,
      certPem: '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n',
      certHashHex: `seed${i}`,
    });
  }
  ui = t.ctl.server.endpoints().uiUrl!;
  assert.ok(ui, 'the controller advertises the dashboard URL');
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 404/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
  });
});

after(async () => {
  await browser?.close();
  await t?.dispose();
});

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function noHorizontalOverflow(): Promise<void> {
  // Browser-side code as text: this file is compiled without the DOM library.
  const [scroll, client] = await page.evaluate<[number, number]>('[document.documentElement.scrollWidth, document.documentElement.clientWidth]');
  assert.ok(scroll <= client, `page wider than the screen: ${scroll} > ${client}`);
}

void describe('dashboard in Chromium', () => {
  it('cluster view: three READY nodes, one leader, the leader sees all Ready', async () => {
    await page.goto(`${ui}clusters/${clusterId}`);
    await page.locator('li.card[data-self="READY"]').nth(2).waitFor({ timeout: 60_000 });
    await waitFor('the leader listing all three Ready', async () => (await page.locator('[data-testid="leader-view"]', { hasText: 'Ready' }).count()) === 3 ? true : undefined, 60_000, 250);
    assert.equal(await page.locator('li.card').count(), 3);
    assert.equal(await page.locator('li.card[data-leader="yes"]').count(), 1, 'exactly one leader marker');
    assert.equal(await page.locator('.badge', { hasText: 'leader' }).count(), 1);
    // Text beside colour: the status words are on the page.
    assert.equal(await page.locator('[data-testid="self"]', { hasText: 'READY' }).count(), 3);
    assert.match(await page.locator('h1').innerText(), /test-cluster/);
    await noHorizontalOverflow();
    await shot('dashboard-cluster');
  });

  it('apps view: designated node and the node reporting the app running (before any fault)', async () => {
    await page.goto(`${ui}apps`);
    const row = page.locator('tr', { hasText: APP.name });
    await row.waitFor({ timeout: 10_000 });
    const cells = await row.locator('td').allInnerTexts();
    assert.equal(cells[2], 'edge-dev2', 'designated node');
    assert.equal(cells[3], 'edge-dev2', 'running on the designated node only');
    assert.equal(cells[4], 'PREFERRED');
    assert.match(await page.locator('main').innerText(), /vol-a: designated edge-dev2/);
    await shot('dashboard-apps');
  });

  it('a fault on a node shows within a few seconds of the controller receiving it, without a reload', async () => {
    await page.goto(`${ui}clusters/${clusterId}`);
    const leaderName = await page.locator('li.card[data-leader="yes"]').getAttribute('data-node', { timeout: 10_000 });
    const victim = t.nodes.find((n) => `edge-${n.name}` !== leaderName)!;
    const store = t.ctl.server.store;
    const before = Date.now();
    victim.agent.faults.inject('k3s-stopped');
    try {
      // The agent reports DOWN after 2 min spec time (12 s at scale 10); measure from the controller's receipt.
      const receivedAt = await waitFor(`${victim.name} DOWN stored by the controller`, () => {
        const r = store.latestInfos(victim.uuid).find((i) => (i.json as { cluster_node?: unknown }).cluster_node);
        const s = (r?.json as { cluster_node?: { node_status?: string } } | undefined)?.cluster_node?.node_status;
        return r && r.receivedAt >= before && s === 'Z_INFO_CLUSTER_NODE_STATUS_DOWN' ? r.receivedAt : undefined;
      }, 90_000, 50);
      await page.locator(`${nodeCard(victim)}[data-self="DOWN"]`).waitFor({ timeout: 5_000 });
      const lag = Date.now() - receivedAt;
      assert.ok(lag < 3_000, `DOWN on screen ${lag} ms after the controller received it`);
      assert.match(await page.locator(`${nodeCard(victim)} [data-testid="self"]`).innerText(), /DOWN/);
      await shot('dashboard-cluster-fault');
    } finally {
      victim.agent.faults.clear('k3s-stopped');
    }
    // An update status FAILED with its reason, in red and in words.
    store.addInfo(victim.uuid, 'ZiKubeClusterUpdateStatus', {
      ztype: 'ZiKubeClusterUpdateStatus',
      devId: victim.uuid,
      cluster_update_info: {
        current_node: `edge-${victim.name}`,
        component: 'KUBE_COMP_K3S',
        status: 'KUBE_COMP_UPDATE_STATUS_FAILED',
        error: { description: 'k3s v1.31.4: image digest mismatch' },
        cluster_id: clusterId,
      },
    });
    const reason = page.locator(`${nodeCard(victim)} .reason`);
    await reason.waitFor({ timeout: 5_000 });
    assert.equal(await reason.innerText(), 'k3s v1.31.4: image digest mismatch');
    assert.match(await page.locator(`${nodeCard(victim)} .failed`).innerText(), /FAILED/);
    assert.equal(await page.evaluate(`getComputedStyle(document.querySelector('${nodeCard(victim)} .reason')).color`), 'rgb(179, 38, 30)', 'the reason is red');
  });

  it('fleet view: the device table pages and searches, by keyboard', async () => {
    await page.goto(ui);
    const status = page.locator('[data-testid="page-status"]');
    const total = 3 + SEEDED;
    await waitFor('the first page', async () => ((await status.innerText()) === `1–25 of ${total}` ? true : undefined), 10_000, 100);
    assert.equal(await page.locator('table.devices tbody tr').count(), 25);
    assert.match(await page.locator('.tiles').innerText(), new RegExp(`${total}\\s+devices`));
    const agentRow = await page.locator('table.devices tbody tr', { hasText: 'sim-dev1' }).locator('td').allInnerTexts();
    assert.deepEqual([agentRow[1], agentRow[3], agentRow[4], agentRow[8]], ['edge-dev1', `edgesim ${process.arch === 'x64' ? 'x86_64' : process.arch}`, '● running', 'test-cluster']);
    const next = page.getByRole('button', { name: 'Next' });
    await next.focus();
    await page.keyboard.press('Enter');
    await waitFor('the second page', async () => ((await status.innerText()) === `26–50 of ${total}` ? true : undefined), 10_000, 100);
    await page.keyboard.press('Enter');
    await waitFor('the last page', async () => ((await status.innerText()) === `51–${total} of ${total}` ? true : undefined), 10_000, 100);
    assert.equal(await next.isDisabled(), true, 'no page after the last');
    await page.getByLabel('Search serial, UUID or name').fill('SEED-04');
    await waitFor('the search result', async () => ((await status.innerText()) === '1–10 of 10' ? true : undefined), 10_000, 100);
    const serials = await page.locator('table.devices tbody tr td:first-child').allInnerTexts();
    assert.deepEqual(serials, Array.from({ length: 10 }, (_, i) => `SEED-04${i}`));
    await shot('dashboard-fleet');
    // A device page through its link (keyboard: Enter on the focused link).
    await page.getByLabel('Search serial, UUID or name').fill('');
    await page.locator('table.devices a', { hasText: 'sim-dev1' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('h1', { hasText: 'edge-dev1' }).waitFor({ timeout: 10_000 });
    assert.match(await page.locator('.facts').innerText(), /attested/);
    const version = (await t.ctl.admin.getConfig(t.nodes[0].uuid)).version;
    assert.match(await page.locator('[data-testid="served"]').innerText(), new RegExp(`(^|· )v${version} \\d+ (s|min) ago$`), 'the current version was served');
    assert.ok((await page.locator('ol.timeline li').count()) > 0, 'the info timeline lists messages');
    await shot('dashboard-device');
  });

  it('unknown device or cluster id: a "not found" page with HTTP 404, no stack trace', async () => {
    for (const p of ['devices/no-such-device', 'clusters/0badc0de-0000-4000-8000-000000000000', 'nowhere']) {
      const res = await page.goto(`${ui}${p}`);
      assert.equal(res?.status(), 404, `${p}: HTTP 404`);
      await page.locator('h1', { hasText: 'Not found' }).waitFor({ timeout: 10_000 });
      const text = await page.locator('main').innerText();
      assert.doesNotMatch(text, /at \w+ \(|Error:|TypeError/, `${p}: no stack trace`);
    }
    assert.match(await page.locator('main').innerText(), /no page \/ui\/nowhere/i);
    await page.goto(`${ui}devices/no-such-device`);
    await page.locator('h1', { hasText: 'Not found' }).waitFor();
    assert.match(await page.locator('main').innerText(), /device "no-such-device" not found/);
    const api = await page.request.get(`${ui}api/clusters/nope`);
    assert.equal(api.status(), 404);
    assert.deepEqual(await api.json(), { error: 'cluster "nope" not found' });
  });

  it('nothing served contains the cluster token, an integrity token or a private key', async () => {
    const store = t.ctl.server.store;
    const secrets = [store.listClusters()[0].token];
    for (const n of t.nodes) secrets.push(store.getDevice(n.uuid)!.integrityToken!);
    const certDir = path.join(t.ctl.dir, 'controller', 'certs');
    for (const f of (await readdir(certDir)).filter((x) => x.endsWith('key.pem'))) {
      const pem = await readFile(path.join(certDir, f), 'utf8');
      secrets.push(pem.split('\n').find((l) => l.length > 40)!);
    }
    assert.ok(secrets.every((s) => typeof s === 'string' && s.length >= 32), 'every secret found');
    const urls = ['', 'apps', 'timeline', `clusters/${clusterId}`, 'assets/app.js', 'assets/app.css', 'api/fleet?limit=500', 'api/apps', 'api/timelines', `api/clusters/${clusterId}`];
    for (const n of t.nodes) urls.push(`api/devices/${n.uuid}`, `devices/${n.uuid}`);
    const bodies: string[] = [];
    for (const u of urls) {
      const res = await page.request.get(`${ui}${u}`);
      assert.equal(res.status(), 200, u);
      bodies.push(await res.text());
    }
    // The event stream: read its first event from the page.
    bodies.push(
      await page.evaluate<string>(`new Promise((resolve) => {
        const es = new EventSource('/ui/events');
        es.addEventListener('change', (e) => { es.close(); resolve(e.data); });
      })`),
    );
    for (const [i, body] of bodies.entries()) {
      assert.doesNotMatch(body, /PRIVATE KEY/, `${urls[i] ?? 'events'}: no PEM key`);
      for (const s of secrets) assert.ok(!body.includes(s), `${urls[i] ?? 'events'} leaks a secret`);
    }
  });

  it('timeline view: a recorded failover drawn against EVE\'s reference', async () => {
    t.ctl.server.recordTimeline({
      id: 'tl-1',
      title: 'failover of web-a',
      startedAt: Date.now(),
      timeScale: 10,
      complete: true,
      steps: [
        { label: 'NotReady seen', realMs: 4_100, specMs: 41_000, referenceMs: 40_000 },
        { label: 'evicted', realMs: 5_600, specMs: 56_000, referenceMs: 55_000 },
        { label: 'scheduled', realMs: 5_650, specMs: 56_500, referenceMs: 55_000 },
        { label: 'running', realMs: 6_300, specMs: 63_000, referenceMs: 65_000 },
        { label: 'reporting', realMs: 7_000, specMs: 70_000 },
      ],
    });
    await page.goto(`${ui}timeline`);
    await page.locator('h2', { hasText: 'failover of web-a' }).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('.tl canvas').count(), 1, 'one chart');
    assert.match(await page.locator('.tl .u-legend').innerText(), /EVE's timeline/);
    assert.match(await page.locator('.tl table:not(.u-legend)').innerText(), /NotReady seen\s+41\.0 s\s+4\.1 s\s+T\+40 s/);
    await shot('dashboard-timeline');
  });

  it('keyboard: the first Tab reaches "Skip to content", which moves focus to the page', async () => {
    await page.goto(ui);
    await page.locator('[data-testid="page-status"]').waitFor({ timeout: 10_000 });
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate<string>('document.activeElement.textContent'), 'Skip to content');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate<string>('document.activeElement.id'), 'main');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate<string>('document.activeElement.textContent'), 'test-cluster', 'then the first link in the page');
  });

  it('no script error, CSP violation or console error on any page', () => {
    assert.deepEqual(pageErrors, []);
  });

  it('a narrow screen (390 px) fits without horizontal scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [p, loaded] of [[`clusters/${clusterId}`, 'li.card'], ['', '[data-testid="page-status"]']] as const) {
      await page.goto(`${ui}${p}`);
      await page.locator(loaded).first().waitFor({ timeout: 10_000 });
      await noHorizontalOverflow();
    }
    await shot('dashboard-fleet-narrow');
  });
});
