package plasmite_test

// Helpers of the conformance runner: the flock(1) lock holder, the JSON view of results and the
// "contains" match of spec/conformance.md.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/plasmite/plasmite/bindings/go/plasmite"
)

// lockHolder is a flock(1) process holding the pool file's writer lock until its stdin closes.
type lockHolder struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

func holdLock(t *testing.T, path string) *lockHolder {
	cmd := exec.Command("flock", "-x", path, "-c", "echo locked; exec cat >/dev/null")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("flock: %v", err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("flock did not report the lock: %q %v", line, err)
	}
	return &lockHolder{cmd: cmd, stdin: stdin}
}

func (l *lockHolder) release() {
	l.stdin.Close()
	l.cmd.Wait()
}

// toGeneric turns a result into plain JSON values (via its JSON form, e.g. the envelope).
func toGeneric(t *testing.T, v any) any {
	if info, ok := v.(plasmite.PoolInfo); ok {
		v = info.Raw
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal a result: %v", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	checkTimes(t, out)
	return out
}

// checkTimes checks the shape of every message's time: RFC 3339 ending in Z.
func checkTimes(t *testing.T, v any) {
	switch x := v.(type) {
	case map[string]any:
		if ts, ok := x["time"].(string); ok {
			if _, err := time.Parse(time.RFC3339Nano, ts); err != nil || !strings.HasSuffix(ts, "Z") {
				t.Errorf("time %q is not RFC 3339 UTC", ts)
			}
		}
		for _, m := range x {
			checkTimes(t, m)
		}
	case []any:
		for _, m := range x {
			checkTimes(t, m)
		}
	}
}

// contains reports "" when actual contains want (spec/conformance.md), else where it does not.
func contains(want, actual any, at string) string {
	switch w := want.(type) {
	case map[string]any:
		a, ok := actual.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: want an object, got %s", at, mustJSON(actual))
		}
		for k, wv := range w {
			av, ok := a[k]
			if !ok {
				return fmt.Sprintf("%s: missing key %q", at, k)
			}
			if why := contains(wv, av, at+"."+k); why != "" {
				return why
			}
		}
		return ""
	case []any:
		a, ok := actual.([]any)
		if !ok || len(a) != len(w) {
			return fmt.Sprintf("%s: want %s, got %s", at, mustJSON(w), mustJSON(actual))
		}
		for i := range w {
			if why := contains(w[i], a[i], fmt.Sprintf("%s[%d]", at, i)); why != "" {
				return why
			}
		}
		return ""
	default:
		if want != actual {
			return fmt.Sprintf("%s: want %s, got %s", at, mustJSON(want), mustJSON(actual))
		}
		return ""
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
