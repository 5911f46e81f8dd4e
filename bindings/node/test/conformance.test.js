// The conformance runner (spec/conformance.md): every tests/conformance/*.json manifest, each step through
// the package's import against a fresh pool directory, through both doors: a local Client over the
// directory, and a remote Client over a `plasmite serve` of that directory. A step with an op this
// runner does not know fails, in either door.
//
// The remote door takes pool names only and has no read-only handle. The steps it cannot do are listed
// in REMOTE_EXCLUSIONS below (each with its reason), and the run checks that exactly those steps were
// excluded: a manifest change that adds or removes one fails here until the list says so. An excluded
// step still runs, through the local door on the same directory, so that the steps after it meet the
// state the manifest means; a step that uses a handle or stream an excluded step kept is excluded too.
// File-level steps (corrupt, chmod, truncate, lock, writers' processes) act on the pool files directly
// in both doors: the server serves the very directory the runner writes.
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const readline = require('node:readline')
const { spawn } = require('node:child_process')
const { Client } = require('..')
const { REPO, tempDir, plasmiteBin, serve } = require('./support')

const MANIFESTS = path.join(REPO, 'tests', 'conformance')

/** The header page of a pool file (spec/format.md): what opening a pool checks once. */
const POOL_HEADER_BYTES = 4096

const STALE =
  "a pool whose header or length changed under the server, which keeps the mapping it opened (spec/http.md's pool cache)"

/** The remote door's server caps pools created over HTTP at this (2 TiB: above any manifest's size). */
const REMOTE_POOL_SIZE_CAP = 2 * 1024 ** 4

/**
 * Steps (1-based) of each manifest that the remote door cannot do, by reason. Anything not listed
 * runs through the remote Client.
 */
const REMOTE_EXCLUSIONS = {
  'administration.json': {
    'a path ref (the remote door takes pool names)': [6, 24, 25, 26],
  },
  'concurrency.json': {
    'a path ref (the remote door takes pool names)': [12, 13, 14],
  },
  'errors.json': {
    'a path ref (the remote door takes pool names)': [11, 27, 28],
    'a read-only handle (the remote door has none: a server is read-only as a whole, --access read-only)': [22],
    'uses the read-only handle of an excluded step': [23, 24],
    [STALE]: [36, 42, 44],
  },
  'refs.json': {
    'a path ref (the remote door takes pool names)': [3, 7, 10, 11, 12],
  },
}

/** `expected` is contained in `actual` (objects: every expected key; arrays: same length, in order). */
function contains(actual, expected, where = '$') {
  if (expected !== null && typeof expected === 'object') {
    if (Array.isArray(expected)) {
      assert.ok(Array.isArray(actual), `${where}: expected an array, got ${JSON.stringify(actual)}`)
      assert.equal(actual.length, expected.length, `${where}: length`)
      expected.forEach((e, i) => contains(actual[i], e, `${where}[${i}]`))
    } else {
      assert.ok(
        actual !== null && typeof actual === 'object' && !Array.isArray(actual),
        `${where}: expected an object, got ${JSON.stringify(actual)}`,
      )
      for (const k of Object.keys(expected)) {
        assert.ok(k in actual, `${where}: missing key ${k} in ${JSON.stringify(actual)}`)
        contains(actual[k], expected[k], `${where}.${k}`)
      }
    }
  } else {
    assert.equal(actual, expected, `${where}`)
  }
}

const snake = (k) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

function infoJson(info) {
  const out = {}
  for (const [k, v] of Object.entries(info)) out[snake(k)] = v
  return out
}

function messageJson(m) {
  assert.match(m.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, `time ${m.time}`)
  return { seq: m.seq, time: m.time, meta: { tags: m.tags }, data: m.data }
}

/** Whether a step's pool is a path: `{"path"}`, or `{"ref"}` text the CLI rule reads as one. */
function isPathRef(pool) {
  if (pool === null || typeof pool !== 'object') return false
  if (typeof pool.path === 'string') return true
  return typeof pool.ref === 'string' && !pool.ref.includes('://') && pool.ref.includes('/')
}

