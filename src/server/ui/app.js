// The plasmite web UI: the pool list (/ui) and a live pool view (/ui/pools/NAME), over the v0 HTTP
// protocol. No dependencies and no build step (spec/ui.md).
//
// Rules kept throughout:
// - text from the server or the user reaches the page only as text nodes (textContent, append of a
//   string), never as HTML;
// - the token lives in sessionStorage and travels only in the Authorization header, never in a URL;
// - the live view holds each seq at most once, in seq order, at most `limit` messages, and shows every
//   gap (messages lost to the ring, or skipped) as a row of its own.
'use strict';

const TOKEN_KEY = 'plasmite.token';
const REFRESH_MS = 2000;
const RETRY_MS_MIN = 500;
const RETRY_MS_MAX = 10000;

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- small helpers ----

/** An element with attributes and children; string children become text nodes. */
function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  }
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
}

/** Sets the text of an element only when it changes (no churn for screen readers). */
function setText(e, text) {
  if (e.textContent !== text) e.textContent = text;
}

function formatBytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  const shown = i === 0 || v >= 100 ? String(Math.round(v)) : v.toFixed(1).replace(/\.0$/, '');
  return `${shown} ${units[i]}`;
}

/** Milliseconds since the epoch of an RFC 3339 time (nanosecond fractions are cut to ms). */
function parseTime(s) {
  if (typeof s !== 'string') return NaN;
  return Date.parse(s.replace(/(\.\d{3})\d+/, '$1'));
}

function formatAge(ms) {
  if (!Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} days ago`;
}

function formatTime(s) {
  const t = parseTime(s);
  if (!Number.isFinite(t)) return String(s);
  const d = new Date(t);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** Indents compact JSON text, keeping every token as written (key order, numbers, escapes). */
function indentJson(text) {
  let out = '';
  let depth = 0;
  let i = 0;
  const newline = () => `\n${'  '.repeat(depth)}`;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '{' || c === '[') {
      let k = i + 1;
      while (' \t\r\n'.includes(text[k] || 'x')) k += 1;
      if (text[k] === (c === '{' ? '}' : ']')) {
        out += c + text[k];
        i = k + 1;
      } else {
        depth += 1;
        out += c + newline();
        i += 1;
      }
    } else if (c === '}' || c === ']') {
      depth -= 1;
      out += newline() + c;
      i += 1;
    } else if (c === ',') {
      out += `,${newline()}`;
      i += 1;
    } else if (c === ':') {
      out += ': ';
      i += 1;
    } else {
      if (!' \t\r\n'.includes(c)) out += c;
      i += 1;
    }
  }
  return out;
}

/**
 * The raw JSON text of a tail line's `data`: the server writes it as the last member, so the original
 * spelling survives (JSON.parse would round big numbers and respell others). Null when not found.
 */
function rawData(line) {
  const end = line.trimEnd();
  const at = end.indexOf(',"data":');
  if (at < 0 || !end.endsWith('}')) return null;
  const raw = end.slice(at + ',"data":'.length, -1);
  try {
    JSON.parse(raw);
    return raw;
  } catch {
    return null;
  }
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function splitTags(text) {
  return text.split(/[\s,]+/).filter(Boolean);
}

// ---- the token and the API ----

const token = {
  get() {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  set(t) {
    sessionStorage.setItem(TOKEN_KEY, t);
    $('forget-token').hidden = false;
  },
  clear() {
    try {
      sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // storage unavailable: nothing was kept
    }
    $('forget-token').hidden = true;
  },
  waiting: null,
  /** Asks for a token (once, however many requests wait for it); resolves when one is given. */
  ask(why) {
    if (!this.waiting) {
      this.waiting = new Promise((resolve) => {
        const dialog = $('token-dialog');
        $('token-why').textContent = why;
        $('token-input').value = '';
        $('token-form').onsubmit = (ev) => {
          ev.preventDefault();
          const t = $('token-input').value.trim();
          if (!t) return;
          this.set(t);
          this.waiting = null;
          dialog.close();
          resolve();
        };
        dialog.showModal();
        $('token-input').focus();
      });
    }
    return this.waiting;
  },
};

class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP status ${status}`);
    this.status = status;
    this.kind = e.kind || '';
    this.hint = e.hint || '';
  }
}

async function failure(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not the JSON envelope: the status says enough
  }
  return new ApiError(res.status, body);
}

