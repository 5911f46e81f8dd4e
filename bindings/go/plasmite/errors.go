package plasmite

import (
	"strconv"
	"strings"
)

// Kind is the stable kind of an error. Its values are the C ABI's status codes (PLSM_ERR_*).
type Kind int32

// The stable error kinds, in the contract's order.
const (
	KindUsage         Kind = 1 // bad input: arguments, JSON, names, sizes, URI refs, a closed handle
	KindNotFound      Kind = 2 // the pool or the message does not exist
	KindAlreadyExists Kind = 3 // the pool already exists
	KindBusy          Kind = 4 // in use (e.g. deleting a pool a writer holds)
	KindPermission    Kind = 5 // the OS refused access, or the handle is read-only
	KindCorrupt       Kind = 6 // bytes on disk do not match the format
	KindIo            Kind = 7 // any other operating-system error
	KindInternal      Kind = 8 // a bug in plasmite
	// A tail that refuses gaps was lapped (Seq is the first missing message); a v0 addition. The
	// core's gap policy is not exposed by this package yet, so it reaches Go only from a newer library.
	KindRetentionGap Kind = 9
)

var kindNames = [...]string{"Ok", "Usage", "NotFound", "AlreadyExists", "Busy", "Permission", "Corrupt", "Io", "Internal", "RetentionGap"}

// String is the kind's stable name ("Usage", "NotFound", ...).
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Sentinels, one per stable kind: errors.Is(err, plasmite.ErrNotFound) is true for every *Error of
// that kind.
var (
	ErrUsage         error = &kindError{KindUsage}
	ErrNotFound      error = &kindError{KindNotFound}
	ErrAlreadyExists error = &kindError{KindAlreadyExists}
	ErrBusy          error = &kindError{KindBusy}
	ErrPermission    error = &kindError{KindPermission}
	ErrCorrupt       error = &kindError{KindCorrupt}
	ErrIo            error = &kindError{KindIo}
	ErrInternal      error = &kindError{KindInternal}
	ErrRetentionGap  error = &kindError{KindRetentionGap}
)

type kindError struct{ kind Kind }

func (e *kindError) Error() string { return "plasmite: " + e.kind.String() }

// Error is every failure reported by plasmite: a stable Kind plus the context the library gave.
type Error struct {
	Kind      Kind
	Message   string // human message
	Hint      string // what to do about it, or ""
	Path      string // the file concerned, or ""
	Seq       uint64 // the message concerned, when HasSeq
	Offset    uint64 // byte offset in the pool file, when HasOffset
	HasSeq    bool
	HasOffset bool
	Err       error // an underlying Go error (e.g. from encoding/json), or nil
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("plasmite: ")
	b.WriteString(e.Message)
	if e.Path != "" {
		b.WriteString(": ")
		b.WriteString(e.Path)
	}
	if e.HasSeq {
		b.WriteString(" (seq ")
		b.WriteString(strconv.FormatUint(e.Seq, 10))
		b.WriteString(")")
	}
	if e.HasOffset {
		b.WriteString(" (offset ")
		b.WriteString(strconv.FormatUint(e.Offset, 10))
		b.WriteString(")")
	}
	return b.String()
}

// Is reports whether target is the sentinel of e's kind.
func (e *Error) Is(target error) bool {
	k, ok := target.(*kindError)
	return ok && k.kind == e.Kind
}

// Unwrap returns the underlying Go error, if any.
func (e *Error) Unwrap() error { return e.Err }

func usageError(msg string) *Error { return &Error{Kind: KindUsage, Message: msg} }

func closedError(what string) *Error {
	return &Error{Kind: KindUsage, Message: "the " + what + " is closed", Hint: "use a handle before its Close"}
}

// kindFromName maps a stable name back to its kind (Internal for an unknown name).
func kindFromName(name string) Kind {
	for i, n := range kindNames {
		if n == name && i > 0 {
			return Kind(i)
		}
	}
	return KindInternal
}
