// Test helpers: temp dirs, the plasmite binary, and a real `plasmite serve` on port 0.
'use strict'
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const readline = require('node:readline')

const REPO = path.resolve(__dirname, '..', '..', '..')

/**
 * The plasmite binary: $PLASMITE_BIN, else the repo's debug build, built here with `cargo build` the
 * first time it is missing (so `npm install && npm test` works on a fresh clone).
 */
function plasmiteBin() {
  if (process.env.PLASMITE_BIN) return process.env.PLASMITE_BIN
  const bin = path.join(REPO, 'target', 'debug', 'plasmite')
  if (!fs.existsSync(bin)) {
    const r = spawnSync('cargo', ['build', '-j2', '--bin', 'plasmite'], { cwd: REPO, stdio: 'inherit' })
    if (r.status !== 0 || !fs.existsSync(bin)) {
      throw new Error(`no plasmite binary at ${bin} and 'cargo build' failed: set PLASMITE_BIN`)
    }
  }
  return bin
}

/** A fresh temp dir, removed when the test ends. */
function tempDir(t) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'plasmite-node-'))
  t.after(() => fs.rmSync(d, { recursive: true, force: true }))
  return d
}

/**
 * Starts `plasmite serve --bind 127.0.0.1:0` over `dir` and resolves to `{url, child}` once the
 * startup line says where it listens. `extra` are more serve flags.
 */
async function serve(t, dir, extra = []) {
  const child = spawn(plasmiteBin(), ['--dir', dir, 'serve', '--bind', '127.0.0.1:0', ...extra], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  t.after(() => child.kill('SIGTERM'))
  const lines = readline.createInterface({ input: child.stderr })
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('plasmite serve did not start in 30 s')), 30000)
    child.on('exit', (code) => reject(new Error(`plasmite serve exited with ${code}`)))
    lines.on('line', (line) => {
      try {
        const v = JSON.parse(line)
        if (v.listening) {
          clearTimeout(timer)
          resolve(v.listening.url.replace(/\/+$/, ''))
        }
      } catch {}
    })
  })
  return { url, child }
}

/**
 * Holds the pool file's lock in another process (flock(1) takes the lock writers take) and resolves
 * to that child once the lock is held.
 */
async function holdLock(t, file) {
  const child = spawn('flock', ['-x', file, '-c', 'echo locked; exec sleep 60'], {
    stdio: ['ignore', 'pipe', 'ignore'],
    detached: true,
  })
  // The whole group: flock and the sleep it runs (which would otherwise hold the pipe open).
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {}
  }
  t.after(stop)
  await new Promise((resolve, reject) => {
    child.stdout.once('data', resolve)
    child.on('exit', (code) => reject(new Error(`flock exited with ${code}`)))
  })
  child.stdout.destroy()
  return { kill: stop }
}

/** Runs the CLI synchronously; returns {status, stdout, stderr}. */
function cli(args, input) {
  const r = spawnSync(plasmiteBin(), args, { input, encoding: 'utf8' })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Resolves after `ms`. */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

module.exports = { REPO, plasmiteBin, tempDir, serve, holdLock, cli, sleep }
