// Drives the built-in web UI in headless Chromium against a real `plasmite serve`.
//
// Run: npm ci && npm test (in tests/browser). Needs /usr/bin/chromium (or CHROMIUM=path) and builds
// the debug binary with cargo unless PLASMITE_BIN names one. Screenshots go to
// target/ui-screenshots/ (or UI_SCREENSHOTS=dir).

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

  test('lists pools, follows one live, appends, filters, without console errors', async () => {
    const page = await context.newPage();
    const errors = watchErrors(page);

    await page.goto(`${server.url}/ui`);
    const link = page.getByRole('link', { name: 'demo', exact: true });
    await link.waitFor({ timeout: 5000 });
    const row = page.locator('#pool-rows tr', { has: link });
    assert.equal(await row.locator('td').first().textContent(), '1');
    // The list refreshes on its own: a pool created now shows up without a reload.
    cli(dir, ['pool', 'create', 'later', '--size', '128K']);
    await page.getByRole('link', { name: 'later', exact: true }).waitFor({ timeout: 4000 });
    await shot(page, 'list-desktop', DESKTOP);
    await shot(page, 'list-phone', PHONE);
    await page.setViewportSize(DESKTOP);

    await link.click();
    await page.waitForURL(`${server.url}/ui/pools/demo`);
    await page.locator('#live-status', { hasText: 'Live' }).waitFor({ timeout: 5000 });
    assert.deepEqual(await seqsShown(page), ['#1']);
    await page.evaluate(() => { window.notReloaded = true; });

    // A message poked by the CLI appears within a second, without a reload.
    cli(dir, ['poke', 'demo', '--tag', 'from-cli', '{"via":"cli","big":12345678901234567890}']);
    const poked = page.locator('#messages .msg', { hasText: '"via": "cli"' });
    await poked.waitFor({ timeout: 1000 });
    assert.equal(await page.evaluate(() => window.notReloaded), true);
    // Numbers keep their spelling (no float rounding of the data).
    assert.match(await poked.locator('pre').textContent(), /"big": 12345678901234567890/);

    // Append through the form, then read it back with the CLI.
    await page.locator('#append summary').click();
    await page.getByLabel('Data (JSON)').fill('{"via":"browser","price":1.50}');
    await page.getByRole('textbox', { name: 'Tags', exact: true }).fill('web, ui');
    await page.getByRole('button', { name: 'Append', exact: true }).click();
    const status = page.locator('#append-status', { hasText: 'Appended as #3' });
    await status.waitFor({ timeout: 3000 });
    const got = JSON.parse(cli(dir, ['get', 'demo', '3', '--format', 'jsonl']));
    assert.deepEqual(got.meta.tags, ['web', 'ui']);
    assert.deepEqual(got.data, { via: 'browser', price: 1.5 });
    await page.locator('#messages .msg', { hasText: '"price": 1.50' }).waitFor({ timeout: 2000 });

    // Invalid JSON is refused in the page, nothing is sent.
    await page.getByLabel('Data (JSON)').fill('{"oops":');
    await page.getByRole('button', { name: 'Append', exact: true }).click();
    await page.locator('#append-status', { hasText: 'not valid JSON' }).waitFor();
    await page.getByLabel('Data (JSON)').fill('{"via":"browser","price":1.50}');

    // Newest first by default.
    assert.deepEqual(await seqsShown(page), ['#3', '#2', '#1']);
    await shot(page, 'pool-desktop', DESKTOP);
    await shot(page, 'pool-phone', PHONE);
    await page.setViewportSize(DESKTOP);

    // Filter by tag (typed, then by clicking a tag), by text, then clear.
    await page.getByLabel('Tag', { exact: true }).fill('from-cli');
    // The exact list, not just its length: right after one filter is cleared and another typed,
    // the previous filter's single message can still be the one shown.
    await page.waitForFunction(
      (want) => [...document.querySelectorAll('#messages .msg .seq')].map((e) => e.textContent).join() === want,
      '#2',
    );
    assert.deepEqual(await seqsShown(page), ['#2']);
    await page.getByLabel('Tag', { exact: true }).fill('');
    await page.getByRole('button', { name: 'web', exact: true }).click();
    // The exact list, not just its length: right after one filter is cleared and another typed,
    // the previous filter's single message can still be the one shown.
    await page.waitForFunction(
      (want) => [...document.querySelectorAll('#messages .msg .seq')].map((e) => e.textContent).join() === want,
      '#3',
    );
    assert.deepEqual(await seqsShown(page), ['#3']);
    assert.equal(await page.getByLabel('Tag', { exact: true }).inputValue(), 'web');
    await page.getByLabel('Tag', { exact: true }).fill('');
    await page.getByLabel('Text', { exact: true }).fill('HELLO');
    // The exact list, not just its length: right after one filter is cleared and another typed,
    // the previous filter's single message can still be the one shown.
    await page.waitForFunction(
      (want) => [...document.querySelectorAll('#messages .msg .seq')].map((e) => e.textContent).join() === want,
      '#1',
    );
    assert.deepEqual(await seqsShown(page), ['#1']);
    await page.getByLabel('Text', { exact: true }).fill('');

    // Newest last.
    await page.getByLabel('Order').selectOption('newest-last');
    await page.waitForFunction(() => document.querySelector('#messages .msg .seq').textContent === '#1');
    assert.deepEqual(await seqsShown(page), ['#1', '#2', '#3']);

    // Pause holds the view; resume catches up from the last seq, without duplicates.
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('#live-status', { hasText: 'Paused' }).waitFor();
    cli(dir, ['poke', 'demo', '{"while":"paused"}']);
    await page.waitForTimeout(600);
    assert.deepEqual(await seqsShown(page), ['#1', '#2', '#3']);
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('#messages .msg', { hasText: '"while": "paused"' }).waitFor({ timeout: 2000 });
    assert.deepEqual(await seqsShown(page), ['#1', '#2', '#3', '#4']);

    // A dropped connection resumes at last seq + 1, and a line seen twice is shown once.
    await page.evaluate(() => view.abort.abort());
    cli(dir, ['poke', 'demo', '{"after":"reconnect"}']);
    await page.locator('#messages .msg', { hasText: '"after": "reconnect"' }).waitFor({ timeout: 2000 });
    await page.evaluate(() => onLine(
      '{"seq":5,"time":"2024-01-01T00:00:00Z","meta":{"tags":[]},"data":{"dup":true}}'));
    await page.waitForTimeout(100);
    assert.deepEqual(await seqsShown(page), ['#1', '#2', '#3', '#4', '#5']);

    // Keeping the last 50: more than 50 waiting after a pause are skipped, and the view says so.
    await page.getByLabel('Keep').selectOption('50');
    await page.waitForFunction(() => document.querySelectorAll('#messages .msg').length === 5);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('#live-status', { hasText: 'Paused' }).waitFor();
    const batch = Array.from({ length: 60 }, (_, i) => JSON.stringify({ batch: i })).join('\n');
    cli(dir, ['poke', 'demo', '--file', '-', '--in', 'jsonl'], `${batch}\n`);
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('#messages .gap', { hasText: '10 messages not shown: 10 skipped' })
      .waitFor({ timeout: 3000 });
    await page.locator('#shown', { hasText: '50 messages (the last 50)' }).waitFor({ timeout: 3000 });
    const seqs = await seqsShown(page);
    assert.deepEqual([seqs[0], seqs.at(-1)], ['#16', '#65']);

    assert.deepEqual(errors, []);
    await page.close();
  });

  test('shows messages lost to a lapped reader as a gap', async () => {
    cli(dir, ['pool', 'create', 'tiny', '--size', '64K']);
    cli(dir, ['poke', 'tiny', '{"first":true}']);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${server.url}/ui/pools/tiny`);
    await page.locator('#messages .msg', { hasText: '"first": true' }).waitFor({ timeout: 5000 });
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('#live-status', { hasText: 'Paused' }).waitFor();
    // 60 messages of 2 KiB through a 64 KiB pool: the oldest are overwritten before we read them.
    const pad = 'x'.repeat(2048);
    const lines = Array.from({ length: 60 }, (_, i) => JSON.stringify({ i, pad })).join('\n');
    cli(dir, ['poke', 'tiny', '--file', '-', '--in', 'jsonl'], `${lines}\n`);
    await page.getByRole('button', { name: 'Resume' }).click();
    const gap = page.locator('#messages .gap', { hasText: 'were lost' });
    await gap.waitFor({ timeout: 3000 });
    await page.locator('#messages .msg', { hasText: '"i": 59' }).waitFor({ timeout: 3000 });
    const info = JSON.parse(cli(dir, ['pool', 'info', 'tiny', '--format', 'jsonl']));
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
    await page.close();
  });
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

  test('asks for the token, keeps it in sessionStorage, sends it only as a header', async () => {
    const page = await context.newPage();
    const errors = watchErrors(page);
    const requests = [];
    page.on('request', (r) => requests.push({ url: r.url(), auth: r.headers().authorization }));

    await page.goto(`${server.url}/ui`);
    const dialog = page.getByRole('dialog', { name: 'Token needed' });
    await dialog.waitFor({ timeout: 5000 });
    assert.equal(await page.getByRole('textbox', { name: 'Token' }).evaluate((e) => e === document.activeElement), true);
    await shot(page, 'token-desktop', DESKTOP);
    await shot(page, 'token-phone', PHONE);
    await page.setViewportSize(DESKTOP);

    await page.getByRole('textbox', { name: 'Token' }).fill('wrong-token');
    await page.getByRole('textbox', { name: 'Token' }).press('Enter');
    await dialog.locator('p', { hasText: 'refused that token' }).waitFor({ timeout: 5000 });
    await page.getByRole('textbox', { name: 'Token' }).fill(TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByRole('link', { name: 'secret', exact: true }).waitFor({ timeout: 5000 });
    assert.equal(await dialog.isVisible(), false);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('plasmite.token')), TOKEN);

    // The pool view uses the kept token at once: no second prompt.
    await page.getByRole('link', { name: 'secret', exact: true }).click();
    await page.locator('#live-status', { hasText: 'Live' }).waitFor({ timeout: 5000 });
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
    await dialog.waitFor({ timeout: 5000 });
    await page.close();
  });
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

  test('hides the append form and says why; shows markup as text', async () => {
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${server.url}/ui/pools/ro`);
    await page.locator('#messages .msg', { hasText: '"k": 1' }).waitFor({ timeout: 5000 });
    await page.locator('#append summary').click();
    await page.locator('#append-off', { hasText: 'read-only' }).waitFor();
    assert.equal(await page.locator('#append-form').isVisible(), false);
    // Data and tags are text, never markup.
    assert.equal(await page.locator('#messages img, #messages b').count(), 0);
    await page.getByRole('button', { name: '<b>tag</b>' }).waitFor();
    assert.match(await page.locator('#messages pre').textContent(), /"html": "<img src=x>"/);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