/** Holds a pool file's writer lock in a flock(1) child until its stdin closes (spec/conformance.md). */
async function holdLock(file) {
  const child = spawn('flock', ['-x', file, '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const exited = new Promise((resolve) => child.on('exit', resolve))
  const line = await new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout })
    lines.once('line', resolve)
    child.on('exit', (code) => reject(new Error(`flock exited with ${code} before taking the lock`)))
    child.on('error', reject)
  })
  assert.equal(line.trim(), 'locked', 'flock(1) took the lock')
  return {
    release: async () => {
      child.stdin.end()
      await exited
    },
  }
}

/** A stream kept by `tail_open`: a Tail, reopened after a timeout where it stopped (as the Rust runner does). */
class Stream {
  constructor(pool, step) {
    this.pool = pool
    this.spec = { sinceSeq: step.since_seq, max: step.max, timeoutMs: step.timeout_ms, tags: step.tags }
    this.delivered = 0
    this.lastSeq = undefined
    this.lostBase = 0 // lost by the tails this stream had before the current one
    this.open(this.spec.sinceSeq)
  }

  open(sinceSeq) {
    const max = this.spec.max === undefined ? undefined : this.spec.max - this.delivered
    // batch 1: a kept stream reads nothing ahead of what a step asks for, so a later step sees the
    // pool as it is then (evictions meanwhile are losses, as with the Rust API's tail).
    this.tail = this.pool.tail({ sinceSeq, max, timeoutMs: this.spec.timeoutMs, tags: this.spec.tags, batch: 1 })
  }

  /** Reads until `max` messages (when given), the stream's own max, a timeout, or cancellation. */
  async read(max) {
    const messages = []
    const lostBefore = this.lostSoFar()
    let end
    for (;;) {
      if (max !== undefined && messages.length >= max) {
        end = 'max'
        break
      }
      const r = await this.tail.next()
      if (!r.done) {
        messages.push(messageJson(r.value))
        this.delivered++
        this.lastSeq = r.value.seq
        continue
      }
      end = this.tail.end
      if (end === 'timeout') {
        // Resume where it stopped: after the last delivered message, or where it started.
        this.lostBase += this.tail.lost
        this.open(this.lastSeq === undefined ? this.spec.sinceSeq : this.lastSeq + 1)
      }
      break
    }
    assert.ok(['max', 'timeout', 'cancelled'].includes(end), `stream end ${end}`)
    return { messages, lost: this.lostSoFar() - lostBefore, end }
  }

  lostSoFar() {
    return this.lostBase + this.tail.lost
  }

  cancel() {
    this.tail.cancel()
  }
}

/** Steps that act on pool files directly (in both doors), never through a Client. */
const FILE_OPS = ['corrupt', 'chmod', 'truncate', 'lock', 'unlock']

class Runner {
  /** `url`: the remote door's server over `dir`; none for the local door. */
  constructor(dir, url) {
    this.dir = dir
    this.remote = url !== undefined
    this.local = new Client(dir)
    this.client = this.remote ? new Client(url) : this.local
    this.handles = new Map() // key -> {pool, local: bool}
    this.streams = new Map() // id -> {stream, local: bool}
    this.locks = new Map()
    this.writersStarted = 0
    this.excluded = new Map() // step number -> reason
    this.stale = new Set() // keys of pools whose header or length a step changed (remote door only)
  }

  /** The ref a step's `pool` designates, as the binding takes it. */
  ref(pool) {
    if (typeof pool === 'string') return { name: pool }
    if (pool && typeof pool.path === 'string') return { path: path.join(this.dir, pool.path) }
    if (pool && typeof pool.uri === 'string') return { uri: pool.uri }
    if (pool && typeof pool.ref === 'string') return pool.ref
    throw new Error(`bad pool in step: ${JSON.stringify(pool)}`)
  }