/** A fetch of the protocol with the token; a 401 asks for a token and tries again. */
async function api(path, init = {}) {
  for (;;) {
    const headers = new Headers(init.headers);
    const t = token.get();
    if (t) headers.set('Authorization', `Bearer ${t}`);
    const res = await fetch(path, { ...init, headers, cache: 'no-store', credentials: 'omit' });
    if (res.status !== 401) {
      if (!res.ok) throw await failure(res);
      return res;
    }
    const e = await failure(res);
    if (token.get() !== t) continue; // another request already got a new token
    token.clear();
    await token.ask(t ? `The server refused that token (${e.message}).`
      : 'This server needs a bearer token.');
  }
}

function describe(e) {
  if (e instanceof ApiError) return e.kind ? `${e.message} (${e.kind})` : e.message;
  return 'cannot reach the server';
}

// ---- the pool list ----

function poolRow(name) {
  const cell = (label, cls) => h('td', { class: cls, 'data-label': label });
  const row = {
    count: cell('Messages', 'num'),
    size: cell('Size', 'num'),
    used: cell('Used', 'used'),
    newest: cell('Newest message', 'age'),
    meter: h('meter', { min: 0, max: 100, value: 0, 'aria-hidden': 'true' }),
    pct: h('span', { class: 'pct' }),
  };
  row.used.append(h('span', { class: 'used-value' }, row.meter, row.pct));
  const link = h('a', { href: `/ui/pools/${encodeURIComponent(name)}` }, name);
  row.tr = h('tr', {}, h('th', { scope: 'row', 'data-label': 'Name' }, link),
    row.count, row.size, row.used, row.newest);
  return row;
}

function fillPoolRow(row, p) {
  row.tr.classList.toggle('broken', Boolean(p.error));
  if (p.error) {
    setText(row.count, '—');
    setText(row.size, '—');
    setText(row.pct, '—');
    setText(row.newest, `cannot open: ${p.error.message || p.error.kind}`);
    return;
  }
  const used = typeof p.used_percent === 'number' ? p.used_percent : 0;
  setText(row.count, String(p.message_count ?? '—'));
  setText(row.size, formatBytes(p.file_size));
  row.meter.value = used;
  setText(row.pct, `${used.toFixed(used < 10 ? 1 : 0)}%`);
  setText(row.newest, p.newest_time ? formatAge(Date.now() - parseTime(p.newest_time)) : 'empty');
}

function renderPools(rows, pools) {
  const tbody = $('pool-rows');
  const seen = new Set();
  let prev = null;
  pools.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const p of pools) {
    seen.add(p.name);
    let row = rows.get(p.name);
    if (!row) {
      row = poolRow(p.name);
      rows.set(p.name, row);
    }
    fillPoolRow(row, p);
    const at = prev ? prev.nextSibling : tbody.firstChild;
    if (row.tr !== at) tbody.insertBefore(row.tr, at);
    prev = row.tr;
  }
  for (const [name, row] of rows) {
    if (!seen.has(name)) {
      row.tr.remove();
      rows.delete(name);
    }
  }
  $('list-empty').hidden = pools.length > 0;
  $('pools').hidden = pools.length === 0;
}

async function runList() {
  document.title = 'Pools · plasmite';
  $('list-view').hidden = false;
  const rows = new Map();
  for (;;) {
    if (!document.hidden) {
      try {
        const v = await (await api('/v0/pools')).json();
        renderPools(rows, Array.isArray(v.pools) ? v.pools : []);
        setText($('list-status'), '');
      } catch (e) {
        setText($('list-status'), `Cannot list pools: ${describe(e)}`);
      }
    }
    await sleep(REFRESH_MS);
  }
}

// ---- the pool view ----

const view = {
  name: '',
  items: [], // messages { kind: 'msg', seq, … } and gaps { kind: 'gap', … }, in seq order
  count: 0, // messages in `items`
  lastSeq: 0, // highest seq received; 0 before the first
  nextSeq: 0, // where the stream resumes; 0: start from the pool's last `limit` messages
  limit: 100,
  order: 'newest-first',
  tags: [],
  text: '',
  paused: false,
  running: false,
  abort: null,
  gen: 0, // bumped when the view starts over: lines of an older stream are ignored
  renderQueued: false,
  statsTimer: null,
  infoAsked: 0, // pool info requests started
  infoShown: 0, // the request whose answer the stats line shows: an older answer is not shown
};

