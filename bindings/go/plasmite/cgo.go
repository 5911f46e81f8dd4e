package plasmite

// The cgo layer: the only file that calls libplasmite (plasmite.h). Everything above it sees Go
// types. Invariants:
//   - every C handle lives in a *cClient / *cPool / *cStream guarded by a sync.RWMutex: calls hold
//     the read lock, free takes the write lock and sets the pointer to nil, so no call ever uses a
//     freed handle and a call on a closed handle is a Usage error;
//   - no Go pointer to memory holding Go pointers is passed to C: strings and tag arrays are copied
//     into C memory (freed before returning), JSON bytes are passed as a plain []byte pointer;
//   - everything the library hands out (errors, buffers, messages) is copied into Go memory and freed
//     before the wrapper returns, except a stream's current message, which is copied before the next
//     call on that stream.

/*
#include <stdlib.h>
#include "plasmite.h"

// The out-parameters of plsm_stream_next, in one C block per stream (no Go allocation per event).
typedef struct {
	int32_t event;
	const plsm_message_t *msg;
	uint64_t lost;
	plsm_error_t *err;
} gopls_next_t;

static int32_t gopls_stream_next(plsm_stream_t *s, gopls_next_t *o) {
	o->msg = NULL;
	o->err = NULL;
	o->lost = 0;
	return plsm_stream_next(s, &o->event, &o->msg, &o->lost, &o->err);
}
*/
import "C"

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Compile-time checks that the Go constants match the header.
const (
	_ = uint(C.PLSM_ERR_USAGE - KindUsage)
	_ = uint(KindUsage - C.PLSM_ERR_USAGE)
	_ = uint(C.PLSM_ERR_INTERNAL - KindInternal)
	_ = uint(KindInternal - C.PLSM_ERR_INTERNAL)
)

// abiMajor and abiMinor are the ABI version of the header this package was compiled against.
const (
	abiMajor = C.PLSM_ABI_VERSION_MAJOR
	abiMinor = C.PLSM_ABI_VERSION_MINOR
)

// libABIVersion is what the linked library reports: (major << 16) | minor.
func libABIVersion() uint32 { return uint32(C.plsm_abi_version()) }

// libVersion is the library's version string.
func libVersion() string { return C.GoString(C.plsm_version()) }

// libKindName is the library's stable name for a status code.
func libKindName(code int32) string { return C.GoString(C.plsm_kind_name(C.int32_t(code))) }

// takeError turns a status and an error out-parameter into a Go error, freeing the C error.
func takeError(rc C.int32_t, cerr *C.plsm_error_t) error {
	if rc == C.PLSM_OK {
		if cerr != nil {
			C.plsm_error_free(cerr)
		}
		return nil
	}
	if cerr == nil {
		return &Error{Kind: Kind(rc), Message: "libplasmite returned " + libKindName(int32(rc))}
	}
	defer C.plsm_error_free(cerr)
	e := &Error{Kind: Kind(cerr.kind), Message: C.GoString(cerr.message)}
	if cerr.hint != nil {
		e.Hint = C.GoString(cerr.hint)
	}
	if cerr.has_path && cerr.path != nil {
		e.Path = C.GoString(cerr.path)
	}
	if cerr.has_seq {
		e.Seq, e.HasSeq = uint64(cerr.seq), true
	}
	if cerr.has_offset {
		e.Offset, e.HasOffset = uint64(cerr.offset), true
	}
	return e
}

// cString copies s into C memory (free with C.free); a NUL inside s is a Usage error.
func cString(what, s string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, usageError(what + " contains a NUL byte")
	}
	return C.CString(s), nil
}

// cTags copies tags into one C block: the pointer array, then the NUL-terminated texts. The caller
// frees the returned pointer with C.free (nil when there are no tags).
func cTags(tags []string) (**C.char, error) {
	if len(tags) == 0 {
		return nil, nil
	}
	ptrSize := int(unsafe.Sizeof((*C.char)(nil)))
	total := len(tags) * ptrSize
	for _, t := range tags {
		if strings.IndexByte(t, 0) >= 0 {
			return nil, usageError("a tag contains a NUL byte")
		}
		total += len(t) + 1
	}
	block := C.malloc(C.size_t(total))
	if block == nil {
		panic("plasmite: out of memory")
	}
	// SAFETY: block has `total` bytes; the array takes the first len(tags) pointers and
	// the texts follow it, each with its NUL.
	// SAFETY: malloc's alignment suits the pointer array at the block's start.
	ptrs := unsafe.Slice((**C.char)(block), len(tags))
	bytes := unsafe.Slice((*byte)(block), total)
	at := len(tags) * ptrSize
	for i, t := range tags {
		ptrs[i] = (*C.char)(unsafe.Pointer(&bytes[at]))
		at += copy(bytes[at:], t)
		bytes[at] = 0
		at++
	}
	return (**C.char)(block), nil
}

