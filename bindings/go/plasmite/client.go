package plasmite

import (
	"encoding/json"
	"fmt"
	"runtime"
	"time"
)

type refKind int

const (
	refAuto refKind = iota
	refName
	refPath
	refURI
)

// PoolRef names a pool: by name inside the client's directory, by file path, or by URI.
type PoolRef struct {
	kind refKind
	text string
}

// PoolRefName is the pool NAME inside the client's directory (DIR/NAME.plasmite).
func PoolRefName(name string) PoolRef { return PoolRef{refName, name} }

// PoolRefPath is the pool file at path.
func PoolRefPath(path string) PoolRef { return PoolRef{refPath, path} }

// PoolRefURI is a remote pool (e.g. "tcp://host:9700/pool/chat"). The local Client refuses it
// with a Usage error.
func PoolRefURI(uri string) PoolRef { return PoolRef{refURI, uri} }

// ParsePoolRef reads text with the CLI's rule: "scheme://..." is a URI, text containing '/' is a
// path, "NAME.plasmite" and anything else is a name.
func ParsePoolRef(text string) PoolRef { return PoolRef{refAuto, text} }

// String is the ref's text.
func (r PoolRef) String() string { return r.text }

// Version is the linked libplasmite's version (e.g. "0.1.0").
func Version() string { return libVersion() }

// Client is a pool directory. Share it between goroutines freely; Close it when done.
type Client struct {
	c *cClient
}

// NewClient opens a client over dir (created, with parents, by the first CreatePool).
func NewClient(dir string) (*Client, error) {
	if v := libABIVersion(); v>>16 != abiMajor || v&0xffff < abiMinor {
		return nil, &Error{Kind: KindInternal, Message: fmt.Sprintf(
			"libplasmite ABI %d.%d cannot serve this package (built for %d.%d)", v>>16, v&0xffff, abiMajor, abiMinor)}
	}
	c, err := newCClient(dir)
	if err != nil {
		return nil, err
	}
	cl := &Client{c: c}
	runtime.AddCleanup(cl, (*cClient).free, c)
	return cl, nil
}

// Close frees the client. Pools opened through it stay usable. Calling Close again is a no-op.
func (c *Client) Close() error {
	c.c.free()
	return nil
}

// CreatePool creates a pool of sizeBytes (parent directories as needed) and opens it;
// AlreadyExists when it exists.
func (c *Client) CreatePool(ref PoolRef, sizeBytes uint64) (*Pool, error) {
	p, err := c.c.createPool(ref, sizeBytes)
	if err != nil {
		return nil, err
	}
	return newPool(p), nil
}

// OpenPool opens an existing pool (NotFound when missing): read-write when permitted, else
// read-only.
func (c *Client) OpenPool(ref PoolRef) (*Pool, error) {
	p, err := c.c.openPool(ref, false)
	if err != nil {
		return nil, err
	}
	return newPool(p), nil
}

// OpenPoolReadOnly opens an existing pool read-only: appending through it is a Permission error.
func (c *Client) OpenPoolReadOnly(ref PoolRef) (*Pool, error) {
	p, err := c.c.openPool(ref, true)
	if err != nil {
		return nil, err
	}
	return newPool(p), nil
}

// Pool opens the pool, creating it with sizeBytes when it does not exist.
func (c *Client) Pool(ref PoolRef, sizeBytes uint64) (*Pool, error) {
	for range 3 {
		p, err := c.OpenPool(ref)
		if err == nil || !isKind(err, KindNotFound) {
			return p, err
		}
		p, err = c.CreatePool(ref, sizeBytes)
		if err == nil || !isKind(err, KindAlreadyExists) {
			return p, err
		}
		// Another process created it between our open and create: open again.
	}
	return c.OpenPool(ref)
}

// PoolInfo describes the pool without keeping it open.
func (c *Client) PoolInfo(ref PoolRef) (PoolInfo, error) {
	js, err := c.c.poolInfo(ref)
	if err != nil {
		return PoolInfo{}, err
	}
	return parseInfo(js)
}

// ListPools describes every pool of the directory, sorted by name. A pool that could not be read
// is listed with Name, Path and Err set.
func (c *Client) ListPools() ([]PoolInfo, error) {
	js, err := c.c.listPools()
	if err != nil {
		return nil, err
	}
	var items []json.RawMessage
	if err := json.Unmarshal(js, &items); err != nil {
		return nil, internalJSON("the pool list", err)
	}
	out := make([]PoolInfo, 0, len(items))
	for _, it := range items {
		info, err := parseInfo(it)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// DeletePool deletes the pool: NotFound when missing, Busy while a writer holds it.
func (c *Client) DeletePool(ref PoolRef) error { return c.c.deletePool(ref) }

// PoolInfo is a pool's description: the fields of `plasmite pool info --json`.
type PoolInfo struct {
	Name         string    `json:"name"`
	Path         string    `json:"path"`
	FileSize     uint64    `json:"file_size"`
	IndexOffset  uint64    `json:"index_offset"`
	IndexSlots   uint64    `json:"index_slots"`
	RingOffset   uint64    `json:"ring_offset"`
	RingSize     uint64    `json:"ring_size"`
	MessageCount uint64    `json:"message_count"`
	UsedBytes    uint64    `json:"used_bytes"`
	UsedPercent  float64   `json:"used_percent"`
	Oldest       uint64    `json:"-"`           // the oldest seq; 0 when the pool is empty
	Newest       uint64    `json:"-"`           // the newest seq; 0 when the pool is empty
	OldestTime   time.Time `json:"oldest_time"` // zero when the pool is empty
	NewestTime   time.Time `json:"newest_time"` // zero when the pool is empty
	CreatedTime  time.Time `json:"created_time"`
	Writable     bool      `json:"writable"` // whether this process may append
	// Err is set (and the sizes are zero) for a listed pool that could not be read.
	Err error `json:"-"`
	// Raw is the JSON object the library returned, with any fields this struct does not name.
	Raw json.RawMessage `json:"-"`
}

func parseInfo(js []byte) (PoolInfo, error) {
	var wire struct {
		PoolInfo
		Bounds struct {
			Oldest uint64 `json:"oldest"`
			Newest uint64 `json:"newest"`
		} `json:"bounds"`
		Error *struct {
			Kind    string  `json:"kind"`
			Message string  `json:"message"`
			Hint    string  `json:"hint"`
			Path    string  `json:"path"`
			Seq     *uint64 `json:"seq"`
			Offset  *uint64 `json:"offset"`
		} `json:"error"`
	}
	if err := json.Unmarshal(js, &wire); err != nil {
		return PoolInfo{}, internalJSON("a pool info", err)
	}
	info := wire.PoolInfo
	info.Oldest, info.Newest = wire.Bounds.Oldest, wire.Bounds.Newest
	info.Raw = json.RawMessage(js)
	if e := wire.Error; e != nil {
		pe := &Error{Kind: kindFromName(e.Kind), Message: e.Message, Hint: e.Hint, Path: e.Path}
		if e.Seq != nil {
			pe.Seq, pe.HasSeq = *e.Seq, true
		}
		if e.Offset != nil {
			pe.Offset, pe.HasOffset = *e.Offset, true
		}
		info.Err = pe
	}
	return info, nil
}

func internalJSON(what string, err error) *Error {
	return &Error{Kind: KindInternal, Message: "libplasmite returned " + what + " that is not valid JSON", Err: err}
}

func isKind(err error, k Kind) bool {
	e, ok := err.(*Error)
	return ok && e.Kind == k
}
