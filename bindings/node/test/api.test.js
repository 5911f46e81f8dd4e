// Every method of the package, through its import, against a local directory and against a real
// `plasmite serve` (port 0, with a token): the same tests for both.
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { Client, Durability, PlasmiteError, Message, ErrorKind } = require('..')
const { tempDir, serve, cli, sleep, plasmiteBin, holdLock } = require('./support')

const TOKEN = 'node-binding-test-token'

// Find (or build, on a fresh clone) the plasmite binary before any test starts a clock.
test.before(() => plasmiteBin())

const backends = {
  local: async (t) => {
    const dir = tempDir(t)
    return { dir, client: new Client(dir), ref: (name) => name }
  },
  remote: async (t) => {
    const dir = tempDir(t)
    const tokenFile = path.join(dir, '..', `${path.basename(dir)}.token`)
    fs.writeFileSync(tokenFile, TOKEN)
    t.after(() => fs.rmSync(tokenFile, { force: true }))
    const { url } = await serve(t, dir, ['--token-file', tokenFile])
    return { dir, url, client: new Client(url, { token: TOKEN }), ref: (name) => name }
  },
}

function assertKind(f, kind, check = () => {}) {
  assert.throws(f, (e) => {
    assert.ok(e instanceof PlasmiteError, `not a PlasmiteError: ${e}`)
    assert.ok(e instanceof Error)
    assert.equal(e.kind, kind, e.message)
    check(e)
    return true
  })
}

/** Collects a tail into an array. */
async function drain(tail) {
  const out = []
  for await (const m of tail) out.push(m)
  return out
}

