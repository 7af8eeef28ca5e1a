package tap

import (
	"context"
	"errors"
	"time"
)

// Options say what Run prints and how.
type Options struct {
	Filter Filter
	Writer Writer
	// PairWait is how long an entry waits for the other side of its
	// request; 0 prints every entry alone at once, and so does a filter on
	// the direction.
	PairWait time.Duration
	// MaxWaiting bounds the entries waiting for their other side.
	MaxWaiting int
}

// Run streams with s and prints the requests that pass the filter until
// ctx ends (then it prints the entries still waiting and returns nil) or
// the streamer fails.
func Run(ctx context.Context, s *Streamer, opts Options) error {
	lines := make(chan Line, 256)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, lines) }()

	p := &Pairer{Wait: opts.PairWait, Max: opts.MaxWaiting}
	if opts.Filter.Direction != "" {
		p.Wait = 0 // one side only: nothing to pair
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var expired <-chan time.Time
		if next, ok := p.Next(); ok {
			timer.Reset(time.Until(next))
			expired = timer.C
		}
		select {
		case l := <-lines:
			if err := handle(s, p, opts, l); err != nil {
				return err
			}
		case <-expired:
			if err := write(opts.Writer, p.Expire(time.Now())); err != nil {
				return err
			}
		case err := <-done:
			// The followers have stopped: what is buffered is all there is.
			for {
				select {
				case l := <-lines:
					if err := handle(s, p, opts, l); err != nil {
						return err
					}
					continue
				default:
				}
				break
			}
			if werr := write(opts.Writer, p.Flush()); werr != nil && err == nil {
				err = werr
			}
			return err
		}
	}
}

func handle(s *Streamer, p *Pairer, opts Options, l Line) error {
	e, err := Parse(l.Text)
	if errors.Is(err, ErrNotAccessLog) {
		return nil
	}
	if err != nil {
		s.event(Event{Kind: BadLine, Pod: l.Pod, Err: err})
		return nil
	}
	e.Source = l.Pod
	if !opts.Filter.Match(e) {
		return nil
	}
	return write(opts.Writer, p.Add(e, time.Now()))
}

func write(w Writer, rs []Request) error {
	for _, r := range rs {
		if err := w.Write(r); err != nil {
			return err
		}
	}
	return nil
}
