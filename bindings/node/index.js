// plasmite-node: persistent JSON message pools in plain files, for Node.js.
//
// This file is the JavaScript API over the native classes of `plasmite.node` (src/*.rs): errors become
// `PlasmiteError`s with a stable `kind`, messages become `Message`s, and tails become async iterators
// whose waits run on a native worker thread, never on the event loop.
'use strict'

const native = require('./plasmite.node')

/** The tag `src/error.rs` puts before the error envelope in a native error's message. */
const ERROR_TAG = '\u0001plasmite:'

/** The stable error kinds of the v0 contract. */
const ErrorKind = Object.freeze({
  Usage: 'Usage',
  NotFound: 'NotFound',
  AlreadyExists: 'AlreadyExists',
  Busy: 'Busy',
  Permission: 'Permission',
  Corrupt: 'Corrupt',
  Io: 'Io',
  Internal: 'Internal',
  // A tail lapped under `gapPolicy: 'error'` (the first missing seq is `seq`).
  RetentionGap: 'RetentionGap',
})

/** How far an append is made durable before it returns. */
const Durability = Object.freeze({ Fast: 'fast', Flush: 'flush' })

/** Size of a pool created without a size (the CLI's and the server's default). */
const DEFAULT_POOL_SIZE = 1024 * 1024

/** Most items one tail hand-off carries (the native side caps it too). */
const TAIL_BATCH = 4096

/** Every error this package throws. `kind` is one of `ErrorKind`; the context fields may be undefined. */
class PlasmiteError extends Error {
  constructor(kind, message, context = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause })
    this.name = 'PlasmiteError'
    this.kind = kind
    this.hint = context.hint
    this.path = context.path
    this.seq = context.seq
    this.offset = context.offset
  }
}

function fromEnvelope(e) {
  return new PlasmiteError(e.kind, e.message, e)
}

/** Any error out of the native side (or out of argument conversion) as a PlasmiteError. */
function convert(e) {
  if (e instanceof PlasmiteError) return e
  const message = e && typeof e.message === 'string' ? e.message : String(e)
  if (message.startsWith(ERROR_TAG)) {
    return fromEnvelope(JSON.parse(message.slice(ERROR_TAG.length)).error)
  }
  // napi-rs refuses arguments of the wrong type (e.g. tags that are not strings) before any call.
  return new PlasmiteError(ErrorKind.Usage, message, { cause: e })
}

function call(f) {
  try {
    return f()
  } catch (e) {
    throw convert(e)
  }
}

/** One message: `{seq, time, tags, data}`; `time` is RFC 3339 UTC with nanoseconds, `date` a Date. */
class Message {
  #data
  #raw
  constructor(seq, time, tags, data, raw) {
    this.seq = seq
    this.time = time
    this.tags = tags
    this.#data = data
    this.#raw = raw
  }
  /** The data (decoded on first use for a message returned by an append). */
  get data() {
    if (this.#raw !== undefined) {
      this.#data = JSON.parse(this.#raw)
      this.#raw = undefined
    }
    return this.#data
  }
  /** The commit time as a Date (millisecond precision; `time` has every digit). */
  get date() {
    return new Date(this.time)
  }
  toJSON() {
    return { seq: this.seq, time: this.time, tags: this.tags, data: this.data }
  }
}

function messageOf(env) {
  return new Message(env.seq, env.time, env.meta.tags, env.data, undefined)
}

const camel = (k) => k.replace(/_([a-z])/g, (_, c) => c.toUpperCase())

/** A pool object with camelCase keys (`messageCount`, `ringSize`, …; `bounds` is `{oldest, newest}` or `{}`). */
function infoOf(o) {
  const out = {}
  for (const k of Object.keys(o)) out[camel(k)] = o[k]
  if (o.error) out.error = fromEnvelope(o.error)
  return out
}

function tagsOf(tags) {
  if (tags === undefined || tags === null) return []
  if (!Array.isArray(tags)) throw new PlasmiteError(ErrorKind.Usage, 'tags must be an array of strings')
  return tags
}

/** `true` for Flush, `false` for Fast; anything else is a Usage error. */
function flushOf(durability) {
  if (durability === undefined || durability === Durability.Fast) return false
  if (durability === Durability.Flush) return true
  throw new PlasmiteError(ErrorKind.Usage, `unknown durability ${JSON.stringify(durability)}`, {
    hint: 'use Durability.Fast or Durability.Flush',
  })
}

