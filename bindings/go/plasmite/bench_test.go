package plasmite_test

import (
	"context"
	"testing"

	"github.com/plasmite/plasmite/bindings/go/plasmite"
)

// Run: go test -run '^$' -bench . -benchtime 200000x ./...   (b.N messages per run; msgs/s reported)

var benchPayload = []byte(`{"sensor":"temp","value":23.5,"site":"lab-1","ok":true}`)

// warmPool is a 4 MiB pool whose ring was filled once, so appends measure steady state (evicting),
// not the kernel zero-filling each fresh page on first touch.
func warmPool(b *testing.B) *plasmite.Pool {
	c, _ := newClient(b)
	p := newPool(b, c, "bench", 4<<20)
	for i := 1; ; i++ {
		if _, err := p.AppendJSON(benchPayload, nil, plasmite.DurabilityFast); err != nil {
			b.Fatal(err)
		}
		if i%1024 != 0 {
			continue
		}
		if info, err := p.Info(); err != nil || info.Oldest > 1 {
			if err != nil {
				b.Fatal(err)
			}
			return p
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	p := warmPool(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.AppendJSON(benchPayload, nil, plasmite.DurabilityFast); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkAppendValue(b *testing.B) {
	p := warmPool(b)
	v := map[string]any{"sensor": "temp", "value": 23.5}
	tags := []string{"lab"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Append(v, tags, plasmite.DurabilityFast); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkTail reads b.N stored messages through the Tail iterator (the appends are not timed).
func BenchmarkTail(b *testing.B) {
	c, _ := newClient(b)
	p := newPool(b, c, "bench", 256<<20)
	for i := 0; i < b.N; i++ {
		if _, err := p.AppendJSON(benchPayload, nil, plasmite.DurabilityFast); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for m, err := range p.Tail(context.Background(), plasmite.TailOptions{SinceSeq: 1, Max: uint64(b.N)}) {
		if err != nil {
			b.Fatal(err)
		}
		n += len(m.Data)
	}
	b.StopTimer()
	if n != b.N*len(benchPayload) {
		b.Fatalf("read %d bytes, want %d", n, b.N*len(benchPayload))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
