// Type declarations of plasmite-node (checked by `tsc --noEmit` on example.ts).

/** The stable error kinds of the v0 contract. */
export declare const ErrorKind: {
  readonly Usage: 'Usage'
  readonly NotFound: 'NotFound'
  readonly AlreadyExists: 'AlreadyExists'
  readonly Busy: 'Busy'
  readonly Permission: 'Permission'
  readonly Corrupt: 'Corrupt'
  readonly Io: 'Io'
  readonly Internal: 'Internal'
  readonly RetentionGap: 'RetentionGap'
}
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind]

/** How far an append is made durable before it returns. */
export declare const Durability: { readonly Fast: 'fast'; readonly Flush: 'flush' }
export type Durability = (typeof Durability)[keyof typeof Durability]

/** Every error this package throws. */
export declare class PlasmiteError extends Error {
  readonly name: 'PlasmiteError'
  readonly kind: ErrorKind
  readonly hint?: string
  readonly path?: string
  readonly seq?: number
  readonly offset?: number
}

/** Any JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/** One message. */
export declare class Message<T = Json> {
  readonly seq: number
  /** RFC 3339 UTC with nanoseconds, e.g. `2026-01-02T03:04:05.123456789Z`. */
  readonly time: string
  readonly tags: string[]
  readonly data: T
  /** `time` as a Date (millisecond precision). */
  readonly date: Date
  toJSON(): { seq: number; time: string; tags: string[]; data: T }
}

/** Metadata and bounds of a pool (the fields of `plasmite pool info --json`, camelCase). */
export interface PoolInfo {
  name: string
  path: string
  fileSize: number
  indexOffset: number
  indexSlots: number
  ringOffset: number
  ringSize: number
  /** `{}` when the pool is empty. */
  bounds: { oldest?: number; newest?: number }
  messageCount: number
  usedBytes: number
  usedPercent: number
  oldestTime: string | null
  newestTime: string | null
  createdTime: string
  writable: boolean
  /** Set (and most other fields absent) for an unreadable pool in `listPools()`. */
  error?: PlasmiteError
}

export interface TailOptions {
  /** First seq to deliver (inclusive); default: only messages appended after the tail starts. */
  sinceSeq?: number
  /** End after this many messages. */
  max?: number
  /** End when no message arrives for this long. */
  timeoutMs?: number
  /** Deliver only messages carrying every one of these tags. */
  tags?: string[]
  /** Stops the tail; the pending or next `next()` rejects with `signal.reason`. */
  signal?: AbortSignal
  /** Called when writers lapped this reader and `n` messages were lost. */
  onLost?: (n: number) => void
  /**
   * `'continue'` (the default): losses are counted (`lost`, `onLost`) and the tail goes on from the
   * oldest message; `'error'`: the iteration ends with a `RetentionGap` error (`seq`: the first
   * missing seq) before any later message.
   */
  gapPolicy?: 'continue' | 'error'
  /**
   * Most messages read per hand-off to JavaScript (1 to 4096, default 4096). A batch is read ahead
   * of the loop; `1` reads nothing ahead, so a reader that pauses sees exactly what was lost meanwhile.
   */
  batch?: number
}

/** Why a tail ended. */
export type TailEnd = 'max' | 'timeout' | 'cancelled' | 'error'

/** A running tail: an async iterator of messages in seq order. */
export declare class Tail<T = Json> implements AsyncIterableIterator<Message<T>> {
  /** Messages lost so far because writers overwrote them before this tail read them. */
  readonly lost: number
  /** Why the tail ended; `null` while it runs. */
  readonly end: TailEnd | null
  [Symbol.asyncIterator](): Tail<T>
  next(): Promise<IteratorResult<Message<T>, undefined>>
  return(): Promise<IteratorResult<Message<T>, undefined>>
  /** Stops the tail: nothing more is delivered. */
  cancel(): void
}

/** An open pool, local or remote. */
export declare class Pool {
  append<T extends Json>(value: T, tags?: string[], durability?: Durability): Message<T>
  appendJson(json: Buffer | Uint8Array | string, tags?: string[], durability?: Durability): Message
  get(seq: number): Message
  /** The same calls run on libuv's thread pool (worth it for a remote pool). */
  appendAsync<T extends Json>(value: T, tags?: string[], durability?: Durability): Promise<Message<T>>
  appendJsonAsync(json: Buffer | Uint8Array | string, tags?: string[], durability?: Durability): Promise<Message>
  getAsync(seq: number): Promise<Message>
  info(): PoolInfo
  tail<T = Json>(options?: TailOptions): Tail<T>
  close(): void
}

/** A string follows the CLI rule (`scheme://` a URI, a `/` a path, `NAME.plasmite` the name); an object says which. */
export type PoolRef = string | { name: string } | { path: string } | { uri: string }

export interface OpenOptions {
  /** A handle that never writes (appends fail with `Permission`); local pools only. */
  readOnly?: boolean
}

export interface ClientOptions {
  /** Bearer token of a remote server. */
  token?: string
  /** PEM file of certificates to trust for an https server. */
  tlsCa?: string
}

/**
 * A client over a pool directory (default `$HOME/.plasmite/pools`), or over a `plasmite serve` base
 * URL `http(s)://HOST:PORT`. Pool refs: a name, a path (containing `/`), or a URI (refused locally).
 */
export declare class Client {
  constructor(dirOrUrl?: string, options?: ClientOptions)
  createPool(ref: PoolRef, sizeBytes?: number): Pool
  openPool(ref: PoolRef, options?: OpenOptions): Pool
  pool(ref: PoolRef, sizeBytes?: number): Pool
  listPools(): PoolInfo[]
  poolInfo(ref: PoolRef): PoolInfo
  deletePool(ref: PoolRef): void
}
