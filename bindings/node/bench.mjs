// Throughput of the Node binding: appendJson and tail, local and through the HTTP remote client, in the
// same run. Each figure is the median of RUNS runs.
//
//   node bench.mjs [--messages N] [--remote-messages N] [--runs R]
//
// The remote loops start `plasmite serve --bind 127.0.0.1:0` from $PLASMITE_BIN, else the repo's
// release build, else its debug build.
import { createRequire } from 'node:module'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const { Client } = require('./index.js')
const here = path.dirname(fileURLToPath(import.meta.url))

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const MESSAGES = arg('messages', 200_000)
const REMOTE_MESSAGES = arg('remote-messages', 20_000)
const RUNS = arg('runs', 5)
const POOL_SIZE = 256 * 1024 * 1024

function plasmiteBin() {
  if (process.env.PLASMITE_BIN) return process.env.PLASMITE_BIN
  for (const p of ['release', 'debug']) {
    const bin = path.join(here, '..', '..', 'target', p, 'plasmite')
    if (fs.existsSync(bin)) return bin
  }
  throw new Error('no plasmite binary: cargo build --release at the repo root, or set PLASMITE_BIN')
}

async function serve(dir) {
  const child = spawn(plasmiteBin(), ['--dir', dir, 'serve', '--bind', '127.0.0.1:0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const lines = readline.createInterface({ input: child.stderr })
  const url = await new Promise((resolve, reject) => {
    child.on('exit', (c) => reject(new Error(`serve exited with ${c}`)))
    lines.on('line', (l) => {
      try {
        const v = JSON.parse(l)
        if (v.listening) resolve(v.listening.url.replace(/\/+$/, ''))
      } catch {}
    })
  })
  return { url, child }
}

const payload = (i) => Buffer.from(`{"sensor":"temp","value":${i % 100},"i":${i}}`)

function appendLoop(pool, n) {
  const bufs = Array.from({ length: 1024 }, (_, i) => payload(i))
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) pool.appendJson(bufs[i & 1023], [])
  return n / (Number(process.hrtime.bigint() - t0) / 1e9)
}

async function tailLoop(pool, first, n) {
  const t0 = process.hrtime.bigint()
  let seen = 0
  let sum = 0
  for await (const m of pool.tail({ sinceSeq: first, max: n })) {
    seen++
    sum += m.data.value
  }
  if (seen !== n || sum < 0) throw new Error(`tail saw ${seen} of ${n}`)
  return n / (Number(process.hrtime.bigint() - t0) / 1e9)
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

async function measure(label, client, n) {
  const appends = []
  const tails = []
  for (let r = 0; r < RUNS; r++) {
    const name = `bench${r}`
    const pool = client.createPool(name, POOL_SIZE)
    appends.push(appendLoop(pool, n))
    tails.push(await tailLoop(pool, 1, n))
    pool.close()
    client.deletePool(name)
  }
  const fmt = (xs) => `${Math.round(median(xs)).toLocaleString('en-US')} msgs/s (runs ${xs.map((x) => Math.round(x / 1000) + 'k').join(' ')})`
  console.log(`${label} appendJson: ${fmt(appends)}`)
  console.log(`${label} tail:       ${fmt(tails)}`)
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plasmite-node-bench-'))
let server
try {
  console.log(`node ${process.version}, ${MESSAGES} local / ${REMOTE_MESSAGES} remote messages of ~40 bytes, median of ${RUNS} runs`)
  await measure('local ', new Client(path.join(dir, 'local')), MESSAGES)
  const remoteDir = path.join(dir, 'remote')
  fs.mkdirSync(remoteDir)
  server = await serve(remoteDir)
  await measure('remote', new Client(server.url), REMOTE_MESSAGES)
} finally {
  if (server) server.child.kill('SIGTERM')
  fs.rmSync(dir, { recursive: true, force: true })
}
