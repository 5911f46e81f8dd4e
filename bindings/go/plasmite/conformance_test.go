package plasmite_test

// The conformance runner: every tests/conformance/*.json manifest (spec/conformance.md) through the
// package's public API. PLASMITE_CONFORMANCE_DIR overrides the manifests' directory and PLASMITE_BIN
// the CLI used by `writers` (default: the workspace's target/release/plasmite, then target/debug).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/plasmite/plasmite/bindings/go/plasmite"
)

func conformanceDir() string {
	if d := os.Getenv("PLASMITE_CONFORMANCE_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "tests", "conformance")
}

func plasmiteBin(t *testing.T) string {
	if b := os.Getenv("PLASMITE_BIN"); b != "" {
		return b
	}
	for _, p := range []string{"release", "debug"} {
		b, _ := filepath.Abs(filepath.Join("..", "..", "..", "target", p, "plasmite"))
		if _, err := os.Stat(b); err == nil {
			return b
		}
	}
	t.Fatal("the writers op needs the plasmite CLI: build it (cargo build --release) or set PLASMITE_BIN")
	return ""
}

func TestConformance(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(conformanceDir(), "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s (%v)", conformanceDir(), err)
	}
	sort.Strings(files)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) { runManifest(t, f) })
	}
}

type runner struct {
	t       *testing.T
	dir     string
	client  *plasmite.Client
	pools   map[string]*plasmite.Pool   // kept handles by pool file path
	streams map[string]*plasmite.Stream // kept tails by id
	locks   map[string]*lockHolder      // by pool file path
	writers int                         // writer processes started so far (numbers W)
}

func runManifest(t *testing.T, file string) {
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Conformance *int             `json:"conformance"`
		Steps       []map[string]any `json:"steps"`
	}
	if err := json.Unmarshal(text, &m); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if m.Conformance == nil || *m.Conformance != 0 {
		t.Fatalf("%s: conformance format version must be 0", file)
	}
	dir := t.TempDir()
	client, err := plasmite.NewClient(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := &runner{t: t, dir: dir, client: client, pools: map[string]*plasmite.Pool{},
		streams: map[string]*plasmite.Stream{}, locks: map[string]*lockHolder{}}
	defer r.cleanup()
	for i, step := range m.Steps {
		r.step(i, step)
	}
}

func (r *runner) cleanup() {
	for _, s := range r.streams {
		s.Close()
	}
	for _, p := range r.pools {
		p.Close()
	}
	for _, l := range r.locks {
		l.release()
	}
	r.client.Close()
}

func (r *runner) step(i int, step map[string]any) {
	t := r.t
	op, _ := step["op"].(string)
	label := fmt.Sprintf("step %d (%s)", i, op)
	got, err := r.dispatch(op, step)
	if want, ok := step["error"].(map[string]any); ok {
		if err == nil {
			t.Errorf("%s: succeeded, want error %v", label, want)
			return
		}
		checkError(t, label, err, want)
		return
	}
	if err != nil {
		t.Errorf("%s: %v", label, err)
		return
	}
	if want, ok := step["expect"]; ok {
		actual := toGeneric(t, got)
		if why := contains(want, actual, "$"); why != "" {
			t.Errorf("%s: %s\n  got: %s", label, why, mustJSON(actual))
		}
	}
}

func checkError(t *testing.T, label string, err error, want map[string]any) {
	var pe *plasmite.Error
	if !errors.As(err, &pe) {
		t.Errorf("%s: error %v is not a *plasmite.Error", label, err)
		return
	}
	if k := want["kind"]; k != pe.Kind.String() {
		t.Errorf("%s: kind %s, want %v (%v)", label, pe.Kind, k, err)
	}
	has := map[string]bool{"has_path": pe.Path != "", "has_seq": pe.HasSeq, "has_offset": pe.HasOffset}
	for key, v := range has {
		if w, ok := want[key].(bool); ok && w != v {
			t.Errorf("%s: %s is %v, want %v (%v)", label, key, v, w, err)
		}
	}
}

