// The binding's limits (src/limits.rs), each at its edge, through the package's import.
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { Client, ErrorKind } = require('..')
const { tempDir } = require('./support')

test('a tail longer than one batch (TAIL_BATCH_MESSAGES_MAX = 4096) delivers every message in order', async (t) => {
  const pool = new Client(tempDir(t)).createPool('n', 4 * 1024 * 1024)
  const n = 4096 * 2 + 1
  for (let i = 0; i < n; i++) pool.appendJson('{}')
  let expect = 1
  for await (const m of pool.tail({ sinceSeq: 1, max: n })) {
    assert.equal(m.seq, expect)
    expect++
  }
  assert.equal(expect, n + 1)
})

test('a batch over TAIL_BATCH_BYTES_MAX (1 MiB) is split without splitting a message', async (t) => {
  const pool = new Client(tempDir(t)).createPool('b', 8 * 1024 * 1024)
  const big = 'y'.repeat(100 * 1024)
  for (let i = 0; i < 30; i++) pool.append({ i, big })
  const got = []
  for await (const m of pool.tail({ sinceSeq: 1, max: 30 })) got.push([m.seq, m.data.i, m.data.big.length])
  assert.deepEqual(
    got,
    Array.from({ length: 30 }, (_, i) => [i + 1, i, big.length]),
  )
})

test('seqs and sizes above JS_INTEGER_MAX (2^53 - 1) are Usage errors, the maximum itself is not', async (t) => {
  const client = new Client(tempDir(t))
  const pool = client.createPool('s', 1024 * 1024)
  assert.throws(() => pool.get(Number.MAX_SAFE_INTEGER), (e) => e.kind === ErrorKind.NotFound)
  assert.throws(() => pool.get(2 ** 53), (e) => e.kind === ErrorKind.Usage)
  assert.throws(() => client.createPool('big', 2 ** 53), (e) => e.kind === ErrorKind.Usage)
})