/** A message from an append's `"SEQ TIME"` receipt. */
function committed(receipt, tags, raw) {
  const sp = receipt.indexOf(' ')
  return new Message(Number(receipt.slice(0, sp)), receipt.slice(sp + 1), tags, undefined, raw)
}

/**
 * A pool ref as the native side takes it: `[text, kind]`. A string follows the CLI rule (kind
 * `null`); `{name}`, `{path}` or `{uri}` says which it is (a name is then checked as a name, even with
 * a `/` in it).
 */
function refOf(ref) {
  if (typeof ref === 'string') return [ref, null]
  if (ref !== null && typeof ref === 'object') {
    const keys = Object.keys(ref)
    if (keys.length === 1 && ['name', 'path', 'uri'].includes(keys[0]) && typeof ref[keys[0]] === 'string') {
      return [ref[keys[0]], keys[0]]
    }
  }
  throw new PlasmiteError(ErrorKind.Usage, `a pool ref is a string, {name}, {path} or {uri}; got ${JSON.stringify(ref)}`)
}

/** An open pool, local or remote: the same methods either way. */
class Pool {
  #n
  constructor(n) {
    this.#n = n
  }

  /** Appends any JSON value; returns the committed message. */
  append(value, tags, durability = Durability.Fast) {
    let text
    try {
      text = JSON.stringify(value)
    } catch (e) {
      throw new PlasmiteError(ErrorKind.Usage, `data is not JSON: ${e.message}`, { cause: e })
    }
    if (text === undefined) {
      throw new PlasmiteError(ErrorKind.Usage, 'data must be a JSON value (got undefined or a function)')
    }
    const t = tagsOf(tags)
    const flush = flushOf(durability)
    let r
    try {
      r = this.#n.appendStr(text, t.length === 0 ? null : t, flush)
    } catch (e) {
      throw convert(e)
    }
    return committed(r, t.length === 0 ? [] : t.slice(), text)
  }

  /** Appends JSON text (a Buffer, a Uint8Array or a string), validated and stored compact. */
  appendJson(json, tags, durability = Durability.Fast) {
    const t = tagsOf(tags)
    const nt = t.length === 0 ? null : t
    const flush = flushOf(durability)
    let r
    let raw
    try {
      if (typeof json === 'string') {
        r = this.#n.appendStr(json, nt, flush)
        raw = json
      } else if (json instanceof Uint8Array) {
        const buf = Buffer.isBuffer(json) ? json : Buffer.from(json.buffer, json.byteOffset, json.byteLength)
        r = this.#n.appendBuf(buf, nt, flush)
        // A copy: the caller may reuse the buffer; `data` is decoded from it on first use.
        raw = buf.toString('utf8')
      } else {
        throw new PlasmiteError(ErrorKind.Usage, 'appendJson takes a Buffer, a Uint8Array or a string')
      }
    } catch (e) {
      throw convert(e)
    }
    return committed(r, t.length === 0 ? [] : t.slice(), raw)
  }

  /** `append` run on libuv's thread pool: resolves to the message (useful for a remote pool). */
  async appendAsync(value, tags, durability = Durability.Fast) {
    let text
    try {
      text = JSON.stringify(value)
    } catch (e) {
      throw new PlasmiteError(ErrorKind.Usage, `data is not JSON: ${e.message}`, { cause: e })
    }
    if (text === undefined) {
      throw new PlasmiteError(ErrorKind.Usage, 'data must be a JSON value (got undefined or a function)')
    }
    const t = tagsOf(tags)
    const flush = flushOf(durability)
    let r
    try {
      r = await this.#n.appendStrAsync(text, t.length === 0 ? null : t, flush)
    } catch (e) {
      throw convert(e)
    }
    return committed(r, t.slice(), text)
  }

  /** `appendJson` run on libuv's thread pool (a Buffer's bytes are copied at the call). */
  async appendJsonAsync(json, tags, durability = Durability.Fast) {
    const t = tagsOf(tags)
    const nt = t.length === 0 ? null : t
    const flush = flushOf(durability)
    let r
    let raw
    try {
      if (typeof json === 'string') {
        raw = json
        r = await this.#n.appendStrAsync(json, nt, flush)
      } else if (json instanceof Uint8Array) {
        const buf = Buffer.isBuffer(json) ? json : Buffer.from(json.buffer, json.byteOffset, json.byteLength)
        raw = buf.toString('utf8')
        r = await this.#n.appendBufAsync(buf, nt, flush)
      } else {
        throw new PlasmiteError(ErrorKind.Usage, 'appendJsonAsync takes a Buffer, a Uint8Array or a string')
      }
    } catch (e) {
      throw convert(e)
    }
    return committed(r, t.slice(), raw)
  }

