package reconcile

import (
	"maps"
	"strings"
	"sync"
)

// counter counts API calls by operation ("ssm:GetServiceSetting"), one per
// logical call made through the interfaces: a page is a call, an SDK retry
// of it is not, and neither is a repeat while waiting for IAM to propagate.
type counter struct {
	mu    sync.Mutex
	calls map[string]int
}

func (c *counter) add(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[op]++
}

func (c *counter) snapshot() (calls map[string]int, reads, writes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls = maps.Clone(c.calls)
	if calls == nil {
		calls = map[string]int{}
	}
	for op, n := range calls {
		if isWrite(op) {
			writes += n
		} else {
			reads += n
		}
	}
	return calls, reads, writes
}

// isWrite tells writes from reads by the operation's verb.
func isWrite(op string) bool {
	_, name, _ := strings.Cut(op, ":")
	for _, verb := range []string{"Get", "List", "Describe"} {
		if strings.HasPrefix(name, verb) {
			return false
		}
	}
	return true
}