for (const [name, setup] of Object.entries(backends)) {
  test(`${name}: pool lifecycle`, async (t) => {
    const { client, url } = await setup(t)
    assert.deepEqual(client.listPools(), [])
    const pool = client.createPool('events', 1024 * 1024)
    assertKind(() => client.createPool('events', 1024 * 1024), ErrorKind.AlreadyExists)
    assert.equal(pool.info().messageCount, 0)
    assert.deepEqual(pool.info().bounds, {})
    client.openPool('events')
    const other = client.pool('other', 128 * 1024)
    assert.equal(client.poolInfo('other').fileSize, 128 * 1024)
    other.append({ hi: 1 })
    assert.equal(client.pool('other', 1024 * 1024).info().messageCount, 1, 'pool() opens an existing pool')
    const info = client.poolInfo('events')
    assert.equal(info.name, 'events')
    assert.equal(info.fileSize, 1024 * 1024)
    for (const k of ['path', 'ringSize', 'indexSlots', 'usedBytes', 'createdTime']) assert.ok(k in info, k)
    assert.deepEqual(
      client.listPools().map((p) => p.name),
      ['events', 'other'],
    )
    other.close()
    client.deletePool('other')
    // A remote NotFound names the server's path too.
    assertKind(() => client.openPool('other'), ErrorKind.NotFound, (e) => assert.ok(e.path, `path from ${url ?? 'local'}`))
    assertKind(() => client.deletePool('other'), ErrorKind.NotFound)
    assert.deepEqual(
      client.listPools().map((p) => p.name),
      ['events'],
    )
  })

  test(`${name}: append, appendJson and get`, async (t) => {
    const { client } = await setup(t)
    const pool = client.createPool('m', 1024 * 1024)
    const values = [{ sensor: 'temp', value: 23.5 }, [1, 2, 3], 'text', 42, true, null]
    for (const [i, v] of values.entries()) {
      const m = pool.append(v, i % 2 ? ['odd'] : [], i === 1 ? Durability.Flush : Durability.Fast)
      assert.ok(m instanceof Message)
      assert.equal(m.seq, i + 1)
      assert.deepEqual(m.data, v)
      assert.match(m.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/)
      assert.ok(m.date instanceof Date && !Number.isNaN(m.date.getTime()))
      assert.deepEqual(pool.get(m.seq).toJSON(), m.toJSON())
    }
    const b = pool.appendJson(Buffer.from('{"sensor": "temp",  "value": 23.5}'), ['a', 'b'], Durability.Fast)
    assert.deepEqual([b.seq, b.tags, b.data], [7, ['a', 'b'], { sensor: 'temp', value: 23.5 }])
    assert.equal(pool.appendJson('[1, {"x": "y"}]').seq, 8)
    assert.equal(pool.appendJson(new TextEncoder().encode('"u8"')).seq, 9)
    const got = pool.get(7)
    assert.deepEqual([got.seq, got.tags, got.data, got.time], [7, ['a', 'b'], b.data, b.time])
    assert.equal(JSON.stringify(pool.get(8).data), '[1,{"x":"y"}]')
    assertKind(() => pool.get(99), ErrorKind.NotFound, (e) => assert.equal(e.seq, 99))
    const info = pool.info()
    assert.equal(info.messageCount, 9)
    assert.deepEqual(info.bounds, { oldest: 1, newest: 9 })
  })

  test(`${name}: async variants of append, appendJson and get`, async (t) => {
    const { client } = await setup(t)
    const pool = client.createPool('async', 1024 * 1024)
    const [a, b, c] = await Promise.all([
      pool.appendAsync({ n: 1 }, ['x']),
      pool.appendJsonAsync(Buffer.from('{"n": 2}'), [], Durability.Flush),
      pool.appendJsonAsync('{"n": 3}'),
    ])
    assert.deepEqual(
      [a, b, c].map((m) => m.seq).sort(),
      [1, 2, 3],
    )
    const got = await pool.getAsync(a.seq)
    assert.deepEqual([got.data, got.tags, got.time], [{ n: 1 }, ['x'], a.time])
    await assert.rejects(pool.getAsync(99), (e) => e instanceof PlasmiteError && e.kind === ErrorKind.NotFound && e.seq === 99)
    await assert.rejects(pool.appendJsonAsync('{nope'), (e) => e.kind === ErrorKind.Usage)
    await assert.rejects(pool.appendAsync({}, [], 'never'), (e) => e.kind === ErrorKind.Usage)
  })

  test(`${name}: usage errors`, async (t) => {
    const { client } = await setup(t)
    const pool = client.createPool('u', 1024 * 1024)
    assertKind(() => pool.appendJson(Buffer.from('{not json')), ErrorKind.Usage)
    assertKind(() => pool.appendJson(42), ErrorKind.Usage)
    assertKind(() => pool.append(undefined), ErrorKind.Usage)
    assertKind(() => pool.append(10n), ErrorKind.Usage)
    assertKind(() => pool.append({}, [1]), ErrorKind.Usage)
    assertKind(() => pool.append({}, 'tag'), ErrorKind.Usage)
    assertKind(() => pool.append({}, [], 'sometimes'), ErrorKind.Usage)
    assertKind(() => pool.get(-1), ErrorKind.Usage)
    assertKind(() => pool.get(1.5), ErrorKind.Usage)
    assertKind(() => client.createPool('bad name', 1024 * 1024), ErrorKind.Usage)
    assertKind(() => client.createPool('small', 10), ErrorKind.Usage)
    assert.equal(pool.info().messageCount, 0, 'nothing was appended by a refused call')
    pool.close()
    assertKind(() => pool.get(1), ErrorKind.Usage)
  })

  test(`${name}: a tail from a seq, with max, tags and timeout`, async (t) => {
    const { client } = await setup(t)
    const pool = client.createPool('t', 1024 * 1024)
    for (let i = 0; i < 10; i++) pool.append({ i }, i % 3 === 0 ? ['three'] : [])
    const firstFive = await drain(pool.tail({ sinceSeq: 1, max: 5 }))
    assert.deepEqual(
      firstFive.map((m) => m.seq),
      [1, 2, 3, 4, 5],
    )
    assert.deepEqual(firstFive[2].data, { i: 2 })
    const tagged = await drain(pool.tail({ sinceSeq: 1, tags: ['three'], timeoutMs: 300 }))
    assert.deepEqual(
      tagged.map((m) => m.seq),
      [1, 4, 7, 10],
    )
    const tail = pool.tail({ timeoutMs: 5000, max: 2 })
    setTimeout(() => {
      pool.append({ late: 1 })
      pool.append({ late: 2 })
    }, 100)
    const late = await drain(tail)
    assert.deepEqual(
      late.map((m) => m.data),
      [{ late: 1 }, { late: 2 }],
    )
    assert.equal(tail.lost, 0)
  })

  test(`${name}: timers keep firing while a tail waits`, async (t) => {
    const { client } = await setup(t)
    const pool = client.createPool('w', 1024 * 1024)
    let ticks = 0
    const timer = setInterval(() => ticks++, 10)
    t.after(() => clearInterval(timer))
    const tail = pool.tail({ timeoutMs: 600 })
    const waited = drain(tail)
    await sleep(300)
    const during = ticks
    assert.deepEqual(await waited, [])
    // A wait on the event loop would have let no tick through at all.
    assert.ok(during >= 5, `only ${during} ticks in 300 ms while the tail waited`)
  })

  test(`${name}: an AbortSignal stops a waiting tail and nothing is delivered after it`, async (t) => {
    const { client } = await setup(t)
    const pool = client.createPool('a', 1024 * 1024)
    const ac = new AbortController()
    const seen = []
    const tail = pool.tail({ signal: ac.signal })
    const run = (async () => {
      for await (const m of tail) {
        seen.push(m.seq)
        if (m.seq === 2) ac.abort()
      }
    })()
    await sleep(50)
    pool.append({ n: 1 })
    pool.append({ n: 2 })
    pool.append({ n: 3 })
    await assert.rejects(run, (e) => e.name === 'AbortError')
    pool.append({ n: 4 })
    assert.deepEqual(seen, [1, 2])
    // An already aborted signal: the first next() rejects.
    await assert.rejects(drain(pool.tail({ sinceSeq: 1, signal: AbortSignal.abort() })), (e) => e.name === 'AbortError')
    // Abort while nothing arrives: the pending wait ends promptly (within the generous bound).
    const ac2 = new AbortController()
    setTimeout(() => ac2.abort(), 100)
    await assert.rejects(drain(pool.tail({ signal: ac2.signal, timeoutMs: 60000 })), (e) => e.name === 'AbortError')
  })

  test(`${name}: break cancels a tail`, async (t) => {
    const { client } = await setup(t)
    const pool = client.createPool('b', 1024 * 1024)
    for (let i = 0; i < 100; i++) pool.append({ i })
    const tail = pool.tail({ sinceSeq: 1 })
    let n = 0
    for await (const m of tail) {
      n++
      if (m.seq === 3) break
    }
    assert.equal(n, 3)
    assert.deepEqual(await tail.next(), { value: undefined, done: true })
    // cancel() while a next() waits: it resolves as done.
    const waiting = pool.tail({})
    const pending = waiting.next()
    setTimeout(() => waiting.cancel(), 100)
    assert.deepEqual(await pending, { value: undefined, done: true })
    pool.append({ after: 'cancel' })
    assert.deepEqual(await waiting.next(), { value: undefined, done: true })
  })

  test(`${name}: a lapped reader is told how many messages it lost`, async (t) => {
    const { client } = await setup(t)
    const pool = client.createPool('lap', 64 * 1024)
    const big = 'x'.repeat(1000)
    for (let i = 0; i < 300; i++) pool.append({ i, big })
    const { bounds } = pool.info()
    assert.ok(bounds.oldest > 1, 'the ring wrapped')
    const losses = []
    const tail = pool.tail({ sinceSeq: 1, max: 2, onLost: (n) => losses.push(n) })
    const got = await drain(tail)
    assert.deepEqual(
      got.map((m) => m.seq),
      [bounds.oldest, bounds.oldest + 1],
    )
    assert.equal(tail.lost, bounds.oldest - 1)
    assert.deepEqual(losses, [bounds.oldest - 1])
    // A throwing onLost ends the iteration with its error.
    const boom = new Error('boom')
    await assert.rejects(
      drain(pool.tail({ sinceSeq: 1, onLost: () => { throw boom } })),
      (e) => e === boom,
    )
  })

  test(`${name}: a writer in another process is seen by a waiting tail`, async (t) => {
    const { client, dir, url } = await setup(t)
    const pool = client.createPool('x', 1024 * 1024)
    const tail = pool.tail({ timeoutMs: 30000, max: 1 })
    const got = drain(tail)
    await sleep(100)
    // The other process writes the pool file directly (for the remote client, the server's file).
    const child = spawn(plasmiteBin(), ['--dir', dir, 'poke', 'x', '{"from":"child"}'], { stdio: 'ignore' })
    const code = await new Promise((r) => child.on('exit', r))
    const [m] = await got
    const latencyMs = Date.now() - m.date.getTime()
    assert.equal(code, 0)
    assert.deepEqual(m.data, { from: 'child' })
    t.diagnostic(`commit-to-delivery latency ${latencyMs} ms`)
  })

  test(`${name}: refs as strings (the CLI rule) and as {name}, {path}, {uri}`, async (t) => {
    const { client, url } = await setup(t)
    client.createPool('chat.plasmite', 65536).append('by suffix')
    client.createPool({ name: 'mid.dle' }, 65536)
    assert.deepEqual(
      client.listPools().map((p) => p.name),
      ['chat', 'mid.dle'],
    )
    assert.equal(client.openPool({ name: 'chat' }).get(1).data, 'by suffix')
    assert.equal(client.poolInfo('chat.plasmite').messageCount, 1)
    // A name is checked as a name, even with a `/` the CLI rule would read as a path.
    for (const bad of ['sub/dir', '../escape', '', '-dash']) {
      assertKind(() => client.createPool({ name: bad }, 65536), ErrorKind.Usage)
    }
    assertKind(() => client.openPool({ uri: 'tcp://127.0.0.1:1/pool/chat' }), ErrorKind.Usage)
    for (const bad of [{ nom: 'x' }, { name: 1 }, { name: 'a', path: 'b' }, 7, null]) {
      assertKind(() => client.openPool(bad), ErrorKind.Usage)
    }
    if (url) assertKind(() => client.openPool({ path: '/tmp/x.plasmite' }), ErrorKind.Usage)
  })

  test(`${name}: openPool readOnly`, async (t) => {
    const { client, url } = await setup(t)
    client.createPool('ro', 65536).append({ n: 1 })
    if (url) {
      assertKind(() => client.openPool('ro', { readOnly: true }), ErrorKind.Usage)
      return
    }
    const ro = client.openPool('ro', { readOnly: true })
    assert.equal(ro.get(1).data.n, 1)
    assert.equal(ro.info().writable, false)
    assertKind(() => ro.append({ n: 2 }), ErrorKind.Permission, (e) => assert.ok(e.path))
    assert.equal(client.openPool('ro', { readOnly: false }).append({ n: 2 }).seq, 2)
    assertKind(() => client.openPool('ro', { readOnly: 'yes' }), ErrorKind.Usage)
  })

  test(`${name}: tail.end, timeouts counted from the pull, the live edge at creation, batch`, async (t) => {
    const { client } = await setup(t)
    const pool = client.createPool('ends', 1024 * 1024)
    const live = pool.tail({ max: 1 }) // from the live edge as it is now, before any append
    pool.append({ n: 1 })
    pool.append({ n: 2 })
    const byMax = pool.tail({ sinceSeq: 1, max: 1 })
    assert.equal(byMax.end, null)
    assert.deepEqual((await drain(byMax)).map((m) => m.seq), [1])
    assert.equal(byMax.end, 'max')
    assert.deepEqual((await drain(live)).map((m) => m.seq), [1], 'the edge is where the tail was made')
    const byTimeout = pool.tail({ sinceSeq: 3, timeoutMs: 50 })
    assert.deepEqual(await drain(byTimeout), [])
    assert.equal(byTimeout.end, 'timeout')
    // The timeout counts the wait of a read, not the time before it: a late reader still gets what is there.
    const late = pool.tail({ sinceSeq: 1, timeoutMs: 50, batch: 1 })
    await sleep(300)
    assert.deepEqual((await drain(late)).map((m) => m.seq), [1, 2])
    assert.equal(late.end, 'timeout')
    const cancelled = pool.tail({ sinceSeq: 1 })
    await cancelled.next()
    cancelled.cancel()
    assert.equal(cancelled.end, 'cancelled')
    for (const batch of [0, 4097, 1.5, '1']) assertKind(() => pool.tail({ batch }), ErrorKind.Usage)
  })

  test(`${name}: a batch-1 tail reads nothing ahead, so a reader that pauses sees its losses`, async (t) => {
    const { client } = await setup(t)
    const pool = client.createPool('ring', 65536)
    const pad = 'x'.repeat(70)
    for (let i = 0; i < 100; i++) pool.append({ pad })
    const slow = pool.tail({ sinceSeq: 1, batch: 1 })
    assert.equal((await slow.next()).value.seq, 1)
    for (let i = 0; i < 1000; i++) pool.append({ pad })
    const { oldest } = pool.info().bounds
    assert.ok(oldest > 2, `the ring wrapped (oldest ${oldest})`)
    assert.equal((await slow.next()).value.seq, oldest)
    assert.equal(slow.lost, oldest - 2)
    slow.cancel()
  })

  test(`${name}: gapPolicy 'error' ends the tail with the gap before any later message`, async (t) => {
    const { client } = await setup(t)
    const pool = client.createPool('gap', 65536)
    const pad = 'x'.repeat(100)
    for (let i = 0; i < 2000; i++) pool.append({ i, pad })
    const { oldest } = pool.info().bounds
    assert.ok(oldest > 1, `the ring wrapped (oldest ${oldest})`)
    const kept = pool.tail({ sinceSeq: 1, max: 1 }) // 'continue', the default: counted, not thrown
    assert.deepEqual((await drain(kept)).map((m) => m.seq), [oldest])
    assert.equal(kept.lost, oldest - 1)
    for (const batch of [undefined, 1]) {
      const strict = pool.tail({ sinceSeq: 1, max: 1, timeoutMs: 30000, gapPolicy: 'error', batch })
      await assert.rejects(strict.next(), (e) => {
        assert.ok(e instanceof PlasmiteError)
        assert.equal(e.kind, ErrorKind.RetentionGap)
        assert.equal(e.seq, 1)
        return true
      })
      assert.equal(strict.end, 'error')
      assert.deepEqual(await strict.next(), { value: undefined, done: true })
    }
    for (const gapPolicy of ['skip', 1]) assertKind(() => pool.tail({ gapPolicy }), ErrorKind.Usage)
  })
}

