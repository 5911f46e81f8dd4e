// The conformance runner (spec/conformance.md): every tests/conformance/*.json manifest, each step through
// the package's import against a fresh pool directory. A step with an op this runner does not know fails.
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { Client } = require('..')
const { REPO, tempDir, plasmiteBin } = require('./support')

const MANIFESTS = path.join(REPO, 'tests', 'conformance')

/** `expected` is contained in `actual` (objects: every expected key; arrays: same length, in order). */
function contains(actual, expected, where = '$') {
  if (expected !== null && typeof expected === 'object') {
    if (Array.isArray(expected)) {
      assert.ok(Array.isArray(actual), `${where}: expected an array, got ${JSON.stringify(actual)}`)
      assert.equal(actual.length, expected.length, `${where}: length`)
      expected.forEach((e, i) => contains(actual[i], e, `${where}[${i}]`))
    } else {
      assert.ok(actual !== null && typeof actual === 'object' && !Array.isArray(actual), `${where}: expected an object, got ${JSON.stringify(actual)}`)
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

class Runner {
  constructor(dir) {
    this.dir = dir
    this.client = new Client(dir)
    this.handles = new Map()
  }

  ref(pool) {
    if (typeof pool === 'string') return pool
    if (pool && typeof pool.path === 'string') return path.join(this.dir, pool.path)
    if (pool && typeof pool.uri === 'string') return pool.uri
    throw new Error(`bad pool in step: ${JSON.stringify(pool)}`)
  }

  file(pool) {
    const r = this.ref(pool)
    return r.includes('/') ? r : path.join(this.dir, `${r.replace(/\.plasmite$/, '')}.plasmite`)
  }

  handle(pool) {
    const key = JSON.stringify(pool)
    let h = this.handles.get(key)
    if (!h) {
      h = this.client.openPool(this.ref(pool))
      this.handles.set(key, h)
    }
    return h
  }

  keep(pool, h) {
    this.handles.set(JSON.stringify(pool), h)
    return h
  }

  async run(step) {
    const ops = {
      create: () => infoJson(this.keep(step.pool, this.client.createPool(this.ref(step.pool), step.size_bytes)).info()),
      open: () => (this.keep(step.pool, this.client.openPool(this.ref(step.pool))), {}),
      info: () => infoJson(this.handle(step.pool).info()),
      list: () => ({ names: this.client.listPools().map((p) => p.name) }),
      delete: () => (this.client.deletePool(this.ref(step.pool)), {}),
      append: () => messageJson(this.handle(step.pool).append(step.data, step.tags ?? [], step.durability ?? 'fast')),
      append_json: () =>
        messageJson(this.handle(step.pool).appendJson(Buffer.from(step.json), step.tags ?? [], step.durability ?? 'fast')),
      append_many: () => {
        const pool = this.handle(step.pool)
        let first
        let last
        for (let i = 0; i < step.count; i++) {
          const isObject = step.data !== null && typeof step.data === 'object' && !Array.isArray(step.data)
          const m = pool.append(isObject ? { ...step.data, i } : step.data, step.tags ?? [])
          first ??= m.seq
          last = m.seq
        }
        return { first_seq: first, last_seq: last }
      },
      get: () => messageJson(this.handle(step.pool).get(step.seq)),
      tail: async () => {
        const tail = this.handle(step.pool).tail({
          sinceSeq: step.since_seq,
          max: step.max,
          timeoutMs: step.timeout_ms,
          tags: step.tags,
        })
        const messages = []
        for await (const m of tail) messages.push(messageJson(m))
        return { messages, lost: tail.lost }
      },
      writers: () => this.writers(step),
      corrupt: () => {
        const fd = fs.openSync(this.file(step.pool), 'r+')
        try {
          fs.writeSync(fd, Buffer.from(step.bytes), 0, step.bytes.length, step.offset)
        } finally {
          fs.closeSync(fd)
        }
        return {}
      },
      chmod: () => (fs.chmodSync(this.file(step.pool), step.mode), {}),
      truncate: () => (fs.truncateSync(this.file(step.pool), step.length), {}),
      close: () => {
        const h = this.handles.get(JSON.stringify(step.pool))
        if (h) h.close()
        this.handles.delete(JSON.stringify(step.pool))
        return {}
      },
    }
    const op = ops[step.op]
    if (!op) throw new Error(`unknown op ${JSON.stringify(step.op)}: this runner must learn it`)
    return op()
  }

  async writers(step) {
    const r = this.ref(step.pool)
    const lines = (p) =>
      Array.from({ length: step.messages }, (_, i) => JSON.stringify({ writer: p, i })).join('\n') + '\n'
    const codes = await Promise.all(
      Array.from({ length: step.processes }, (_, p) => {
        const child = spawn(plasmiteBin(), ['--dir', this.dir, 'poke', r], { stdio: ['pipe', 'ignore', 'inherit'] })
        child.stdin.end(lines(p))
        return new Promise((resolve) => child.on('exit', resolve))
      }),
    )
    assert.deepEqual(codes, codes.map(() => 0), 'every writer exits 0')
    const pool = this.handle(step.pool)
    const { bounds } = pool.info()
    const seqs = []
    for (let s = bounds.oldest ?? 1; bounds.newest !== undefined && s <= bounds.newest; s++) seqs.push(pool.get(s).seq)
    const distinct = new Set(seqs).size === seqs.length
    const contiguous = seqs.every((s, i) => i === 0 || s === seqs[i - 1] + 1)
    return { seqs_distinct: distinct, seqs_contiguous: contiguous, count: seqs.length }
  }
}

const files = fs.readdirSync(MANIFESTS).filter((f) => f.endsWith('.json')).sort()

test('there is at least one manifest', () => {
  assert.ok(files.length > 0, `no manifest in ${MANIFESTS}`)
})

for (const file of files) {
  test(`conformance: ${file}`, async (t) => {
    const manifest = JSON.parse(fs.readFileSync(path.join(MANIFESTS, file), 'utf8'))
    assert.equal(manifest.conformance, 0, 'manifest format version')
    const runner = new Runner(tempDir(t))
    for (const [i, step] of manifest.steps.entries()) {
      const where = `${file} step ${i + 1} (${step.op})`
      let result
      let error
      try {
        result = await runner.run(step)
      } catch (e) {
        error = e
      }
      if (step.error) {
        assert.ok(error, `${where}: expected a ${step.error.kind} error, got ${JSON.stringify(result)}`)
        assert.equal(error.kind, step.error.kind, `${where}: ${error.message}`)
        for (const f of ['path', 'seq', 'offset']) {
          const want = step.error[`has_${f}`]
          if (want !== undefined) assert.equal(error[f] !== undefined, want, `${where}: has_${f}`)
        }
      } else {
        if (error) throw new Error(`${where}: ${error.message}`, { cause: error })
        if (step.expect !== undefined) contains(result, step.expect, where)
      }
    }
  })
}
