// A finished tail lets go of its pool at once (not when the garbage collector runs): a pool that was
// written through a handle is Busy to delete while anything holds that handle's file.
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { Client } = require('..')
const { tempDir } = require('./support')

for (const [how, run] of [
  ['ended by max', async (pool) => { for await (const m of pool.tail({ sinceSeq: 1, max: 1 })) assert.equal(m.seq, 1) }],
  ['ended by break', async (pool) => { for await (const m of pool.tail({ sinceSeq: 1 })) { assert.equal(m.seq, 1); break } }],
  ['ended by its timeout', async (pool) => { for await (const m of pool.tail({ sinceSeq: 2, timeoutMs: 50 })) assert.fail(`got ${m.seq}`) }],
]) {
  test(`a tail ${how} does not hold the pool off a delete after close`, async (t) => {
    const client = new Client(tempDir(t))
    const pool = client.createPool('events', 1 << 20)
    pool.append({ a: 1 })
    await run(pool)
    pool.close()
    client.deletePool('events')
    assert.deepEqual(client.listPools(), [])
  })
}