const poolPath = (what) => `/v0/pools/${encodeURIComponent(view.name)}/${what}`;

function setLive(state, text) {
  const e = $('live-status');
  e.className = `status live-${state}`;
  setText(e, text);
}

function addGap(text) {
  view.items.push({ kind: 'gap', text, node: null });
  queueRender();
}

function addMessage(v, line) {
  const raw = rawData(line) ?? JSON.stringify(v.data);
  const tags = Array.isArray(v.meta && v.meta.tags) ? v.meta.tags.map(String) : [];
  view.items.push({
    kind: 'msg',
    seq: v.seq,
    time: String(v.time),
    tags,
    raw,
    hay: `${raw}\n${tags.join('\n')}`.toLowerCase(),
    node: null,
  });
  view.lastSeq = v.seq;
  view.nextSeq = v.seq + 1;
  view.count += 1;
  queueStats();
  // Drop the oldest messages and the gaps before them; a gap right before the oldest kept message
  // stays, since it tells what came before the window.
  while (view.count > view.limit) if (view.items.shift().kind === 'msg') view.count -= 1;
  queueRender();
}

/** One line of the tail stream: a message, a drop report, or an error envelope. */
function onLine(line) {
  let v;
  try {
    v = JSON.parse(line);
  } catch {
    addGap('An unreadable line of the stream was skipped.');
    return;
  }
  if (v && v.drop) {
    const lost = Number(v.drop.lost) || 0;
    const next = Number(v.drop.next_seq) || 0;
    addGap(`${lost} message${lost === 1 ? ' was' : 's were'} lost: the ring overwrote ` +
      `${lost === 1 ? 'it' : 'them'} before ${lost === 1 ? 'it' : 'they'} could be read.` +
      (next ? ` Continuing at #${next}.` : ''));
    if (next > view.nextSeq) view.nextSeq = next;
  } else if (v && v.error) {
    addGap(`The server reported an error: ${v.error.message} (${v.error.kind}).`);
  } else if (v && typeof v.seq === 'number') {
    if (v.seq <= view.lastSeq) return; // already shown: delivery is at least once
    if (view.lastSeq > 0 && v.seq > view.nextSeq) {
      addGap(`${plural(v.seq - view.nextSeq, 'message')} missing before #${v.seq}.`);
    }
    addMessage(v, line);
  }
}

/** Reads a JSON Lines body as it arrives, calling `onLine` for each complete line. */
async function readLines(body, gen) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let start = 0;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n', start)) {
      const line = buf.slice(start, nl);
      start = nl + 1;
      if (gen === view.gen && line.trim()) onLine(line);
    }
    buf = buf.slice(start);
  }
  // A line cut by the end of the stream is not trusted: the resume seq covers it.
}

/**
 * Pool info, shown as the stats line. Requests overlap (the 2 s refresh, after messages, before each
 * connection) and may be answered out of order: an answer to a request older than the one shown is
 * returned to its caller but not shown.
 */
async function poolInfo() {
  view.infoAsked += 1;
  const asked = view.infoAsked;
  const { pool } = await (await api(poolPath('info'))).json();
  if (asked < view.infoShown) return pool;
  view.infoShown = asked;
  const b = pool.bounds || {};
  const parts = [plural(pool.message_count ?? 0, 'message')];
  if (b.oldest) parts.push(`#${b.oldest}–#${b.newest}`);
  parts.push(formatBytes(pool.file_size), `${Number(pool.used_percent || 0).toFixed(1)}% used`);
  parts.push(pool.newest_time ? `newest ${formatAge(Date.now() - parseTime(pool.newest_time))}`
    : 'empty');
  setText($('pool-stats'), parts.join(' · '));
  return pool;
}

/** Refreshes the stats line soon after messages arrive (at most every 500 ms). */
function queueStats() {
  if (view.statsTimer) return;
  view.statsTimer = setTimeout(() => {
    view.statsTimer = null;
    poolInfo().catch(() => {});
  }, 500);
}

