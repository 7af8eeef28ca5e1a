package lru

import "testing"

func weighLen(_ string, v string) int { return len(v) }

func TestTheLeastRecentlyUsedGoFirstWhenTheBudgetIsExceeded(t *testing.T) {
	c := New(10, weighLen)
	c.Add("a", "xxxx")
	c.Add("b", "xxxx")
	if _, ok := c.Get("a"); !ok { // a is now the most recently used
		t.Fatal("a was dropped within the budget")
	}
	c.Add("c", "xxxx") // 12 bytes: b, the least recently used, goes
	if _, ok := c.Get("b"); ok {
		t.Error("b was kept over the budget")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok := c.Get(k); !ok {
			t.Errorf("%s was dropped, b should have been", k)
		}
	}
	want := Stats{Hits: 3, Misses: 1, Evictions: 1, Entries: 2, Bytes: 8}
	if got := c.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

func TestAValueHeavierThanTheBudgetIsNotKept(t *testing.T) {
	c := New(3, weighLen)
	c.Add("a", "xx")
	c.Add("big", "xxxx")
	if _, ok := c.Get("big"); ok {
		t.Error("a value over the whole budget was kept")
	}
	if _, ok := c.Get("a"); !ok {
		t.Error("a smaller value was dropped for one that was not kept")
	}
}

func TestTheFirstValueOfAKeyStays(t *testing.T) {
	c := New(100, weighLen)
	c.Add("a", "first")
	c.Add("a", "second")
	if v, _ := c.Get("a"); v != "first" {
		t.Errorf("got %q, want the first value added", v)
	}
	if got := c.Stats(); got.Entries != 1 || got.Bytes != 5 {
		t.Errorf("stats %+v: the second Add was counted", got)
	}
}

func TestANilCacheKeepsNothing(t *testing.T) {
	var c *Cache[string, string]
	c.Add("a", "x")
	if _, ok := c.Get("a"); ok {
		t.Error("a nil cache returned a value")
	}
	if c.Stats() != (Stats{}) {
		t.Error("a nil cache counted")
	}
}
