// Package plasmite reads and writes plasmite pools (persistent JSON message pools in plain files)
// through libplasmite, the C ABI.
//
// A Client is a pool directory; PoolRefName, PoolRefPath and ParsePoolRef say which pool; a Pool
// appends (Append, AppendJSON), reads (Get) and tails (Tail, an iter.Seq2[Message, error], or
// TailStream, event by event). Cancelling the context of a tail stops a blocked wait promptly and
// delivers nothing after it. Every failure is a *Error with a stable Kind, and errors.Is matches it
// to the sentinel of its kind (ErrNotFound, ...). Close every handle; a cleanup frees a forgotten
// one, at a time the garbage collector chooses.
//
// Linking: the static libplasmite.a, found through the -L path (the repository's target/release, or
// CGO_LDFLAGS=-L$PREFIX/lib); see README.md.
package plasmite