/** Before each connection: where to resume, and whether to skip what we would not keep anyway. */
async function prepare() {
  const b = (await poolInfo()).bounds || {};
  const oldest = b.oldest || 0;
  const newest = b.newest || 0;
  if (view.lastSeq > newest) {
    startOver();
    addGap('The pool was recreated: its seqs started over.');
  }
  if (view.nextSeq === 0) {
    if (newest > 0) view.nextSeq = Math.max(oldest, newest - view.limit + 1, 1);
  } else if (newest - view.nextSeq + 1 > view.limit) {
    // More waiting than we keep: go straight to the last `limit`, saying what is not shown and why.
    const to = Math.max(newest - view.limit + 1, oldest);
    const lost = Math.max(0, Math.min(oldest, to) - view.nextSeq);
    const skipped = to - view.nextSeq - lost;
    const why = [];
    if (lost) why.push(`${lost} overwritten by the ring before they could be read`);
    if (skipped) why.push(`${skipped} skipped, as more arrived than the last ${view.limit} kept here`);
    addGap(`${plural(to - view.nextSeq, 'message')} not shown: ${why.join('; ')}. ` +
      `Continuing at #${to}.`);
    view.nextSeq = to;
  }
}

/** Follows the pool through the tail stream until paused, reconnecting after every end or error. */
async function follow() {
  if (view.running) return;
  view.running = true;
  let retry = RETRY_MS_MIN;
  while (!view.paused) {
    const ctrl = new AbortController();
    view.abort = ctrl;
    try {
      setLive('connecting', 'Connecting…');
      await prepare();
      const { gen } = view;
      const q = view.nextSeq > 0 ? `?since_seq=${view.nextSeq}` : '';
      const res = await api(poolPath('tail') + q, { signal: ctrl.signal });
      if (view.nextSeq === 0) view.nextSeq = Number(res.headers.get('plasmite-next-seq')) || 0;
      setLive('on', 'Live');
      retry = RETRY_MS_MIN;
      await readLines(res.body, gen); // until the server's time limit ends the stream
    } catch (e) {
      if (!ctrl.signal.aborted) {
        setLive('error', `${describe(e)}: retrying in ${Math.ceil(retry / 1000)} s`);
        await sleep(retry);
        retry = Math.min(retry * 2, RETRY_MS_MAX);
      }
    }
  }
  view.abort = null;
  view.running = false;
  setLive('paused', 'Paused');
}

function startOver() {
  view.gen += 1;
  view.items = [];
  view.count = 0;
  view.lastSeq = 0;
  view.nextSeq = 0;
  render(); // at once: nothing of the old view may linger
}

function matches(it) {
  return view.tags.every((t) => it.tags.includes(t)) && (!view.text || it.hay.includes(view.text));
}

function messageNode(it) {
  const tags = it.tags.map((t) => h('button', {
    type: 'button', class: 'tag', 'data-tag': t, title: `Show only messages tagged “${t}”`,
  }, t));
  return h('li', { class: 'msg' },
    h('div', { class: 'msg-head' },
      h('span', { class: 'seq' }, `#${it.seq}`),
      h('time', { datetime: it.time.replace(/(\.\d{3})\d+/, '$1'), title: it.time },
        formatTime(it.time)),
      tags.length ? h('span', { class: 'tags', role: 'group', 'aria-label': 'Tags' }, ...tags) : null),
    h('pre', { class: 'data' }, indentJson(it.raw)));
}

/** Makes `parent`'s children exactly `nodes`, moving as few as possible (focus stays put). */
function reconcile(parent, nodes) {
  const keep = new Set(nodes);
  for (const c of [...parent.children]) if (!keep.has(c)) c.remove();
  let at = parent.firstChild;
  for (const n of nodes) {
    if (n === at) at = at.nextSibling;
    else parent.insertBefore(n, at);
  }
}

function queueRender() {
  if (view.renderQueued) return;
  view.renderQueued = true;
  requestAnimationFrame(render);
}

function render() {
  view.renderQueued = false;
  const nodes = [];
  let total = 0;
  let shown = 0;
  for (const it of view.items) {
    if (it.kind === 'msg') {
      total += 1;
      if (!matches(it)) continue;
      shown += 1;
      it.node ||= messageNode(it);
    } else {
      it.node ||= h('li', { class: 'gap', role: 'note' }, h('span', { 'aria-hidden': 'true' }, '⚠'),
        h('span', {}, it.text));
    }
    nodes.push(it.node);
  }
  if (view.order === 'newest-first') nodes.reverse();
  const bottom = document.documentElement;
  const atBottom = window.innerHeight + window.scrollY >= bottom.scrollHeight - 48;
  reconcile($('messages'), nodes);
  if (view.order === 'newest-last' && atBottom) window.scrollTo(0, bottom.scrollHeight);
  let text;
  if (total === 0) text = 'No messages yet: new ones appear here as they arrive.';
  else if (view.tags.length || view.text) text = `${shown} of ${total} messages match the filter.`;
  else text = `${plural(total, 'message')}${total >= view.limit ? ` (the last ${view.limit})` : ''}.`;
  setText($('shown'), text);
}