// dispatch runs one op; a Go error here is the step's error (a runner fault is a t.Fatal).
func (r *runner) dispatch(op string, s map[string]any) (any, error) {
	switch op {
	case "create":
		ref, key := r.ref(s["pool"])
		p, err := r.client.CreatePool(ref, r.u64(s, "size_bytes"))
		if err != nil {
			return nil, err
		}
		r.keep(key, p)
		return p.Info()
	case "open":
		ref, key := r.ref(s["pool"])
		ro, _ := s["read_only"].(bool)
		open := r.client.OpenPool
		if ro {
			open = r.client.OpenPoolReadOnly
		}
		p, err := open(ref)
		if err != nil {
			return nil, err
		}
		r.keep(key, p)
		return map[string]any{}, nil
	case "info":
		return withPool(r, s, func(p *plasmite.Pool) (any, error) { return p.Info() })
	case "list":
		infos, err := r.client.ListPools()
		if err != nil {
			return nil, err
		}
		names := []string{}
		for _, in := range infos {
			names = append(names, in.Name)
		}
		return map[string]any{"names": names}, nil
	case "delete":
		ref, _ := r.ref(s["pool"])
		return map[string]any{}, r.client.DeletePool(ref)
	case "close":
		_, key := r.ref(s["pool"])
		if p := r.pools[key]; p != nil {
			p.Close()
			delete(r.pools, key)
		}
		return map[string]any{}, nil
	case "append", "append_json":
		tags, d := r.tags(s), r.durability(s)
		return withPool(r, s, func(p *plasmite.Pool) (any, error) {
			if op == "append" {
				return p.Append(s["data"], tags, d)
			}
			text, ok := s["json"].(string)
			if !ok {
				r.t.Fatal("append_json needs a json string")
			}
			return p.AppendJSON([]byte(text), tags, d)
		})
	case "append_many":
		return withPool(r, s, func(p *plasmite.Pool) (any, error) { return r.appendMany(p, s) })
	case "get":
		return withPool(r, s, func(p *plasmite.Pool) (any, error) { return p.Get(r.u64(s, "seq")) })
	case "tail":
		opts := r.tailOptions(s)
		if opts.Max == 0 && opts.Timeout == 0 {
			r.t.Fatal("a tail step needs max or timeout_ms")
		}
		return withPool(r, s, func(p *plasmite.Pool) (any, error) {
			st, err := p.TailStream(context.Background(), opts)
			if err != nil {
				return nil, err
			}
			defer st.Close()
			return readStream(st, 0, false)
		})
	case "tail_open":
		id, _ := s["stream"].(string)
		_, err := withPool(r, s, func(p *plasmite.Pool) (any, error) {
			st, err := p.TailStream(context.Background(), r.tailOptions(s))
			if err == nil {
				r.streams[id] = st
			}
			return nil, err
		})
		return map[string]any{}, err
	case "tail_read":
		st := r.stream(s)
		_, limited := s["max"]
		return readStream(st, r.u64(s, "max"), limited)
	case "tail_cancel":
		r.stream(s).Cancel()
		return map[string]any{}, nil
	case "tail_close":
		r.stream(s).Close()
		delete(r.streams, s["stream"].(string))
		return map[string]any{}, nil
	case "writers":
		return r.runWriters(s), nil
	case "corrupt", "chmod", "truncate":
		r.fileOp(op, s)
		return map[string]any{}, nil
	case "lock":
		path := r.file(s["pool"])
		if old := r.locks[path]; old != nil {
			old.release()
		}
		r.locks[path] = holdLock(r.t, path)
		return map[string]any{}, nil
	case "unlock":
		path := r.file(s["pool"])
		if l := r.locks[path]; l != nil {
			l.release()
			delete(r.locks, path)
		}
		return map[string]any{}, nil
	}
	r.t.Fatalf("unknown op %q", op)
	return nil, nil
}

