// Drives the built-in web UI in headless Chromium against a real `plasmite serve`.
//
// Run: npm ci && npm test (in tests/browser). Needs /usr/bin/chromium (or CHROMIUM=path) and builds
// the debug binary with cargo unless PLASMITE_BIN names one. Screenshots go to
// target/ui-screenshots/ (or UI_SCREENSHOTS=dir); a failed test leaves its page there too
// (failure-*.png and failure-*.html).
//
// The page renders on the next animation frame, so what it shows can lag its state: every step waits
// for the exact state it expects (the list of seqs shown, in order), never for a sign that may already
// hold before the page settled. UI_FRAME_DELAY_MS=N delays each of the page's animation frames by N ms,
// as a loaded machine does, which makes such a wait that is too weak fail every time instead of once in
// a while (`.ci/run` runs the test once plainly and once with it).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TARGET = process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target');
const BIN = process.env.PLASMITE_BIN || path.join(TARGET, 'debug', 'plasmite');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.UI_SCREENSHOTS || path.join(TARGET, 'ui-screenshots');
// Without the networking flags Chromium stalls on a closed network.
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
// How long a step may take to show what it expects: generous (the machine is shared and may be loaded),
// bounded so a broken page fails instead of hanging. Not a speed claim.
const SETTLE_MS = 15000;
const FRAME_DELAY_MS = Number(process.env.UI_FRAME_DELAY_MS || 0);
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };

const temps = [];
function tempDir(tag) {
  const d = mkdtempSync(path.join(tmpdir(), `plasmite-ui-${tag}-`));
  temps.push(d);
  return d;
}