  /** The pool file of a step's `pool` (for file-level steps). */
  file(pool) {
    if (typeof pool === 'string') return path.join(this.dir, `${pool}.plasmite`)
    if (pool && typeof pool.path === 'string') return path.join(this.dir, pool.path)
    if (pool && typeof pool.ref === 'string' && !pool.ref.includes('/')) {
      return path.join(this.dir, `${pool.ref.replace(/\.plasmite$/, '')}.plasmite`)
    }
    throw new Error(`no file for ${JSON.stringify(pool)}`)
  }

  key(pool) {
    return JSON.stringify(pool)
  }

  /** The kept handle of `pool`, else a fresh one (not kept), opened through `client`. */
  handle(pool, client) {
    const h = this.handles.get(this.key(pool))
    if (h) return h.pool
    return client.openPool(this.ref(pool))
  }

  keep(pool, p, local) {
    this.handles.set(this.key(pool), { pool: p, local })
    return p
  }

  /** Why the remote door cannot do `step` (`null`: it can); the local door does everything. */
  exclusion(step) {
    if (!this.remote) return null
    if (step.pool !== undefined && isPathRef(step.pool)) return 'a path ref (the remote door takes pool names)'
    if (step.pool !== undefined && this.stale.has(this.key(step.pool)) && step.op === 'open') return STALE
    if (step.op === 'open' && step.read_only === true) {
      return 'a read-only handle (the remote door has none: a server is read-only as a whole, --access read-only)'
    }
    if (step.stream !== undefined && this.streams.get(step.stream)?.local) return 'uses the stream of an excluded step'
    const usesHandle = ['append', 'append_json', 'append_many', 'get', 'tail', 'tail_open', 'info', 'writers']
    if (usesHandle.includes(step.op) && this.handles.get(this.key(step.pool))?.local) {
      return this.handles.get(this.key(step.pool)).pool.readOnlyStep
        ? 'uses the read-only handle of an excluded step'
        : 'uses the handle of an excluded step'
    }
    return null
  }