test('local: refs as names, paths and URIs', async (t) => {
  const dir = tempDir(t)
  const client = new Client(dir)
  const p = path.join(dir, 'nested', 'deep', 'direct.plasmite')
  client.createPool(p, 1024 * 1024).append({ via: 'path' })
  assert.deepEqual(client.openPool(p).get(1).data, { via: 'path' })
  assert.equal(client.poolInfo(p).name, 'direct')
  client.createPool('named.plasmite', 1024 * 1024)
  client.openPool('named')
  for (const uri of ['tcp://host:1/pool/x', 'http://127.0.0.1:1/x']) {
    assertKind(() => client.openPool(uri), ErrorKind.Usage)
    assertKind(() => client.createPool(uri, 1024 * 1024), ErrorKind.Usage)
  }
  assertKind(() => new Client(dir, { token: 'x' }), ErrorKind.Usage)
  // An unreadable pool is listed with its error.
  fs.writeFileSync(path.join(dir, 'junk.plasmite'), 'not a pool at all')
  const junk = client.listPools().find((p) => p.name === 'junk')
  assert.ok(junk.error instanceof PlasmiteError)
  assert.equal(junk.error.kind, ErrorKind.Corrupt)
})

test('local: Busy, Permission, Corrupt and Io errors', async (t) => {
  const dir = tempDir(t)
  const client = new Client(dir)
  client.createPool('held', 1024 * 1024)
  // A writer holding the pool's lock (flock(1) takes the same lock) makes delete Busy.
  await holdLock(t, path.join(dir, 'held.plasmite'))
  assertKind(() => client.deletePool('held'), ErrorKind.Busy, (e) => assert.ok(e.path))
  assertKind(() => client.createPool('/sys/plasmite-node-test.plasmite', 1024 * 1024), ErrorKind.Permission)
  const file = path.join(dir, 'bad.plasmite')
  client.createPool(file, 1024 * 1024).close()
  const fd = fs.openSync(file, 'r+')
  fs.writeSync(fd, Buffer.alloc(8, 0xff), 0, 8, 32)
  fs.closeSync(fd)
  assertKind(() => client.openPool(file), ErrorKind.Corrupt, (e) => {
    assert.equal(e.path, file)
    assert.equal(typeof e.offset, 'number')
  })
  fs.writeFileSync(path.join(dir, 'afile'), 'x')
  assertKind(() => client.openPool(path.join(dir, 'afile', 'p.plasmite')), ErrorKind.Io)
})