// goBytes copies n bytes at p into Go memory (nil for none).
func goBytes(p *C.char, n C.size_t) []byte {
	if p == nil || n == 0 {
		return nil
	}
	// SAFETY: p points to n readable bytes owned by the library, alive for this call; they are
	// copied out before the caller frees them.
	out := make([]byte, int(n))
	copy(out, unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n)))
	return out
}

// goMessage copies a library message into Go memory.
func goMessage(m *C.plsm_message_t) Message {
	msg := Message{
		Seq:  uint64(m.seq),
		Time: time.Unix(0, int64(m.time_ns)).UTC(),
		Data: goBytes(m.data, m.data_len),
	}
	if m.tag_count > 0 {
		// SAFETY: the library gives tag_count valid NUL-terminated strings at tags, alive until the
		// message is freed (or, for a stream's message, until the next call on the stream).
		ctags := unsafe.Slice(m.tags, int(m.tag_count))
		msg.Tags = make([]string, len(ctags))
		for i, t := range ctags {
			msg.Tags[i] = C.GoString(t)
		}
	}
	return msg
}

// takeBuf copies a library buffer into Go memory and frees it.
func takeBuf(b *C.plsm_buf_t) []byte {
	defer C.plsm_buf_free(b)
	return goBytes(b.data, b.len)
}

func cRefKind(k refKind) C.int32_t {
	switch k {
	case refName:
		return C.PLSM_REF_NAME
	case refPath:
		return C.PLSM_REF_PATH
	case refURI:
		return C.PLSM_REF_URI
	default:
		return C.PLSM_REF_AUTO
	}
}

// ---- client ------------------------------------------------------------------------------------

type cClient struct {
	mu sync.RWMutex
	p  *C.plsm_client_t
}

func newCClient(dir string) (*cClient, error) {
	cdir, err := cString("the pool directory", dir)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cdir))
	var out *C.plsm_client_t
	var cerr *C.plsm_error_t
	if err := takeError(C.plsm_client_new(cdir, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return &cClient{p: out}, nil
}

func (c *cClient) free() {
	c.mu.Lock()
	defer c.mu.Unlock()
	C.plsm_client_free(c.p)
	c.p = nil
}

// withRef runs f with the client handle and the ref as C values, under the read lock.
func (c *cClient) withRef(r PoolRef, f func(*C.plsm_client_t, C.int32_t, *C.char) error) error {
	cref, err := cString("the pool ref", r.text)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cref))
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.p == nil {
		return closedError("client")
	}
	return f(c.p, cRefKind(r.kind), cref)
}

func (c *cClient) createPool(r PoolRef, size uint64) (*cPool, error) {
	var out *C.plsm_pool_t
	err := c.withRef(r, func(h *C.plsm_client_t, k C.int32_t, ref *C.char) error {
		var cerr *C.plsm_error_t
		return takeError(C.plsm_client_create_pool(h, k, ref, C.uint64_t(size), &out, &cerr), cerr)
	})
	if err != nil {
		return nil, err
	}
	return newCPool(out), nil
}

func (c *cClient) openPool(r PoolRef, readOnly bool) (*cPool, error) {
	var flags C.uint32_t
	if readOnly {
		flags |= C.PLSM_OPEN_READ_ONLY
	}
	var out *C.plsm_pool_t
	err := c.withRef(r, func(h *C.plsm_client_t, k C.int32_t, ref *C.char) error {
		var cerr *C.plsm_error_t
		return takeError(C.plsm_client_open_pool(h, k, ref, flags, &out, &cerr), cerr)
	})
	if err != nil {
		return nil, err
	}
	return newCPool(out), nil
}

func (c *cClient) poolInfo(r PoolRef) ([]byte, error) {
	var js []byte
	err := c.withRef(r, func(h *C.plsm_client_t, k C.int32_t, ref *C.char) error {
		var buf C.plsm_buf_t
		var cerr *C.plsm_error_t
		rc := C.plsm_client_pool_info(h, k, ref, &buf, &cerr)
		js = takeBuf(&buf)
		return takeError(rc, cerr)
	})
	return js, err
}

func (c *cClient) listPools() ([]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.p == nil {
		return nil, closedError("client")
	}
	var buf C.plsm_buf_t
	var cerr *C.plsm_error_t
	rc := C.plsm_client_list_pools(c.p, &buf, &cerr)
	js := takeBuf(&buf)
	return js, takeError(rc, cerr)
}

func (c *cClient) deletePool(r PoolRef) error {
	return c.withRef(r, func(h *C.plsm_client_t, k C.int32_t, ref *C.char) error {
		var cerr *C.plsm_error_t
		return takeError(C.plsm_client_delete_pool(h, k, ref, &cerr), cerr)
	})
}

// ---- pool --------------------------------------------------------------------------------------

type cPool struct {
	mu   sync.RWMutex
	p    *C.plsm_pool_t
	path string
}

func newCPool(p *C.plsm_pool_t) *cPool {
	return &cPool{p: p, path: C.GoString(C.plsm_pool_path(p))}
}

func (p *cPool) free() {
	p.mu.Lock()
	defer p.mu.Unlock()
	C.plsm_pool_free(p.p)
	p.p = nil
}