/** Runs the CLI; fails the test on a non-zero exit. */
function cli(dir, args, input) {
  const r = spawnSync(BIN, ['--dir', dir, ...args], { input, encoding: 'utf8' });
  assert.equal(r.status, 0, `plasmite ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Starts `plasmite serve` on a free port; resolves with { url, stop }. */
function serve(dir, extra = []) {
  const child = spawn(BIN, ['--dir', dir, 'serve', '--bind', '127.0.0.1:0', ...extra], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 10000);
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      err += chunk;
      const line = err.split('\n').find((l) => l.startsWith('{"listening"'));
      if (!line) return;
      clearTimeout(timer);
      const { url } = JSON.parse(line).listening;
      const stop = () => new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.removeAllListeners('exit');
        child.on('exit', () => done());
        child.kill('SIGTERM');
      });
      resolve({ url, stop });
    });
  });
}

/** Console errors and uncaught exceptions of a page. */
function watchErrors(page) {
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  return errors;
}

async function shot(page, name, viewport, fullPage = true) {
  await page.setViewportSize(viewport);
  await page.waitForTimeout(100);
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
}

const seqsShown = (page) => page.$$eval('#messages .msg .seq', (els) => els.map((e) => e.textContent));

/** `#from` … `#to`, one per seq. */
const seqRange = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => `#${from + i}`);

/**
 * Waits until the page shows exactly these seqs in this order (each `#N`), then returns; fails with the
 * list it shows if that does not happen within SETTLE_MS.
 */
async function expectSeqs(page, want) {
  try {
    await page.waitForFunction(
      (w) => [...document.querySelectorAll('#messages .msg .seq')].map((e) => e.textContent).join() === w,
      want.join(),
      { timeout: SETTLE_MS },
    );
  } catch (e) {
    if (!/Timeout/.test(e.message)) throw e;
  }
  assert.deepEqual(await seqsShown(page), want);
}

/** Resolves after the page's next animation frame, so a render queued before this call has run. */
const nextFrame = (page) => page.evaluate(() => new Promise((resolve) => {
  requestAnimationFrame(() => requestAnimationFrame(resolve));
}));

/** Runs a test's steps on a new page; on failure keeps a screenshot and the DOM of the page. */
async function onPage(name, steps) {
  const page = await context.newPage();
  try {
    await steps(page);
  } catch (e) {
    const base = path.join(SHOTS, `failure-${name}`);
    await page.screenshot({ path: `${base}.png`, fullPage: true }).catch(() => {});
    const dom = await page.content().catch((err) => `no DOM: ${err.message}`);
    writeFileSync(`${base}.html`, dom);
    console.error(`the page at the failure: ${base}.png, ${base}.html`);
    throw e;
  } finally {
    await page.close();
  }
}

let context;

before(async () => {
  if (!process.env.PLASMITE_BIN) {
    const b = spawnSync('cargo', ['build', '--bin', 'plasmite'], { cwd: ROOT, stdio: 'inherit' });
    assert.equal(b.status, 0, 'cargo build failed');
  }
  assert.ok(existsSync(BIN), `no plasmite binary at ${BIN}`);
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install chromium`);
  mkdirSync(SHOTS, { recursive: true });
  context = await chromium.launchPersistentContext(tempDir('profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: DESKTOP,
  });
  if (FRAME_DELAY_MS > 0) {
    // A loaded machine, on purpose: each animation frame of the page comes late.
    await context.addInitScript((ms) => {
      const raf = window.requestAnimationFrame.bind(window);
      window.requestAnimationFrame = (cb) => setTimeout(() => raf(cb), ms);
    }, FRAME_DELAY_MS);
  }
});

after(async () => {
  if (context) await context.close();
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

describe('an open server', () => {
  let dir;
  let server;
  before(async () => {
    dir = tempDir('pools');
    cli(dir, ['pool', 'create', 'demo']);
    cli(dir, ['poke', 'demo', '--tag', 'boot', '{"hello":"world","n":1}']);
    server = await serve(dir);
  });
  after(async () => {
    if (server) await server.stop();
  });

  test('lists pools, follows one live, appends, filters, without console errors', () => onPage('live', async (page) => {
    const errors = watchErrors(page);

    await page.goto(`${server.url}/ui`);
    const link = page.getByRole('link', { name: 'demo', exact: true });
    await link.waitFor({ timeout: SETTLE_MS });
    const row = page.locator('#pool-rows tr', { has: link });
    assert.equal(await row.locator('td').first().textContent(), '1');
    // The list refreshes on its own: a pool created now shows up without a reload.
    cli(dir, ['pool', 'create', 'later', '--size', '128K']);
    await page.getByRole('link', { name: 'later', exact: true }).waitFor({ timeout: SETTLE_MS });
    await shot(page, 'list-desktop', DESKTOP);
    await shot(page, 'list-phone', PHONE);
    await page.setViewportSize(DESKTOP);

    await link.click();
    await page.waitForURL(`${server.url}/ui/pools/demo`);
    await page.locator('#live-status', { hasText: 'Live' }).waitFor({ timeout: SETTLE_MS });
    // "Live" comes with the stream's headers; its first lines are shown a frame later.
    await expectSeqs(page, ['#1']);
    await page.evaluate(() => { window.notReloaded = true; });

    // A message poked by the CLI appears, without a reload.
    cli(dir, ['poke', 'demo', '--tag', 'from-cli', '{"via":"cli","big":12345678901234567890}']);
    await expectSeqs(page, ['#2', '#1']);
    assert.equal(await page.evaluate(() => window.notReloaded), true);
    // Numbers keep their spelling (no float rounding of the data).
    const poked = page.locator('#messages .msg', { hasText: '"via": "cli"' });
    assert.match(await poked.locator('pre').textContent(), /"big": 12345678901234567890/);

    // Append through the form, then read it back with the CLI.
    await page.locator('#append summary').click();
    await page.getByLabel('Data (JSON)').fill('{"via":"browser","price":1.50}');
    await page.getByRole('textbox', { name: 'Tags', exact: true }).fill('web, ui');
    await page.getByRole('button', { name: 'Append', exact: true }).click();
    const status = page.locator('#append-status', { hasText: 'Appended as #3' });
    await status.waitFor({ timeout: SETTLE_MS });
    const got = JSON.parse(cli(dir, ['get', 'demo', '3', '--format', 'jsonl']));
    assert.deepEqual(got.meta.tags, ['web', 'ui']);
    assert.deepEqual(got.data, { via: 'browser', price: 1.5 });
    // Newest first by default.
    await expectSeqs(page, ['#3', '#2', '#1']);
    await page.locator('#messages .msg', { hasText: '"price": 1.50' }).waitFor({ timeout: SETTLE_MS });

    // Invalid JSON is refused in the page, nothing is sent.
    await page.getByLabel('Data (JSON)').fill('{"oops":');
    await page.getByRole('button', { name: 'Append', exact: true }).click();
    await page.locator('#append-status', { hasText: 'not valid JSON' }).waitFor({ timeout: SETTLE_MS });
    await page.getByLabel('Data (JSON)').fill('{"via":"browser","price":1.50}');
    await nextFrame(page);
    assert.deepEqual(await seqsShown(page), ['#3', '#2', '#1']);
    await shot(page, 'pool-desktop', DESKTOP);
    await shot(page, 'pool-phone', PHONE);
    await page.setViewportSize(DESKTOP);

    // Filter by tag (typed, then by clicking a tag), by text, then clear. Each step waits for the
    // exact list: until the next frame the page still shows the previous step's.
    await page.getByLabel('Tag', { exact: true }).fill('from-cli');
    await expectSeqs(page, ['#2']);
    await page.getByLabel('Tag', { exact: true }).fill('');
    await expectSeqs(page, ['#3', '#2', '#1']);
    await page.getByRole('button', { name: 'web', exact: true }).click();
    await expectSeqs(page, ['#3']);
    assert.equal(await page.getByLabel('Tag', { exact: true }).inputValue(), 'web');
    await page.getByLabel('Tag', { exact: true }).fill('');
    await page.getByLabel('Text', { exact: true }).fill('HELLO');
    await expectSeqs(page, ['#1']);
    await page.getByLabel('Text', { exact: true }).fill('');
    await expectSeqs(page, ['#3', '#2', '#1']);

    // Newest last.
    await page.getByLabel('Order').selectOption('newest-last');
    await expectSeqs(page, ['#1', '#2', '#3']);

    // Pause holds the view; resume catches up from the last seq, without duplicates.
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('#live-status', { hasText: 'Paused' }).waitFor({ timeout: SETTLE_MS });
    cli(dir, ['poke', 'demo', '{"while":"paused"}']);
    // Nothing to wait for here: a paused page shows nothing new, however long we look.
    await page.waitForTimeout(600);
    await nextFrame(page);
    assert.deepEqual(await seqsShown(page), ['#1', '#2', '#3']);
    await page.getByRole('button', { name: 'Resume' }).click();
    await expectSeqs(page, ['#1', '#2', '#3', '#4']);
    await page.locator('#messages .msg', { hasText: '"while": "paused"' }).waitFor({ timeout: SETTLE_MS });

    // A dropped connection resumes at last seq + 1, and a line seen twice is shown once.
    await page.evaluate(() => view.abort.abort());
    cli(dir, ['poke', 'demo', '{"after":"reconnect"}']);
    await expectSeqs(page, seqRange(1, 5));
    await page.locator('#messages .msg', { hasText: '"after": "reconnect"' }).waitFor({ timeout: SETTLE_MS });
    await page.evaluate(() => onLine(
      '{"seq":5,"time":"2024-01-01T00:00:00Z","meta":{"tags":[]},"data":{"dup":true}}'));
    await nextFrame(page);
    assert.deepEqual(await seqsShown(page), seqRange(1, 5));

    // Keeping the last 50: more than 50 waiting after a pause are skipped, and the view says so.
    await page.getByLabel('Keep').selectOption('50');
    await expectSeqs(page, seqRange(1, 5));
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('#live-status', { hasText: 'Paused' }).waitFor({ timeout: SETTLE_MS });
    const batch = Array.from({ length: 60 }, (_, i) => JSON.stringify({ batch: i })).join('\n');
    cli(dir, ['poke', 'demo', '--file', '-', '--in', 'jsonl'], `${batch}\n`);
    await page.getByRole('button', { name: 'Resume' }).click();
    // The stream may bring #16..#65 in several pieces: wait for all of them (#1..#5 then leave).
    await expectSeqs(page, seqRange(16, 65));
    const rows = await page.$$eval('#messages > li', (els) => els.map((e) => (e.classList.contains('gap')
      ? e.textContent : e.querySelector('.seq').textContent)));
    assert.equal(rows.length, 51);
    assert.match(rows[0], /10 messages not shown: 10 skipped/);
    assert.equal(await page.locator('#shown').textContent(), '50 messages (the last 50).');

    assert.deepEqual(errors, []);
  }));

  test('shows messages lost to a lapped reader as a gap', () => onPage('gap', async (page) => {
    cli(dir, ['pool', 'create', 'tiny', '--size', '64K']);
    cli(dir, ['poke', 'tiny', '{"first":true}']);
    const errors = watchErrors(page);
    await page.goto(`${server.url}/ui/pools/tiny`);
    await expectSeqs(page, ['#1']);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('#live-status', { hasText: 'Paused' }).waitFor({ timeout: SETTLE_MS });
    // 60 messages of 2 KiB through a 64 KiB pool: the oldest are overwritten before we read them.
    const pad = 'x'.repeat(2048);
    const lines = Array.from({ length: 60 }, (_, i) => JSON.stringify({ i, pad })).join('\n');
    cli(dir, ['poke', 'tiny', '--file', '-', '--in', 'jsonl'], `${lines}\n`);
    await page.getByRole('button', { name: 'Resume' }).click();
    const info = JSON.parse(cli(dir, ['pool', 'info', 'tiny', '--format', 'jsonl']));
    assert.equal(info.bounds.newest, 61);
    // Newest first: every message still in the pool, then the gap, then #1.
    await expectSeqs(page, [...seqRange(info.bounds.oldest, 61).reverse(), '#1']);
    const gap = page.locator('#messages .gap', { hasText: 'were lost' });
    const lost = info.bounds.oldest - 2;
    assert.match(await gap.textContent(), new RegExp(`\\b${lost} messages were lost`));
    // The gap sits between #1 and the oldest message still in the pool.
    const order = await page.$$eval('#messages > li', (els) => els.map((e) => (e.classList.contains('gap')
      ? 'gap' : e.querySelector('.seq').textContent)));
    const at = order.indexOf('gap');
    assert.deepEqual([order[at + 1], order[at - 1]], ['#1', `#${info.bounds.oldest}`]);
    await page.getByLabel('Order').selectOption('newest-last');
    await page.setViewportSize(PHONE);
    await gap.scrollIntoViewIfNeeded();
    await shot(page, 'gap-phone', PHONE, false);
    assert.deepEqual(errors, []);
  }));

  test('a late answer to an older info request does not replace the stats shown', () => onPage('stale-info', async (page) => {
    cli(dir, ['pool', 'create', 'stale']);
    cli(dir, ['poke', 'stale', '{"n":1}']);
    const errors = watchErrors(page);
    // Info answers are held here: `hold` keeps the next one (answered by the server now, handed to the
    // page later); `freeze` keeps every one after it, so nothing newer can cover up a stale answer.
    let hold = false;
    let freeze = false;
    let held = null;
    let gotHeld;
    const heldReady = new Promise((resolve) => { gotHeld = resolve; });
    await page.route('**/v0/pools/stale/info', async (route) => {
      if (freeze) return;
      if (hold && !held) {
        held = { route, response: await route.fetch() };
        gotHeld();
        return;
      }
      await route.continue();
    });
    const stats = page.locator('#pool-stats');
    await page.goto(`${server.url}/ui/pools/stale`);
    await expectSeqs(page, ['#1']);
    await page.locator('#pool-stats', { hasText: /^1 message ·/ }).waitFor({ timeout: SETTLE_MS });
    hold = true;
    await Promise.race([heldReady, page.waitForTimeout(SETTLE_MS)]);
    assert.ok(held, 'the page asked for no pool info');
    cli(dir, ['poke', 'stale', '{"n":2}']);
    await expectSeqs(page, ['#2', '#1']);
    await page.locator('#pool-stats', { hasText: /^2 messages ·/ }).waitFor({ timeout: SETTLE_MS });
    freeze = true;
    const finished = page.waitForEvent('requestfinished', {
      predicate: (r) => r === held.route.request(), timeout: SETTLE_MS,
    });
    await held.route.fulfill({ response: held.response });
    await finished;
    // The page reads the body and would show it within a few tasks and a frame.
    await page.evaluate(() => new Promise((resolve) => { setTimeout(resolve, 50); }));
    await nextFrame(page);
    assert.match(await stats.textContent(), /^2 messages ·/);
    assert.deepEqual(errors, []);
  }));
});