test('remote: tokens, Permission, Busy, Corrupt and Io errors', async (t) => {
  const { url, dir, client } = await backends.remote(t)
  client.createPool('p', 1024 * 1024).append({ a: 1 })
  assertKind(() => new Client(url).openPool('p'), ErrorKind.Permission)
  assertKind(() => new Client(url, { token: 'wrong' }).openPool('p').get(1), ErrorKind.Permission)
  assertKind(() => client.openPool('./p.plasmite'), ErrorKind.Usage)
  assertKind(() => new Client(`${url}/extra`), ErrorKind.Usage)
  const holder = await holdLock(t, path.join(dir, 'p.plasmite'))
  assertKind(() => client.deletePool('p'), ErrorKind.Busy)
  holder.kill()
  // A pool the server has not opened yet, damaged before it does.
  new Client(dir).createPool('bad', 1024 * 1024).append({ b: 1 })
  const fd = fs.openSync(path.join(dir, 'bad.plasmite'), 'r+')
  fs.writeSync(fd, Buffer.alloc(8, 0xff), 0, 8, 32)
  fs.closeSync(fd)
  assertKind(() => client.poolInfo('bad'), ErrorKind.Corrupt)
  // Nothing listens on port 1.
  assertKind(() => new Client('http://127.0.0.1:1', { token: 'x' }).openPool('p'), ErrorKind.Io)
})

