// The README's example in TypeScript; `npm run typecheck` checks it against index.d.ts.
import { Client, Durability, PlasmiteError, ErrorKind, Message, PoolInfo } from 'plasmite-node'

async function main(): Promise<void> {
  const client = new Client('./data')
  const pool = client.pool('events', 1024 * 1024)
  const m: Message<{ sensor: string; value: number }> = pool.append({ sensor: 'temp', value: 23.5 }, ['a'])
  console.log(m.seq, m.time, m.date.toISOString(), m.data.value)
  pool.appendJson(Buffer.from('{"sensor": "temp", "value": 23.5}'), [], Durability.Flush)

  const again: Message = await pool.getAsync(m.seq)
  const later: Message<number[]> = await pool.appendAsync([1, 2], [], Durability.Fast)
  await pool.appendJsonAsync('{"x": 1}')
  console.log(again.seq, later.data[0])

  const info: PoolInfo = pool.info()
  console.log(info.messageCount, info.bounds.newest)

  const ac = new AbortController()
  setTimeout(() => ac.abort(), 1000)
  const tail = pool.tail<{ sensor: string }>({ sinceSeq: 1, tags: ['a'], signal: ac.signal, onLost: (n) => console.log(n) })
  try {
    for await (const msg of tail) {
      console.log(msg.seq, msg.data.sensor, tail.lost)
    }
  } catch (e) {
    if (!(e instanceof Error && e.name === 'AbortError')) throw e
  }

  try {
    pool.get(1_000_000)
  } catch (e) {
    if (e instanceof PlasmiteError && e.kind === ErrorKind.NotFound) console.log('no such message', e.seq)
  }

  const remote = new Client('http://127.0.0.1:9700', { token: 'secret' })
  for (const p of remote.listPools()) console.log(p.name, p.error?.kind)
}

main()