  async run(step, n) {
    const why = this.exclusion(step)
    if (why !== null) this.excluded.set(n, why)
    const client = why === null ? this.client : this.local
    const local = why !== null || !this.remote
    const pool = () => this.handle(step.pool, client)
    const ops = {
      create: () => infoJson(this.keep(step.pool, client.createPool(this.ref(step.pool), step.size_bytes), local).info()),
      open: () => {
        const p = client.openPool(this.ref(step.pool), { readOnly: step.read_only ?? false })
        if (step.read_only) p.readOnlyStep = n
        this.keep(step.pool, p, local)
        return {}
      },
      info: () => infoJson(pool().info()),
      list: () => ({ names: client.listPools().map((p) => p.name) }),
      delete: () => (client.deletePool(this.ref(step.pool)), {}),
      append: () => messageJson(pool().append(step.data, step.tags ?? [], step.durability ?? 'fast')),
      append_json: () => messageJson(pool().appendJson(Buffer.from(step.json), step.tags ?? [], step.durability ?? 'fast')),
      append_many: () => {
        const p = pool()
        const isObject = step.data !== null && typeof step.data === 'object' && !Array.isArray(step.data)
        let first
        let last
        for (let i = 0; i < step.count; i++) {
          const m = p.append(isObject ? { ...step.data, i } : step.data, step.tags ?? [])
          first ??= m.seq
          last = m.seq
        }
        return { first_seq: first, last_seq: last }
      },
      get: () => messageJson(pool().get(step.seq)),
      tail: async () => {
        assert.ok(step.max !== undefined || step.timeout_ms !== undefined, 'a tail step needs max or timeout_ms')
        const tail = pool().tail({ sinceSeq: step.since_seq, max: step.max, timeoutMs: step.timeout_ms, tags: step.tags })
        const messages = []
        for await (const m of tail) messages.push(messageJson(m))
        return { messages, lost: tail.lost, end: tail.end }
      },
      tail_open: () => {
        assert.equal(typeof step.stream, 'string', 'tail_open needs stream')
        this.streams.set(step.stream, { stream: new Stream(pool(), step), local })
        return {}
      },
      tail_read: () => this.stream(step).read(step.max),
      tail_cancel: () => (this.stream(step).cancel(), {}),
      tail_close: () => {
        this.stream(step).cancel()
        this.streams.delete(step.stream)
        return {}
      },
      writers: () => this.writers(step, pool),
      corrupt: () => {
        if (this.remote && step.offset < POOL_HEADER_BYTES) this.stale.add(this.key(step.pool))
        const fd = fs.openSync(this.file(step.pool), 'r+')
        try {
          fs.writeSync(fd, Buffer.from(step.bytes), 0, step.bytes.length, step.offset)
        } finally {
          fs.closeSync(fd)
        }
        return {}
      },
      chmod: () => (fs.chmodSync(this.file(step.pool), step.mode), {}),
      truncate: () => (this.remote && this.stale.add(this.key(step.pool)), fs.truncateSync(this.file(step.pool), step.length), {}),
      close: () => {
        const h = this.handles.get(this.key(step.pool))
        if (h) h.pool.close()
        this.handles.delete(this.key(step.pool))
        return {}
      },
      lock: async () => {
        const file = this.file(step.pool)
        const old = this.locks.get(file)
        this.locks.set(file, await holdLock(file))
        if (old) await old.release()
        return {}
      },
      unlock: async () => {
        const file = this.file(step.pool)
        const l = this.locks.get(file)
        assert.ok(l, 'unlock without lock')
        this.locks.delete(file)
        await l.release()
        return {}
      },
    }
    const op = Object.hasOwn(ops, step.op) ? ops[step.op] : undefined
    if (!op) throw new RunnerError(`unknown op ${JSON.stringify(step.op)}: this runner must learn it`)
    return op()
  }

  stream(step) {
    const s = this.streams.get(step.stream)
    if (!s) throw new RunnerError(`no stream ${JSON.stringify(step.stream)}`)
    return s.stream
  }

  /** `writers`: concurrent `plasmite --dir DIR poke POOL` processes, then a read-back from seq 1. */
  async writers(step, pool) {
    const target = typeof step.pool === 'string' ? step.pool : this.ref(step.pool).path
    if (typeof target !== 'string') throw new RunnerError(`writers need a name or path, not ${JSON.stringify(step.pool)}`)
    const first = this.writersStarted
    this.writersStarted += step.processes
    const children = Array.from({ length: step.processes }, () =>
      spawn(plasmiteBin(), ['--dir', this.dir, 'poke', target], { stdio: ['pipe', 'ignore', 'pipe'] }),
    )
    // Every writer is running before any gets its input, so that their appends interleave.
    const results = await Promise.all(
      children.map((child, n) => {
        const w = first + n
        let stderr = ''
        child.stderr.on('data', (d) => (stderr += d))
        const done = new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })))
        let body = ''
        for (let i = 0; i < step.messages; i++) body += `{"w":${w},"i":${i}}\n`
        child.stdin.end(body)
        return done
      }),
    )
    for (const r of results) if (r.code !== 0) throw new RunnerError(`a writer failed (${r.code}): ${r.stderr}`)
    const tail = pool().tail({ sinceSeq: 1, timeoutMs: 500 })
    const msgs = []
    for await (const m of tail) msgs.push(m)
    const seqs = msgs.map((m) => m.seq)
    const sorted = [...new Set(seqs)].sort((a, b) => a - b)
    const contiguous = sorted.every((s, i) => i === 0 || s === sorted[i - 1] + 1) && sorted.every((s, i) => s === seqs[i])
    const next = new Map()
    let ordered = true
    for (const m of msgs) {
      const { w, i } = m.data ?? {}
      if (!Number.isInteger(w) || !Number.isInteger(i)) continue
      const want = next.get(w) ?? 0
      if (want !== i) ordered = false
      next.set(w, want + 1)
    }
    return { seqs_distinct: sorted.length === seqs.length, seqs_contiguous: contiguous, writers_ordered: ordered, count: seqs.length }
  }

  async dispose() {
    for (const { stream } of this.streams.values()) stream.cancel()
    for (const l of this.locks.values()) await l.release()
  }
}

