package webhook

import "sync"

// A review writes two large byte slices: its patch (mostly the bootstrap,
// 45 KB for a typical pod) and its encoded answer (that patch again, in
// base64). Both are garbage once the answer is written. Pooled, a cached
// review allocates a third of what it did, and the garbage collector, which
// runs every time the allocations reach the size of the live heap (the
// bootstrap cache, the API types), runs a third as often.
var buffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBuffer is the largest buffer kept for another review: the
// buffers of rare large pods are left to the garbage collector.
const maxPooledBuffer = 256 << 10

// getBuffer returns an empty buffer with room for at least size bytes.
func getBuffer(size int) []byte {
	p := buffers.Get().(*[]byte)
	if cap(*p) < size {
		return make([]byte, 0, size)
	}
	return (*p)[:0]
}

// putBuffer gives b back for another review; nothing may use it after.
func putBuffer(b []byte) {
	if b == nil || cap(b) > maxPooledBuffer {
		return
	}
	b = b[:0]
	buffers.Put(&b)
}
