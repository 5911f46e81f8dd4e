package plasmite

import (
	"context"
	"iter"
	"runtime"
	"strconv"
	"time"
)

// TailOptions selects what a tail delivers. The zero value means: from the live edge, unlimited,
// wait forever, every message.
type TailOptions struct {
	SinceSeq uint64        // 0: only messages appended from now on; N: from seq N inclusive
	Max      uint64        // 0: no limit; N: end after N delivered messages
	Timeout  time.Duration // 0: wait forever; T: end after T without a message
	Tags     []string      // only messages carrying every one of these tags
}

func (o TailOptions) timeoutMillis() (uint64, error) {
	if o.Timeout < 0 {
		return 0, usageError("TailOptions.Timeout is negative")
	}
	// Round up, so a positive timeout never means "wait forever".
	return uint64((o.Timeout + time.Millisecond - 1) / time.Millisecond), nil
}

// EventKind says what Stream.Next produced.
type EventKind int

const (
	EventMessage   EventKind = iota + 1 // Event.Message is the next message
	EventLost                           // Event.Lost messages were overwritten before this reader got them
	EventTimeout                        // TailOptions.Timeout passed without a message; Next may be called again
	EventEnd                            // TailOptions.Max messages were delivered; every later Next returns EventEnd
	EventCancelled                      // the stream was cancelled; every later Next returns EventCancelled
)

// Event is one result of Stream.Next.
type Event struct {
	Kind    EventKind
	Message Message // for EventMessage
	Lost    uint64  // for EventLost
}

// Stream is a tail read event by event: one goroutine calls Next, any goroutine may Cancel.
type Stream struct {
	s    *cStream
	done <-chan struct{}
	stop func() bool
}

// TailStream starts a tail. Cancelling ctx cancels the stream (as Cancel does).
func (p *Pool) TailStream(ctx context.Context, opts TailOptions) (*Stream, error) {
	cs, err := p.p.tail(opts)
	if err != nil {
		return nil, err
	}
	st := &Stream{s: cs, done: ctx.Done()}
	if st.done != nil {
		st.stop = context.AfterFunc(ctx, cs.cancel)
	}
	runtime.AddCleanup(st, (*cStream).free, cs)
	return st, nil
}

// Next waits for the next event. A failure (e.g. Corrupt for a damaged message) does not end the
// stream: the next call carries on after the damage. Once the stream is cancelled (by Cancel or its
// context), Next delivers no message: it returns EventCancelled.
func (s *Stream) Next() (Event, error) {
	if s.isCancelled() {
		if s.s.closed() {
			return Event{}, closedError("stream")
		}
		s.s.cancel()
		return Event{Kind: EventCancelled}, nil
	}
	ev, err := s.s.next()
	if err == nil && ev.Kind == EventMessage && s.isCancelled() {
		// The cancel raced with a message: nothing is delivered after a cancel.
		s.s.cancel()
		return Event{Kind: EventCancelled}, nil
	}
	return ev, err
}

func (s *Stream) isCancelled() bool {
	if s.s.cancelled.Load() {
		return true
	}
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Cancel makes a blocked Next return EventCancelled promptly, and every later Next too. Safe from
// any goroutine and more than once.
func (s *Stream) Cancel() { s.s.cancel() }

// Close cancels and frees the stream. Calling Close again is a no-op.
func (s *Stream) Close() error {
	if s.stop != nil {
		s.stop()
	}
	s.s.free()
	return nil
}

// Tail returns the pool's messages in seq order as an iterator:
//
//	for msg, err := range pool.Tail(ctx, plasmite.TailOptions{SinceSeq: 1}) { ... }
//
// The sequence ends when Max messages were delivered, when Timeout passed without a message, when
// the loop breaks, or when ctx is cancelled: then it yields one last (Message{}, ctx.Err()) and no
// message after the cancel. Other errors do not end it: a *LostError (errors.Is(err, ErrLost)) says
// how many messages were overwritten before this reader got them, a Corrupt error reports a damaged
// message that is skipped; break to stop, or keep ranging to carry on. An error starting the tail
// (e.g. NotFound) is yielded once and ends the sequence.
func (p *Pool) Tail(ctx context.Context, opts TailOptions) iter.Seq2[Message, error] {
	return func(yield func(Message, error) bool) {
		st, err := p.TailStream(ctx, opts)
		if err != nil {
			yield(Message{}, err)
			return
		}
		defer st.Close()
		for {
			ev, err := st.Next()
			if err != nil {
				if !yield(Message{}, err) {
					return
				}
				continue
			}
			switch ev.Kind {
			case EventMessage:
				if !yield(ev.Message, nil) {
					return
				}
			case EventLost:
				if !yield(Message{}, &LostError{Count: ev.Lost}) {
					return
				}
			case EventCancelled:
				if err := ctx.Err(); err != nil {
					yield(Message{}, err)
				}
				return
			default: // EventTimeout, EventEnd
				return
			}
		}
	}
}

// ErrLost matches every *LostError: errors.Is(err, plasmite.ErrLost).
var ErrLost error = &LostError{}

// LostError reports messages overwritten (evicted by newer ones) before a tail read them.
type LostError struct {
	Count uint64
}

func (e *LostError) Error() string {
	return "plasmite: " + strconv.FormatUint(e.Count, 10) + " messages were overwritten before this reader got them"
}

// Is makes every *LostError match ErrLost.
func (e *LostError) Is(target error) bool { return target == ErrLost }
