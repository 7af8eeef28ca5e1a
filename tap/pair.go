package tap

import (
	"container/list"
	"time"
)

// Request is what tap prints: one request, with the client's outbound
// entry, the server's inbound entry, or both.
type Request struct {
	Outbound *Entry
	Inbound  *Entry
}

// Paired reports whether both sides were seen.
func (r Request) Paired() bool { return r.Outbound != nil && r.Inbound != nil }

// First is the side seen by the client when there is one, else the
// server's: its method, authority, path and status describe the request.
func (r Request) First() *Entry {
	if r.Outbound != nil {
		return r.Outbound
	}
	return r.Inbound
}

// Pairer joins the outbound and the inbound entry of the same request:
// the same x-request-id (Envoy generates one at the first sidecar and the
// next sidecar keeps it), method and authority, opposite directions. The
// method and authority tell apart the hops of a call chain when an app
// forwards x-request-id to its own upstreams.
//
// An entry waits at most Wait for its other side, and at most Max entries
// wait; an entry whose other side does not come (a client or server
// without a sidecar, a pod outside the target) is then returned alone.
// Pairer is not safe for concurrent use.
type Pairer struct {
	// Wait is how long an entry waits for its other side; 0 disables
	// pairing.
	Wait time.Duration
	// Max bounds the entries waiting; the oldest leaves first.
	Max int

	order   list.List // of *waiting, oldest first
	waiting map[pairKey][]*list.Element
}

type pairKey struct{ id, method, authority string }

type waiting struct {
	key      pairKey
	entry    Entry
	deadline time.Time
}

// Add takes an entry seen at now and returns the requests that are ready:
// its pair, the entry itself when it cannot be paired, and entries pushed
// out by Max.
func (p *Pairer) Add(e Entry, now time.Time) []Request {
	if p.Wait <= 0 || e.RequestID == "" {
		return []Request{single(e)}
	}
	if p.waiting == nil {
		p.waiting = map[pairKey][]*list.Element{}
	}
	k := pairKey{e.RequestID, e.Method, e.Authority}
	for i, el := range p.waiting[k] {
		w := el.Value.(*waiting)
		if w.entry.Direction != e.Direction {
			p.remove(el, i)
			return []Request{pair(w.entry, e)}
		}
	}
	p.waiting[k] = append(p.waiting[k], p.order.PushBack(&waiting{key: k, entry: e, deadline: now.Add(p.Wait)}))
	var out []Request
	for p.Max > 0 && p.order.Len() > p.Max {
		out = append(out, p.pop())
	}
	return out
}

// Expire returns the entries whose wait ended at now, alone.
func (p *Pairer) Expire(now time.Time) []Request {
	var out []Request
	for p.order.Len() > 0 && !p.order.Front().Value.(*waiting).deadline.After(now) {
		out = append(out, p.pop())
	}
	return out
}

// Next is when the oldest waiting entry expires; false when none waits.
func (p *Pairer) Next() (time.Time, bool) {
	if p.order.Len() == 0 {
		return time.Time{}, false
	}
	return p.order.Front().Value.(*waiting).deadline, true
}

// Flush returns every waiting entry, alone.
func (p *Pairer) Flush() []Request {
	var out []Request
	for p.order.Len() > 0 {
		out = append(out, p.pop())
	}
	return out
}

// pop removes the oldest waiting entry.
func (p *Pairer) pop() Request {
	el := p.order.Front()
	w := el.Value.(*waiting)
	for i, other := range p.waiting[w.key] {
		if other == el {
			p.remove(el, i)
			break
		}
	}
	return single(w.entry)
}

func (p *Pairer) remove(el *list.Element, i int) {
	k := el.Value.(*waiting).key
	p.order.Remove(el)
	rest := append(p.waiting[k][:i:i], p.waiting[k][i+1:]...)
	if len(rest) == 0 {
		delete(p.waiting, k)
		return
	}
	p.waiting[k] = rest
}

func single(e Entry) Request {
	if e.Direction == Inbound {
		return Request{Inbound: &e}
	}
	return Request{Outbound: &e}
}

func pair(a, b Entry) Request {
	if a.Direction == Inbound {
		a, b = b, a
	}
	return Request{Outbound: &a, Inbound: &b}
}