test('the README example runs as written', async (t) => {
  const dir = tempDir(t)
  const r = cli(['version'])
  assert.equal(r.status, 0)
  process.chdir(dir)
  const { Client: C, Durability: D } = require('plasmite-node')
  const client = new C('./data')
  const pool = client.createPool('events', 1024 * 1024)
  const m = pool.appendJson(Buffer.from('{"sensor": "temp", "value": 23.5}'), [], D.Fast)
  assert.deepEqual(m.data, { sensor: 'temp', value: 23.5 })
  assert.ok(fs.existsSync(path.join(dir, 'data', 'events.plasmite')))
})

/** Runs a node script in a child process; resolves to {code, stdout} or rejects after `ms`. */
function runNode(script, ms, onSpawn = () => {}) {
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  let stdout = ''
  child.stdout.on('data', (d) => {
    stdout += d
    onSpawn(stdout)
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the child did not exit within ${ms} ms; it printed ${JSON.stringify(stdout)}`))
    }, ms)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout })
    })
  })
}

test('a tail keeps the process alive while it waits, and not otherwise', async (t) => {
  const dir = tempDir(t)
  const pool = new Client(dir).createPool('alive', 1024 * 1024)
  const pkg = JSON.stringify(path.join(__dirname, '..'))
  const idle = await runNode(
    `const { Client } = require(${pkg}); new Client(${JSON.stringify(dir)}).openPool('alive').tail({}); console.log('made')`,
    20000,
  )
  assert.deepEqual(idle, { code: 0, stdout: 'made\n' })
  let appended = false
  const waiting = await runNode(
    `const { Client } = require(${pkg})
     const p = new Client(${JSON.stringify(dir)}).openPool('alive')
     ;(async () => { const tail = p.tail({ max: 1 }); console.log('waiting'); for await (const m of tail) console.log(JSON.stringify(m.data)) })()`,
    20000,
    (out) => {
      if (!appended && out.includes('waiting')) {
        appended = true
        // Only the tail's pending wait keeps the child alive until this arrives.
        setTimeout(() => pool.append({ woke: true }), 300)
      }
    },
  )
  assert.deepEqual(waiting, { code: 0, stdout: 'waiting\n{"woke":true}\n' })
})
