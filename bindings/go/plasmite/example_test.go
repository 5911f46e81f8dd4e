package plasmite_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/plasmite/plasmite/bindings/go/plasmite"
)

func Example() {
	dir, err := os.MkdirTemp("", "plasmite-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	client, err := plasmite.NewClient(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	pool, err := client.CreatePool(plasmite.PoolRefName("events"), 1024*1024)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	msg, err := pool.Append(map[string]any{"sensor": "temp", "value": 23.5}, []string{"lab"}, plasmite.DurabilityFast)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("appended seq", msg.Seq)
	if _, err := pool.AppendJSON([]byte(`{"sensor": "door", "open": true}`), nil, plasmite.DurabilityFlush); err != nil {
		log.Fatal(err)
	}

	// Read everything from seq 1; stop after 100 ms without a new message.
	ctx := context.Background()
	for m, err := range pool.Tail(ctx, plasmite.TailOptions{SinceSeq: 1, Timeout: 100 * time.Millisecond}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(m.Seq, m.Tags, string(m.Data))
	}

	if _, err := pool.Get(99); errors.Is(err, plasmite.ErrNotFound) {
		fmt.Println("seq 99: not found")
	}
	// Output:
	// appended seq 1
	// 1 [lab] {"sensor":"temp","value":23.5}
	// 2 [] {"sensor":"door","open":true}
	// seq 99: not found
}
