package plasmite_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plasmite/plasmite/bindings/go/plasmite"
)

func newClient(t testing.TB) (*plasmite.Client, string) {
	t.Helper()
	dir := t.TempDir()
	c, err := plasmite.NewClient(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, dir
}

func newPool(t testing.TB, c *plasmite.Client, name string, size uint64) *plasmite.Pool {
	t.Helper()
	p, err := c.CreatePool(plasmite.PoolRefName(name), size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// wantKind fails unless err is a *plasmite.Error of kind k that errors.Is matches to sentinel only.
func wantKind(t *testing.T, err error, k plasmite.Kind, sentinel error) *plasmite.Error {
	t.Helper()
	var pe *plasmite.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *plasmite.Error of kind %s", err, err, k)
	}
	if pe.Kind != k {
		t.Fatalf("kind %s, want %s (%v)", pe.Kind, k, err)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("errors.Is(%v, %v) is false", err, sentinel)
	}
	for _, other := range []error{plasmite.ErrUsage, plasmite.ErrNotFound, plasmite.ErrAlreadyExists, plasmite.ErrBusy,
		plasmite.ErrPermission, plasmite.ErrCorrupt, plasmite.ErrIo, plasmite.ErrInternal} {
		if other != sentinel && errors.Is(err, other) {
			t.Fatalf("errors.Is(%v, %v) is true", err, other)
		}
	}
	return pe
}

func TestClientPoolLifecycle(t *testing.T) {
	c, dir := newClient(t)
	p := newPool(t, c, "events", 1<<20)
	if want := filepath.Join(dir, "events.plasmite"); p.Path() != want {
		t.Fatalf("Path %q, want %q", p.Path(), want)
	}
	m, err := p.Append(map[string]any{"sensor": "temp", "value": 23.5}, []string{"a", "b"}, plasmite.DurabilityFast)
	if err != nil {
		t.Fatal(err)
	}
	if m.Seq != 1 || string(m.Data) != `{"sensor":"temp","value":23.5}` || !reflect.DeepEqual(m.Tags, []string{"a", "b"}) {
		t.Fatalf("appended %+v", m)
	}
	if time.Since(m.Time) > time.Hour || m.Time.Location() != time.UTC {
		t.Fatalf("time %v", m.Time)
	}
	m2, err := p.AppendJSON([]byte(` [1, 2,  3] `), nil, plasmite.DurabilityFlush)
	if err != nil || m2.Seq != 2 || string(m2.Data) != `[1,2,3]` || m2.Tags != nil {
		t.Fatalf("AppendJSON: %+v %v", m2, err)
	}
	got, err := p.Get(1)
	if err != nil || got.Seq != 1 || string(got.Data) != string(m.Data) || !got.Time.Equal(m.Time) {
		t.Fatalf("Get: %+v %v", got, err)
	}
	var v struct{ Sensor string }
	if err := got.Decode(&v); err != nil || v.Sensor != "temp" {
		t.Fatalf("Decode: %+v %v", v, err)
	}
	env, err := json.Marshal(got)
	if err != nil || !strings.HasPrefix(string(env), `{"seq":1,"time":"`) ||
		!strings.HasSuffix(string(env), `Z","meta":{"tags":["a","b"]},"data":{"sensor":"temp","value":23.5}}`) {
		t.Fatalf("envelope %s %v", env, err)
	}

	info, err := p.Info()
	if err != nil || info.Name != "events" || info.MessageCount != 2 || info.Oldest != 1 || info.Newest != 2 ||
		info.FileSize != 1<<20 || !info.Writable || info.NewestTime.IsZero() || info.Path != p.Path() {
		t.Fatalf("Info: %+v %v", info, err)
	}
	info2, err := c.PoolInfo(plasmite.PoolRefPath(p.Path()))
	if err != nil || info2.MessageCount != 2 || info2.Name != "events" {
		t.Fatalf("PoolInfo by path: %+v %v", info2, err)
	}

	// Pool: opens the existing one, creates a missing one.
	same, err := c.Pool(plasmite.PoolRefName("events"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := same.Get(2); err != nil || string(m.Data) != `[1,2,3]` {
		t.Fatalf("Get through Pool(): %+v %v", m, err)
	}
	same.Close()
	if r := plasmite.ParsePoolRef("fresh.plasmite"); r.String() != "fresh.plasmite" {
		t.Fatalf("PoolRef.String %q", r.String())
	}
	fresh, err := c.Pool(plasmite.ParsePoolRef("fresh.plasmite"), 65536)
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := fresh.Info(); info.Name != "fresh" || info.MessageCount != 0 || info.Oldest != 0 {
		t.Fatalf("fresh: %+v", info)
	}
	fresh.Close()

	list, err := c.ListPools()
	if err != nil || len(list) != 2 || list[0].Name != "events" || list[1].Name != "fresh" || list[0].Err != nil {
		t.Fatalf("ListPools: %+v %v", list, err)
	}
	if err := c.DeletePool(plasmite.PoolRefName("fresh")); err != nil {
		t.Fatal(err)
	}
	if list, _ := c.ListPools(); len(list) != 1 {
		t.Fatalf("after delete: %+v", list)
	}
	if !strings.HasPrefix(plasmite.Version(), "0.") {
		t.Fatalf("Version %q", plasmite.Version())
	}
}

func TestListPoolsReportsAnUnreadablePool(t *testing.T) {
	c, dir := newClient(t)
	if err := os.WriteFile(filepath.Join(dir, "junk.plasmite"), []byte("not a pool"), 0o644); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListPools()
	if err != nil || len(list) != 1 || list[0].Name != "junk" {
		t.Fatalf("ListPools: %+v %v", list, err)
	}
	wantKind(t, list[0].Err, plasmite.KindCorrupt, plasmite.ErrCorrupt)
}

func TestEveryCallableErrorKind(t *testing.T) {
	c, dir := newClient(t)
	p := newPool(t, c, "events", 1<<20)
	if _, err := p.Append(1, nil, plasmite.DurabilityFast); err != nil {
		t.Fatal(err)
	}

	_, err := c.OpenPool(plasmite.PoolRefURI("tcp://127.0.0.1:9700/pool/events"))
	wantKind(t, err, plasmite.KindUsage, plasmite.ErrUsage)
	_, err = c.CreatePool(plasmite.PoolRefURI("tcp://127.0.0.1:9700/pool/new"), 1<<20)
	wantKind(t, err, plasmite.KindUsage, plasmite.ErrUsage)
	_, err = c.OpenPool(plasmite.PoolRefName("bad\x00name"))
	wantKind(t, err, plasmite.KindUsage, plasmite.ErrUsage)
	_, err = p.AppendJSON([]byte("{nope"), nil, plasmite.DurabilityFast)
	wantKind(t, err, plasmite.KindUsage, plasmite.ErrUsage)
	_, err = p.Append(func() {}, nil, plasmite.DurabilityFast)
	if pe := wantKind(t, err, plasmite.KindUsage, plasmite.ErrUsage); pe.Err == nil {
		t.Fatal("a marshal failure wraps the encoding/json error")
	}
	_, err = p.Append(1, []string{"bad\x00tag"}, plasmite.DurabilityFast)
	wantKind(t, err, plasmite.KindUsage, plasmite.ErrUsage)
	_, err = p.Append(1, nil, plasmite.Durability(7))
	wantKind(t, err, plasmite.KindUsage, plasmite.ErrUsage)
	_, err = c.CreatePool(plasmite.PoolRefName("tiny"), 10)
	wantKind(t, err, plasmite.KindUsage, plasmite.ErrUsage)
	n := 0
	for _, err := range p.Tail(context.Background(), plasmite.TailOptions{Timeout: -time.Second}) {
		wantKind(t, err, plasmite.KindUsage, plasmite.ErrUsage)
		n++
	}
	if n != 1 {
		t.Fatalf("a tail that cannot start yields its error once, not %d times", n)
	}

	_, err = c.OpenPool(plasmite.PoolRefName("missing"))
	if pe := wantKind(t, err, plasmite.KindNotFound, plasmite.ErrNotFound); pe.Path == "" {
		t.Fatal("NotFound for a pool carries its path")
	}
	_, err = p.Get(5)
	if pe := wantKind(t, err, plasmite.KindNotFound, plasmite.ErrNotFound); !pe.HasSeq || pe.Seq != 5 {
		t.Fatalf("NotFound for a seq carries it: %+v", pe)
	}

	_, err = c.CreatePool(plasmite.PoolRefName("events"), 1<<20)
	wantKind(t, err, plasmite.KindAlreadyExists, plasmite.ErrAlreadyExists)

	lock := holdLock(t, p.Path())
	err = c.DeletePool(plasmite.PoolRefName("events"))
	lock.release()
	wantKind(t, err, plasmite.KindBusy, plasmite.ErrBusy)

	ro, err := c.OpenPoolReadOnly(plasmite.PoolRefName("events"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ro.Append(2, nil, plasmite.DurabilityFast)
	wantKind(t, err, plasmite.KindPermission, plasmite.ErrPermission)
	ro.Close()

	_, err = c.OpenPool(plasmite.PoolRefPath(filepath.Join(p.Path(), "inner.plasmite")))
	wantKind(t, err, plasmite.KindIo, plasmite.ErrIo)

	if err := os.WriteFile(filepath.Join(dir, "bad.plasmite"), make([]byte, 65536), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = c.OpenPool(plasmite.PoolRefName("bad"))
	wantKind(t, err, plasmite.KindCorrupt, plasmite.ErrCorrupt)

	// Internal cannot be caused from outside; its sentinel matches only its kind.
	internal := &plasmite.Error{Kind: plasmite.KindInternal, Message: "bug"}
	wantKind(t, internal, plasmite.KindInternal, plasmite.ErrInternal)
	if plasmite.KindInternal.String() != "Internal" || plasmite.Kind(42).String() != "Kind(42)" {
		t.Fatal("kind names")
	}
}

func TestClosedHandlesAreUsageErrors(t *testing.T) {
	c, _ := newClient(t)
	p := newPool(t, c, "events", 1<<20)
	st, err := p.TailStream(context.Background(), plasmite.TailOptions{SinceSeq: 1, Timeout: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p.Close() // twice is fine
	_, err = p.Append(1, nil, plasmite.DurabilityFast)
	wantKind(t, err, plasmite.KindUsage, plasmite.ErrUsage)
	_, err = p.Get(1)
	wantKind(t, err, plasmite.KindUsage, plasmite.ErrUsage)
	_, err = p.Info()
	wantKind(t, err, plasmite.KindUsage, plasmite.ErrUsage)
	_, err = p.TailStream(context.Background(), plasmite.TailOptions{})
	wantKind(t, err, plasmite.KindUsage, plasmite.ErrUsage)

	// The stream outlives its pool handle.
	if ev, err := st.Next(); err != nil || ev.Kind != plasmite.EventTimeout {
		t.Fatalf("stream after its pool closed: %+v %v", ev, err)
	}
	st.Close()
	st.Close()
	_, err = st.Next()
	wantKind(t, err, plasmite.KindUsage, plasmite.ErrUsage)

	c.Close()
	_, err = c.ListPools()
	wantKind(t, err, plasmite.KindUsage, plasmite.ErrUsage)
	_, err = c.OpenPool(plasmite.PoolRefName("events"))
	wantKind(t, err, plasmite.KindUsage, plasmite.ErrUsage)
}

func TestTailIteratorOrderFilterMaxAndLost(t *testing.T) {
	c, _ := newClient(t)
	p := newPool(t, c, "t", 1<<20)
	for i, tags := range [][]string{{"red"}, {"blue"}, {"red", "blue"}} {
		if _, err := p.Append(map[string]int{"n": i + 1}, tags, plasmite.DurabilityFast); err != nil {
			t.Fatal(err)
		}
	}
	seqs := func(o plasmite.TailOptions) []uint64 {
		var out []uint64
		for m, err := range p.Tail(context.Background(), o) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, m.Seq)
		}
		return out
	}
	if got := seqs(plasmite.TailOptions{SinceSeq: 1, Max: 2}); !reflect.DeepEqual(got, []uint64{1, 2}) {
		t.Fatalf("max: %v", got)
	}
	if got := seqs(plasmite.TailOptions{SinceSeq: 1, Tags: []string{"red"}, Timeout: 50 * time.Millisecond}); !reflect.DeepEqual(got, []uint64{1, 3}) {
		t.Fatalf("tags: %v", got)
	}
	if got := seqs(plasmite.TailOptions{Timeout: 20 * time.Millisecond}); got != nil {
		t.Fatalf("live edge: %v", got)
	}
	// Breaking out of the loop early is fine.
	for m := range p.Tail(context.Background(), plasmite.TailOptions{SinceSeq: 2}) {
		if m.Seq != 2 {
			t.Fatalf("first seq %d", m.Seq)
		}
		break
	}

	small := newPool(t, c, "ring", 65536)
	pad := strings.Repeat("x", 200)
	for i := 0; i < 2000; i++ {
		if _, err := small.Append(map[string]any{"i": i, "pad": pad}, nil, plasmite.DurabilityFast); err != nil {
			t.Fatal(err)
		}
	}
	info, _ := small.Info()
	var lost, first uint64
	for m, err := range small.Tail(context.Background(), plasmite.TailOptions{SinceSeq: 1, Max: 1}) {
		var le *plasmite.LostError
		if errors.As(err, &le) && errors.Is(err, plasmite.ErrLost) {
			lost += le.Count
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		first = m.Seq
	}
	if first != info.Oldest || lost != info.Oldest-1 || lost == 0 {
		t.Fatalf("from evicted seq 1: first %d lost %d, oldest %d", first, lost, info.Oldest)
	}
}

func TestConcurrentAppendersAndTailer(t *testing.T) {
	c, _ := newClient(t)
	p := newPool(t, c, "shared", 8<<20)
	const writers, each = 4, 500
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type rec struct{ W, I int }
	got := make(chan []rec, 1)
	started := make(chan struct{})
	go func() {
		var out []rec
		st, err := p.TailStream(ctx, plasmite.TailOptions{SinceSeq: 1, Max: writers * each})
		close(started)
		if err != nil {
			t.Error(err)
			got <- nil
			return
		}
		defer st.Close()
		var next uint64 = 1
		for {
			ev, err := st.Next()
			if err != nil {
				t.Error(err)
				break
			}
			if ev.Kind != plasmite.EventMessage {
				break
			}
			if ev.Message.Seq != next {
				t.Errorf("seq %d, want %d", ev.Message.Seq, next)
			}
			next++
			var r rec
			if err := ev.Message.Decode(&r); err != nil {
				t.Error(err)
			}
			out = append(out, r)
		}
		got <- out
	}()
	<-started
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := p.Append(rec{w, i}, []string{"w"}, plasmite.DurabilityFast); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var out []rec
	select {
	case out = <-got:
	case <-time.After(60 * time.Second):
		t.Fatal("the tailer did not receive every message")
	}
	if len(out) != writers*each {
		t.Fatalf("tailer got %d messages, want %d", len(out), writers*each)
	}
	next := make([]int, writers)
	for _, r := range out {
		if r.I != next[r.W] {
			t.Fatalf("writer %d: i %d after %d", r.W, r.I, next[r.W]-1)
		}
		next[r.W]++
	}
}

func TestCancellingTheContextStopsABlockedTail(t *testing.T) {
	c, _ := newClient(t)
	p := newPool(t, c, "t", 1<<20)
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		msgs []uint64
		err  error
	}
	done := make(chan result, 1)
	first := make(chan struct{})
	go func() {
		var r result
		for m, err := range p.Tail(ctx, plasmite.TailOptions{}) {
			if err != nil {
				r.err = err
				continue
			}
			r.msgs = append(r.msgs, m.Seq)
			if len(r.msgs) == 1 {
				close(first)
			}
		}
		done <- r
	}()
	// The tail starts at the live edge: append until the reader saw one message.
	deadline := time.After(30 * time.Second)
	for delivered := false; !delivered; {
		if _, err := p.Append("before", nil, plasmite.DurabilityFast); err != nil {
			t.Fatal(err)
		}
		select {
		case <-first:
			delivered = true
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatal("the tail delivered nothing")
		}
	}
	cancel()
	last, err := p.Append("after", nil, plasmite.DurabilityFast)
	if err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("cancelling the context did not stop the blocked tail")
	}
	if !errors.Is(r.err, context.Canceled) {
		t.Fatalf("last error %v, want context.Canceled", r.err)
	}
	for _, s := range r.msgs {
		if s == last.Seq {
			t.Fatalf("seq %d appended after the cancel was delivered", s)
		}
	}

	// A stream cancelled from another goroutine while blocked in Next.
	st, err := p.TailStream(context.Background(), plasmite.TailOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs := make(chan plasmite.Event, 1)
	go func() {
		ev, err := st.Next()
		if err != nil {
			t.Error(err)
		}
		evs <- ev
	}()
	time.Sleep(20 * time.Millisecond)
	st.Cancel()
	select {
	case ev := <-evs:
		if ev.Kind != plasmite.EventCancelled {
			t.Fatalf("event %v, want EventCancelled", ev.Kind)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Cancel did not stop a blocked Next")
	}
	if _, err := p.Append("later", nil, plasmite.DurabilityFast); err != nil {
		t.Fatal(err)
	}
	if ev, err := st.Next(); err != nil || ev.Kind != plasmite.EventCancelled {
		t.Fatalf("after cancel: %+v %v", ev, err)
	}

	// An already cancelled context yields only its error.
	for _, err := range p.Tail(ctx, plasmite.TailOptions{SinceSeq: 1}) {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("tail with a cancelled context: %v", err)
		}
	}
}

func TestStreamResumesAfterTimeout(t *testing.T) {
	c, _ := newClient(t)
	p := newPool(t, c, "t", 1<<20)
	st, err := p.TailStream(context.Background(), plasmite.TailOptions{Timeout: 30 * time.Millisecond, Max: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if ev, err := st.Next(); err != nil || ev.Kind != plasmite.EventTimeout {
		t.Fatalf("%+v %v", ev, err)
	}
	for _, v := range []string{"a", "b", "c"} {
		if _, err := p.Append(v, nil, plasmite.DurabilityFast); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{`"a"`, `"b"`} {
		if ev, err := st.Next(); err != nil || ev.Kind != plasmite.EventMessage || string(ev.Message.Data) != want {
			t.Fatalf("%+v %v, want %s", ev, err, want)
		}
	}
	if ev, err := st.Next(); err != nil || ev.Kind != plasmite.EventEnd {
		t.Fatalf("after max: %+v %v", ev, err)
	}
}