func (p *cPool) info() ([]byte, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.p == nil {
		return nil, closedError("pool")
	}
	var buf C.plsm_buf_t
	var cerr *C.plsm_error_t
	rc := C.plsm_pool_info(p.p, &buf, &cerr)
	js := takeBuf(&buf)
	return js, takeError(rc, cerr)
}

func (p *cPool) appendJSON(data []byte, tags []string, d Durability) (Message, error) {
	ctags, err := cTags(tags)
	if err != nil {
		return Message{}, err
	}
	if ctags != nil {
		defer C.free(unsafe.Pointer(ctags))
	}
	var cdata *C.char
	if len(data) > 0 {
		// SAFETY: a []byte holds no Go pointers, so cgo may pass it; the library only reads len(data)
		// bytes during the call and keeps no reference.
		cdata = (*C.char)(unsafe.Pointer(&data[0]))
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.p == nil {
		return Message{}, closedError("pool")
	}
	var out *C.plsm_message_t
	var cerr *C.plsm_error_t
	rc := C.plsm_pool_append_json(p.p, cdata, C.size_t(len(data)), ctags, C.size_t(len(tags)),
		C.int32_t(d), &out, &cerr)
	if err := takeError(rc, cerr); err != nil {
		return Message{}, err
	}
	defer C.plsm_message_free(out)
	return goMessage(out), nil
}

func (p *cPool) get(seq uint64) (Message, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.p == nil {
		return Message{}, closedError("pool")
	}
	var out *C.plsm_message_t
	var cerr *C.plsm_error_t
	if err := takeError(C.plsm_pool_get(p.p, C.uint64_t(seq), &out, &cerr), cerr); err != nil {
		return Message{}, err
	}
	defer C.plsm_message_free(out)
	return goMessage(out), nil
}

// ---- streams -----------------------------------------------------------------------------------

// cStream is a tail. next is called by one goroutine at a time (nextMu); cancel from any goroutine;
// free cancels first, so a blocked next returns and free can take the write lock.
type cStream struct {
	mu        sync.RWMutex
	nextMu    sync.Mutex
	p         *C.plsm_stream_t
	out       *C.gopls_next_t // C memory, freed with the stream
	cancelled atomic.Bool
}

func (p *cPool) tail(o TailOptions) (*cStream, error) {
	ms, err := o.timeoutMillis()
	if err != nil {
		return nil, err
	}
	ctags, err := cTags(o.Tags)
	if err != nil {
		return nil, err
	}
	if ctags != nil {
		defer C.free(unsafe.Pointer(ctags))
	}
	copts := C.plsm_tail_options_t{
		struct_size: C.uint32_t(unsafe.Sizeof(C.plsm_tail_options_t{})),
		since_seq:   C.uint64_t(o.SinceSeq),
		max:         C.uint64_t(o.Max),
		timeout_ms:  C.uint64_t(ms),
		tags:        ctags,
		tag_count:   C.size_t(len(o.Tags)),
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.p == nil {
		return nil, closedError("pool")
	}
	var out *C.plsm_stream_t
	var cerr *C.plsm_error_t
	if err := takeError(C.plsm_pool_tail(p.p, &copts, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	block := (*C.gopls_next_t)(C.calloc(1, C.size_t(unsafe.Sizeof(C.gopls_next_t{}))))
	if block == nil {
		C.plsm_stream_free(out)
		panic("plasmite: out of memory")
	}
	return &cStream{p: out, out: block}, nil
}

// next waits for the next event. A message is copied before returning.
func (s *cStream) next() (Event, error) {
	s.nextMu.Lock()
	defer s.nextMu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.p == nil {
		return Event{}, closedError("stream")
	}
	rc := C.gopls_stream_next(s.p, s.out)
	if err := takeError(rc, s.out.err); err != nil {
		return Event{}, err
	}
	switch s.out.event {
	case C.PLSM_EVENT_MESSAGE:
		return Event{Kind: EventMessage, Message: goMessage(s.out.msg)}, nil
	case C.PLSM_EVENT_LOST:
		return Event{Kind: EventLost, Lost: uint64(s.out.lost)}, nil
	case C.PLSM_EVENT_TIMEOUT:
		return Event{Kind: EventTimeout}, nil
	case C.PLSM_EVENT_END:
		return Event{Kind: EventEnd}, nil
	case C.PLSM_EVENT_CANCELLED:
		return Event{Kind: EventCancelled}, nil
	default:
		return Event{}, &Error{Kind: KindInternal, Message: "libplasmite returned an unknown stream event"}
	}
}

// cancel makes a blocked or later next return EventCancelled (idempotent, any goroutine).
func (s *cStream) cancel() {
	s.cancelled.Store(true)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.p != nil {
		C.plsm_stream_cancel(s.p)
	}
}

// closed reports whether free ran.
func (s *cStream) closed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.p == nil
}

func (s *cStream) free() {
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p != nil {
		C.plsm_stream_free(s.p)
		C.free(unsafe.Pointer(s.out))
		s.p, s.out = nil, nil
	}
}