function setWritable(on, why) {
  $('append-form').hidden = !on;
  $('append-off').hidden = on;
  setText($('append-off'), on ? '' : why);
}

function wireControls() {
  const applyFilter = () => {
    view.tags = splitTags($('filter-tag').value);
    view.text = $('filter-text').value.trim().toLowerCase();
    queueRender();
  };
  $('view-form').addEventListener('submit', (ev) => ev.preventDefault());
  $('filter-tag').addEventListener('input', applyFilter);
  $('filter-text').addEventListener('input', applyFilter);
  $('order').addEventListener('change', () => {
    view.order = $('order').value;
    queueRender();
  });
  $('limit').addEventListener('change', () => {
    view.limit = Number($('limit').value) || 100;
    startOver();
    if (view.abort) view.abort.abort();
  });
  $('pause').addEventListener('click', () => {
    view.paused = !view.paused;
    $('pause').textContent = view.paused ? 'Resume' : 'Pause';
    $('pause').setAttribute('aria-pressed', String(view.paused));
    if (view.paused) {
      if (view.abort) view.abort.abort();
      setLive('paused', 'Paused');
    } else {
      follow();
    }
  });
  $('messages').addEventListener('click', (ev) => {
    const b = ev.target.closest('button.tag');
    if (!b) return;
    $('filter-tag').value = b.dataset.tag;
    applyFilter();
    $('filter-tag').focus();
  });
}

function wireAppend() {
  const form = $('append-form');
  const data = $('append-data');
  const status = $('append-status');
  data.addEventListener('input', () => {
    if (!data.hasAttribute('aria-invalid')) return;
    data.removeAttribute('aria-invalid');
    setText(status, '');
  });
  data.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = data.value.trim();
    try {
      JSON.parse(text);
      data.removeAttribute('aria-invalid');
    } catch (e) {
      data.setAttribute('aria-invalid', 'true');
      status.className = 'status bad';
      setText(status, `Data is not valid JSON: ${e.message}`);
      data.focus();
      return;
    }
    // `text` is exactly one JSON value (JSON.parse said so): sent as written.
    const body = `{"data":${text},"tags":${JSON.stringify(splitTags($('append-tags').value))}}`;
    const button = $('append-submit');
    button.disabled = true;
    status.className = 'status';
    setText(status, 'Appending…');
    try {
      const res = await api(poolPath('append'), {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body,
      });
      const { message } = await res.json();
      status.className = 'status good';
      setText(status, `Appended as #${message.seq}.`);
    } catch (e) {
      status.className = 'status bad';
      if (e instanceof ApiError && e.status === 403) {
        setText(status, '');
        setWritable(false, `Appending is not allowed: ${e.message}.`);
      } else {
        setText(status, `Append failed: ${describe(e)}`);
      }
    } finally {
      button.disabled = false;
    }
  });
}

async function runPool(name) {
  view.name = name;
  document.title = `${name} · plasmite`;
  setText($('pool-title'), name);
  setText($('crumb-pool'), name);
  $('crumbs').hidden = false;
  $('pool-view').hidden = false;
  const access = document.querySelector('meta[name="plasmite-access"]');
  if (access && access.content === 'read-only') {
    setWritable(false, 'This server is read-only (it runs with --access read-only), so messages ' +
      'cannot be appended from here.');
  }
  wireControls();
  wireAppend();
  render();
  follow();
  for (;;) {
    await sleep(REFRESH_MS);
    if (!document.hidden) await poolInfo().catch(() => {});
  }
}

// ---- start ----

function main() {
  $('forget-token').hidden = !token.get();
  $('forget-token').addEventListener('click', () => {
    token.clear();
    location.reload();
  });
  $('token-dialog').addEventListener('cancel', (ev) => ev.preventDefault());
  const m = /^\/ui\/pools\/([^/]+)$/.exec(location.pathname);
  if (!m) {
    runList();
    return;
  }
  let name;
  try {
    name = decodeURIComponent(m[1]);
  } catch {
    name = m[1];
  }
  runPool(name);
}

main();
