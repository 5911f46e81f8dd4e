package plasmite

import (
	"encoding/json"
	"runtime"
	"strconv"
	"time"
)

// Durability says when an append returns.
type Durability int32

const (
	// DurabilityFast returns once the message is in the page cache: it survives the process, not a
	// power cut.
	DurabilityFast Durability = 0
	// DurabilityFlush returns once the message is synced to disk.
	DurabilityFlush Durability = 1
)

// Pool is an open pool. Share it between goroutines freely; Close it when done.
type Pool struct {
	p *cPool
}

func newPool(p *cPool) *Pool {
	pool := &Pool{p: p}
	runtime.AddCleanup(pool, (*cPool).free, p)
	return pool
}

// Close frees the handle. Tails started from it keep working until they end. Calling Close again
// is a no-op; any other call after Close is a Usage error.
func (p *Pool) Close() error {
	p.p.free()
	return nil
}

// Path is the pool file's path as opened.
func (p *Pool) Path() string { return p.p.path }

// Info describes the pool.
func (p *Pool) Info() (PoolInfo, error) {
	js, err := p.p.info()
	if err != nil {
		return PoolInfo{}, err
	}
	return parseInfo(js)
}

// Append stores v (any value encoding/json can marshal) with tags and returns the committed
// message. A value that does not marshal is a Usage error wrapping the encoding error. A []byte
// marshals as a base64 string: give JSON text to AppendJSON, or wrap it in json.RawMessage.
func (p *Pool) Append(v any, tags []string, d Durability) (Message, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return Message{}, &Error{Kind: KindUsage, Message: "the value does not marshal to JSON", Err: err}
	}
	return p.p.appendJSON(data, tags, d)
}

// AppendJSON stores one JSON value given as text (validated, stored compact) with tags and returns
// the committed message. Invalid JSON is a Usage error.
func (p *Pool) AppendJSON(data []byte, tags []string, d Durability) (Message, error) {
	return p.p.appendJSON(data, tags, d)
}

// Get returns the message seq: NotFound (HasSeq) when it was never written or was evicted.
func (p *Pool) Get(seq uint64) (Message, error) { return p.p.get(seq) }

// Message is one stored message.
type Message struct {
	Seq  uint64          // position in the pool, from 1, without gaps
	Time time.Time       // commit time (UTC)
	Tags []string        // in append order; nil when none
	Data json.RawMessage // compact JSON text
}

// Decode unmarshals the message's data into v.
func (m Message) Decode(v any) error { return json.Unmarshal(m.Data, v) }

// timeLayout is RFC 3339 in UTC with nanoseconds, as every plasmite door writes it.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// MarshalJSON writes the envelope {"seq":N,"time":"RFC 3339","meta":{"tags":[...]},"data":...}.
func (m Message) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 64+len(m.Data))
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, m.Seq, 10)
	b = append(b, `,"time":"`...)
	b = m.Time.UTC().AppendFormat(b, timeLayout)
	b = append(b, `","meta":{"tags":`...)
	tags := m.Tags
	if tags == nil {
		tags = []string{}
	}
	tj, err := json.Marshal(tags)
	if err != nil {
		return nil, err
	}
	b = append(b, tj...)
	b = append(b, `},"data":`...)
	if len(m.Data) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, m.Data...)
	}
	return append(b, '}'), nil
}