/** A failure of the runner itself (not a step's outcome): it never counts as a step's expected error. */
class RunnerError extends Error {}

/** Runs one manifest through one door; returns the steps the remote door excluded. */
async function runManifest(t, file, door) {
  const manifest = JSON.parse(fs.readFileSync(path.join(MANIFESTS, file), 'utf8'))
  assert.equal(manifest.conformance, 0, 'manifest format version')
  assert.ok(manifest.steps.length > 0, 'a manifest has steps')
  const dir = tempDir(t)
  // The network's create cap (--max-pool-size, a deployment policy answered with Permission) is lifted
  // above every size a manifest asks for, so that sizes meet the contract's own range checks.
  const url = door === 'remote' ? (await serve(t, dir, ['--max-pool-size', String(REMOTE_POOL_SIZE_CAP)])).url : undefined
  const runner = new Runner(dir, url)
  try {
    for (const [i, step] of manifest.steps.entries()) {
      const n = i + 1
      const where = `${door} ${file} step ${n} (${step.op})`
      if (process.env.CONFORMANCE_TRACE) console.error(where)
      let result
      let error
      try {
        result = await runner.run(step, n)
      } catch (e) {
        if (e instanceof RunnerError || e instanceof assert.AssertionError) throw new Error(`${where}: ${e.message}`, { cause: e })
        error = e
      }
      if (step.error) {
        assert.ok(error, `${where}: expected a ${step.error.kind} error, got ${JSON.stringify(result)}`)
        assert.equal(error.kind, step.error.kind, `${where}: ${error.message}`)
        for (const f of ['path', 'seq', 'offset']) {
          const want = step.error[`has_${f}`]
          if (want !== undefined) assert.equal(error[f] !== undefined, want, `${where}: has_${f} (${error.message})`)
        }
      } else {
        if (error) throw new Error(`${where}: ${error.message}`, { cause: error })
        if (step.expect !== undefined) contains(result, step.expect, where)
      }
    }
  } finally {
    await runner.dispose()
  }
  return runner.excluded
}

const files = fs.readdirSync(MANIFESTS).filter((f) => f.endsWith('.json')).sort()

test('there are manifests, and every listed remote exclusion names one', () => {
  assert.ok(files.length >= 7, `${files.length} manifests in ${MANIFESTS}`)
  for (const f of Object.keys(REMOTE_EXCLUSIONS)) assert.ok(files.includes(f), `REMOTE_EXCLUSIONS names ${f}`)
})

for (const file of files) {
  test(`conformance (local): ${file}`, async (t) => {
    const excluded = await runManifest(t, file, 'local')
    assert.equal(excluded.size, 0, 'the local door excludes nothing')
  })

  test(`conformance (remote): ${file}`, async (t) => {
    const excluded = await runManifest(t, file, 'remote')
    const got = {}
    for (const [n, why] of excluded) (got[why] ??= []).push(n)
    assert.deepEqual(got, REMOTE_EXCLUSIONS[file] ?? {}, `${file}: the remote door's excluded steps`)
  })
}

test('an op the runner does not know fails the run', async (t) => {
  const runner = new Runner(tempDir(t))
  await assert.rejects(() => runner.run({ op: 'frobnicate' }, 1), /unknown op "frobnicate"/)
  await assert.rejects(() => runner.run({ op: 'constructor' }, 2), /unknown op "constructor"/)
})