// withPool runs f with the kept handle of the step's pool, else with a handle opened for the step.
func withPool(r *runner, s map[string]any, f func(*plasmite.Pool) (any, error)) (any, error) {
	ref, key := r.ref(s["pool"])
	if p := r.pools[key]; p != nil {
		return f(p)
	}
	p, err := r.client.OpenPool(ref)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	return f(p)
}

func (r *runner) keep(key string, p *plasmite.Pool) {
	if old := r.pools[key]; old != nil {
		old.Close()
	}
	r.pools[key] = p
}

// ref reads a step's pool field: the ref to pass and the key of its kept handle (the file path).
func (r *runner) ref(v any) (plasmite.PoolRef, string) {
	switch p := v.(type) {
	case string:
		return plasmite.PoolRefName(p), filepath.Join(r.dir, p+".plasmite")
	case map[string]any:
		if s, ok := p["path"].(string); ok {
			path := filepath.Join(r.dir, s)
			return plasmite.PoolRefPath(path), path
		}
		if s, ok := p["uri"].(string); ok {
			return plasmite.PoolRefURI(s), "uri:" + s
		}
		if s, ok := p["ref"].(string); ok {
			ref := plasmite.ParsePoolRef(s)
			switch {
			case strings.Contains(s, "://"):
				return ref, "uri:" + s
			case strings.Contains(s, "/"):
				return ref, s
			default:
				return ref, filepath.Join(r.dir, strings.TrimSuffix(s, ".plasmite")+".plasmite")
			}
		}
	}
	r.t.Fatalf("bad pool field %v", v)
	return plasmite.PoolRef{}, ""
}

func (r *runner) file(v any) string {
	_, key := r.ref(v)
	if strings.HasPrefix(key, "uri:") {
		r.t.Fatalf("no file for the URI ref %v", v)
	}
	return key
}

func (r *runner) u64(s map[string]any, key string) uint64 {
	v, ok := s[key]
	if !ok {
		return 0
	}
	f, ok := v.(float64)
	if !ok || f < 0 || f != float64(uint64(f)) {
		r.t.Fatalf("%s must be a non-negative integer, got %v", key, v)
	}
	return uint64(f)
}

func (r *runner) tags(s map[string]any) []string {
	raw, _ := s["tags"].([]any)
	var tags []string
	for _, t := range raw {
		tags = append(tags, t.(string))
	}
	return tags
}

func (r *runner) durability(s map[string]any) plasmite.Durability {
	switch s["durability"] {
	case nil, "fast":
		return plasmite.DurabilityFast
	case "flush":
		return plasmite.DurabilityFlush
	}
	r.t.Fatalf("bad durability %v", s["durability"])
	return 0
}

func (r *runner) tailOptions(s map[string]any) plasmite.TailOptions {
	return plasmite.TailOptions{
		SinceSeq: r.u64(s, "since_seq"),
		Max:      r.u64(s, "max"),
		Timeout:  time.Duration(r.u64(s, "timeout_ms")) * time.Millisecond,
		Tags:     r.tags(s),
	}
}

func (r *runner) stream(s map[string]any) *plasmite.Stream {
	id, _ := s["stream"].(string)
	st := r.streams[id]
	if st == nil {
		r.t.Fatalf("no stream %q", id)
	}
	return st
}

// readStream reads until limit messages (when limited), the stream's end, a timeout or a cancel.
func readStream(st *plasmite.Stream, limit uint64, limited bool) (any, error) {
	msgs := []any{}
	var lost uint64
	for {
		if limited && uint64(len(msgs)) >= limit {
			return map[string]any{"messages": msgs, "lost": lost, "end": "max"}, nil
		}
		ev, err := st.Next()
		if err != nil {
			return nil, err
		}
		switch ev.Kind {
		case plasmite.EventMessage:
			msgs = append(msgs, ev.Message)
		case plasmite.EventLost:
			lost += ev.Lost
		case plasmite.EventTimeout:
			return map[string]any{"messages": msgs, "lost": lost, "end": "timeout"}, nil
		case plasmite.EventEnd:
			return map[string]any{"messages": msgs, "lost": lost, "end": "max"}, nil
		case plasmite.EventCancelled:
			return map[string]any{"messages": msgs, "lost": lost, "end": "cancelled"}, nil
		}
	}
}