describe('a server with a token', () => {
  const TOKEN = 'tok-3f9a-browser-test';
  let dir;
  let server;
  before(async () => {
    dir = tempDir('auth');
    const tokenFile = path.join(dir, '..', `${path.basename(dir)}.token`);
    writeFileSync(tokenFile, `${TOKEN}\n`);
    temps.push(tokenFile);
    cli(dir, ['pool', 'create', 'secret']);
    server = await serve(dir, ['--token-file', tokenFile]);
  });
  after(async () => {
    if (server) await server.stop();
  });

  test('asks for the token, keeps it in sessionStorage, sends it only as a header', () => onPage('token', async (page) => {
    const errors = watchErrors(page);
    const requests = [];
    page.on('request', (r) => requests.push({ url: r.url(), auth: r.headers().authorization }));

    await page.goto(`${server.url}/ui`);
    const dialog = page.getByRole('dialog', { name: 'Token needed' });
    await dialog.waitFor({ timeout: SETTLE_MS });
    assert.equal(await page.getByRole('textbox', { name: 'Token' }).evaluate((e) => e === document.activeElement), true);
    await shot(page, 'token-desktop', DESKTOP);
    await shot(page, 'token-phone', PHONE);
    await page.setViewportSize(DESKTOP);

    await page.getByRole('textbox', { name: 'Token' }).fill('wrong-token');
    await page.getByRole('textbox', { name: 'Token' }).press('Enter');
    await dialog.locator('p', { hasText: 'refused that token' }).waitFor({ timeout: SETTLE_MS });
    await page.getByRole('textbox', { name: 'Token' }).fill(TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByRole('link', { name: 'secret', exact: true }).waitFor({ timeout: SETTLE_MS });
    assert.equal(await dialog.isVisible(), false);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('plasmite.token')), TOKEN);

    // The pool view uses the kept token at once: no second prompt.
    await page.getByRole('link', { name: 'secret', exact: true }).click();
    await page.locator('#live-status', { hasText: 'Live' }).waitFor({ timeout: SETTLE_MS });
    assert.equal(await dialog.isVisible(), false);

    for (const r of requests) assert.ok(!r.url.includes(TOKEN), `token in a URL: ${r.url}`);
    const api = requests.filter((r) => new URL(r.url).pathname.startsWith('/v0/'));
    assert.ok(api.some((r) => r.auth === `Bearer ${TOKEN}`));
    assert.ok(requests.filter((r) => new URL(r.url).pathname.startsWith('/ui'))
      .every((r) => r.auth === undefined));
    // Only the expected refusals reach the console (Chromium reports every 401 it receives).
    const unexpected = errors.filter((e) => !/status of 401/.test(e));
    assert.deepEqual(unexpected, []);

    // Forgetting the token asks again.
    await page.getByRole('button', { name: 'Forget token' }).click();
    await dialog.waitFor({ timeout: SETTLE_MS });
  }));
});

describe('a read-only server', () => {
  let server;
  before(async () => {
    const dir = tempDir('ro');
    cli(dir, ['poke', 'ro', '--create', '--tag', '<b>tag</b>', '{"k":1,"html":"<img src=x>"}']);
    server = await serve(dir, ['--access', 'read-only']);
  });
  after(async () => {
    if (server) await server.stop();
  });

  test('hides the append form and says why; shows markup as text', () => onPage('read-only', async (page) => {
    const errors = watchErrors(page);
    await page.goto(`${server.url}/ui/pools/ro`);
    await page.locator('#messages .msg', { hasText: '"k": 1' }).waitFor({ timeout: SETTLE_MS });
    await page.locator('#append summary').click();
    await page.locator('#append-off', { hasText: 'read-only' }).waitFor({ timeout: SETTLE_MS });
    assert.equal(await page.locator('#append-form').isVisible(), false);
    // Data and tags are text, never markup.
    assert.equal(await page.locator('#messages img, #messages b').count(), 0);
    await page.getByRole('button', { name: '<b>tag</b>' }).waitFor({ timeout: SETTLE_MS });
    assert.match(await page.locator('#messages pre').textContent(), /"html": "<img src=x>"/);
    assert.deepEqual(errors, []);
  }));
});