  /** `get` run on libuv's thread pool. */
  async getAsync(seq) {
    let text
    try {
      text = await this.#n.getAsync(seq)
    } catch (e) {
      throw convert(e)
    }
    return messageOf(JSON.parse(text))
  }

  /** The message `seq`; `NotFound` (with `.seq`) when absent or evicted. */
  get(seq) {
    return messageOf(JSON.parse(call(() => this.#n.get(seq))))
  }

  /** Metadata and bounds of the pool. */
  info() {
    return infoOf(JSON.parse(call(() => this.#n.info())))
  }

  /**
   * An async iterator of messages in seq order. Options: `sinceSeq` (inclusive; default: only new
   * messages), `max`, `timeoutMs` (end after this long without a message), `tags` (each must be
   * present), `signal` (an AbortSignal), `onLost(n)` (called when a lapped reader lost n messages),
   * `gapPolicy` (`'error'`: such a loss ends the iteration with a `RetentionGap` error instead).
   */
  tail(options = {}) {
    return new Tail(this.#n, options)
  }

  /** Releases the handle (later calls fail with `Usage`). */
  close() {
    this.#n.close()
  }
}

/**
 * A running tail. Iterate it with `for await`; `break`, `cancel()` or the AbortSignal stop it (after
 * an abort the pending or next `next()` rejects with the signal's reason, as Node's own iterators do).
 * `lost` counts the messages a lapped reader lost so far.
 */
class Tail {
  #n = null
  #buf = []
  #i = 0
  #lost = 0
  #end = null
  #batch = TAIL_BATCH
  #ended = false
  #error = null
  #filling = null
  #wake = null
  #signal
  #onAbort = null
  #onLost

  constructor(pool, options) {
    const { sinceSeq, max, timeoutMs, tags, signal, onLost, batch, gapPolicy } = options
    if (batch !== undefined) {
      if (!Number.isInteger(batch) || batch < 1 || batch > TAIL_BATCH) {
        throw new PlasmiteError(ErrorKind.Usage, `batch must be an integer from 1 to ${TAIL_BATCH}, got ${batch}`)
      }
      this.#batch = batch
    }
    this.#signal = signal
    this.#onLost = onLost
    if (signal !== undefined && signal !== null) {
      if (signal.aborted) {
        this.#ended = true
        this.#end = 'cancelled'
        this.#error = signal.reason
        return
      }
      this.#onAbort = () => this.#abort(signal.reason)
      signal.addEventListener('abort', this.#onAbort, { once: true })
    }
    if (gapPolicy !== undefined && typeof gapPolicy !== 'string') {
      throw new PlasmiteError(ErrorKind.Usage, `gapPolicy must be 'continue' or 'error', got ${gapPolicy}`)
    }
    const args = { sinceSeq, max, timeoutMs, tags: tags === undefined ? undefined : tagsOf(tags), batch, gapPolicy }
    this.#n = call(() => pool.tail(args, (text) => this.#onBatch(text)))
  }

  /** Messages lost so far because writers overwrote them before this tail read them. */
  get lost() {
    return this.#lost
  }

  /**
   * Why the tail ended: `null` while it runs, then `'max'`, `'timeout'`, `'cancelled'` (`break`,
   * `cancel()`, the signal) or `'error'` (the iteration threw).
   */
  get end() {
    return this.#end
  }

  [Symbol.asyncIterator]() {
    return this
  }

  async next() {
    for (;;) {
      if (this.#i < this.#buf.length) {
        return { value: this.#buf[this.#i++], done: false }
      }
      if (this.#error !== null) {
        const e = this.#error
        this.#error = null
        throw e
      }
      if (this.#ended) return { value: undefined, done: true }
      if (this.#filling === null) this.#filling = this.#pull()
      await this.#filling
    }
  }

  /** Called by `break` (and by `return` inside a `for await`). */
  async return() {
    this.cancel()
    return { value: undefined, done: true }
  }

  /** Stops the tail: nothing more is delivered. */
  cancel() {
    this.#finish()
    this.#buf = []
    this.#i = 0
  }

  #pull() {
    return new Promise((resolve) => {
      this.#wake = resolve
      try {
        this.#n.pull(this.#batch)
      } catch (e) {
        this.#error = convert(e)
        this.#end = 'error'
        this.#finish()
      }
    })
  }

  #settle() {
    const wake = this.#wake
    this.#wake = null
    this.#filling = null
    if (wake !== null) wake()
  }

  #onBatch(text) {
    if (this.#ended) return // cancelled meanwhile: drop whatever was in flight
    try {
      this.#n.idle()
      const b = JSON.parse(text)
      const out = []
      for (const it of b.items) {
        if (it.lost !== undefined) {
          this.#lost += it.lost
          if (this.#onLost) this.#onLost(it.lost)
        } else {
          out.push(messageOf(it))
        }
      }
      this.#buf = out
      this.#i = 0
      if (b.error !== null) {
        this.#error = fromEnvelope(b.error.error)
        this.#end = 'error'
      } else if (b.end !== null) {
        this.#end = b.end
      }
      if (b.end !== null || b.error !== null) this.#finish()
    } catch (e) {
      // An onLost callback that threw: the iteration ends with its error (never an uncaught one here).
      this.#error = e
      this.#end = 'error'
      this.#finish()
    }
    this.#settle()
  }

  #abort(reason) {
    if (this.#ended) return
    this.cancel()
    this.#error = reason
    this.#settle()
  }

  #finish() {
    if (this.#ended) return
    this.#ended = true
    this.#end ??= 'cancelled'
    if (this.#onAbort !== null) this.#signal.removeEventListener('abort', this.#onAbort)
    if (this.#n !== null) {
      const n = this.#n
      this.#n = null
      call(() => n.cancel())
    }
    this.#settle()
  }
}

/**
 * A client over a pool directory (default `$HOME/.plasmite/pools`), or over a `plasmite serve` base
 * URL `http(s)://HOST:PORT` with `{token}` (and `{tlsCa}`, a PEM file, for https).
 */
class Client {
  #n
  constructor(dir, options = {}) {
    this.#n = call(() => new native.NativeClient(dir ?? null, options.token ?? null, options.tlsCa ?? null))
  }

  /**
   * Creates a pool (`AlreadyExists` if there is one). Refs: a string (a name, a path if it has a
   * `/`, or a URI), or `{name}`, `{path}`, `{uri}`.
   */
  createPool(ref, sizeBytes = DEFAULT_POOL_SIZE) {
    const [text, kind] = refOf(ref)
    return new Pool(call(() => this.#n.createPool(text, kind, sizeBytes)))
  }

  /**
   * Opens an existing pool (`NotFound` when missing). `{readOnly: true}`: a handle that never writes
   * (its appends fail with `Permission`); local pools only.
   */
  openPool(ref, options = {}) {
    const readOnly = options.readOnly ?? false
    if (typeof readOnly !== 'boolean') throw new PlasmiteError(ErrorKind.Usage, 'readOnly must be a boolean')
    const [text, kind] = refOf(ref)
    return new Pool(call(() => this.#n.openPool(text, kind, readOnly)))
  }

  /** Opens a pool, creating it with `sizeBytes` when missing. */
  pool(ref, sizeBytes = DEFAULT_POOL_SIZE) {
    const [text, kind] = refOf(ref)
    return new Pool(call(() => this.#n.pool(text, kind, sizeBytes)))
  }

  /** Every pool, sorted by name; an unreadable one has `error` (a PlasmiteError). */
  listPools() {
    return JSON.parse(call(() => this.#n.listPools())).map(infoOf)
  }

  /** Metadata and bounds of a pool. */
  poolInfo(ref) {
    const [text, kind] = refOf(ref)
    return infoOf(JSON.parse(call(() => this.#n.poolInfo(text, kind))))
  }

  /** Deletes a pool (`Busy` while a writer holds it, `NotFound` when missing). */
  deletePool(ref) {
    const [text, kind] = refOf(ref)
    call(() => this.#n.deletePool(text, kind))
  }
}

module.exports = { Client, Pool, Tail, Message, PlasmiteError, ErrorKind, Durability }