func (r *runner) appendMany(p *plasmite.Pool, s map[string]any) (any, error) {
	n := r.u64(s, "count")
	var first, last uint64
	for i := uint64(0); i < n; i++ {
		data := s["data"]
		if obj, ok := data.(map[string]any); ok {
			cp := map[string]any{"i": i}
			for k, v := range obj {
				cp[k] = v
			}
			data = cp
		}
		m, err := p.Append(data, r.tags(s), plasmite.DurabilityFast)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			first = m.Seq
		}
		last = m.Seq
	}
	return map[string]any{"first_seq": first, "last_seq": last}, nil
}

// runWriters runs `plasmite --dir DIR poke POOL` writer processes at once, then reads the pool back.
func (r *runner) runWriters(s map[string]any) any {
	t := r.t
	bin := plasmiteBin(t)
	procs, each := int(r.u64(s, "processes")), int(r.u64(s, "messages"))
	target, ok := s["pool"].(string)
	if !ok {
		target = r.file(s["pool"])
	}
	cmds := make([]*exec.Cmd, procs)
	for p := range cmds {
		var input strings.Builder
		for i := 0; i < each; i++ {
			fmt.Fprintf(&input, "{\"w\":%d,\"i\":%d}\n", r.writers, i)
		}
		r.writers++
		cmd := exec.Command(bin, "--dir", r.dir, "poke", target)
		cmd.Stdin = strings.NewReader(input.String())
		cmd.Stdout = io.Discard
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", bin, err)
		}
		cmds[p] = cmd
		t.Cleanup(func() {
			if stderr.Len() > 0 && t.Failed() {
				t.Logf("writer stderr: %s", stderr.String())
			}
		})
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("writer %v: %v", cmd.Args, err)
		}
	}
	got, err := withPool(r, s, func(p *plasmite.Pool) (any, error) { return readBack(t, p), nil })
	if err != nil {
		t.Fatalf("open after writers: %v", err)
	}
	return got
}

// readBack tails the pool from seq 1 (500 ms timeout) and checks what the writers left.
func readBack(t *testing.T, p *plasmite.Pool) map[string]any {
	seen := map[uint64]bool{}
	distinct, contiguous, ordered := true, true, true
	next := map[float64]float64{}
	var prev uint64
	count := 0
	for m, err := range p.Tail(context.Background(), plasmite.TailOptions{SinceSeq: 1, Timeout: 500 * time.Millisecond}) {
		if err != nil {
			t.Fatalf("tail after writers: %v", err)
		}
		count++
		if seen[m.Seq] {
			distinct = false
		}
		seen[m.Seq] = true
		if (prev == 0 && m.Seq != 1) || (prev != 0 && m.Seq != prev+1) {
			contiguous = false
		}
		prev = m.Seq
		var rec map[string]any
		if m.Decode(&rec) == nil {
			w, okW := rec["w"].(float64)
			i, okI := rec["i"].(float64)
			if okW && okI {
				if i != next[w] {
					ordered = false
				}
				next[w] = i + 1
			}
		}
	}
	return map[string]any{"seqs_distinct": distinct, "seqs_contiguous": contiguous,
		"writers_ordered": ordered, "count": count}
}

func (r *runner) fileOp(op string, s map[string]any) {
	path := r.file(s["pool"])
	var err error
	switch op {
	case "corrupt":
		var f *os.File
		if f, err = os.OpenFile(path, os.O_WRONLY, 0); err == nil {
			var b []byte
			for _, v := range s["bytes"].([]any) {
				b = append(b, byte(v.(float64)))
			}
			_, err = f.WriteAt(b, int64(r.u64(s, "offset")))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
	case "chmod":
		err = os.Chmod(path, os.FileMode(r.u64(s, "mode")))
	case "truncate":
		err = os.Truncate(path, int64(r.u64(s, "length")))
	}
	if err != nil {
		r.t.Fatalf("%s %s: %v", op, path, err)
	}
}
