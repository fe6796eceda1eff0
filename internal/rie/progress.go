package rie

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// heartbeat is how often a running build says it is still running.
const heartbeat = 5 * time.Second

// progress reports on the builds running at once: starts, ends, and a
// heartbeat with the packages compiled so far.
type progress struct {
	w        io.Writer
	mu       sync.Mutex
	start    time.Time
	running  []string
	packages map[string]int
	done     chan struct{}
	once     sync.Once
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, start: time.Now(), packages: map[string]int{}, done: make(chan struct{})}
	if w != nil {
		go p.beat()
	}
	return p
}

func (p *progress) say(format string, a ...any) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", a...)
}

func (p *progress) started(name string) {
	p.mu.Lock()
	p.running = append(p.running, name)
	p.mu.Unlock()
	p.say("   building %s…", name)
}

func (p *progress) compiled(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.packages[name]++
}

func (p *progress) finished(name string, d time.Duration, ok bool) {
	p.mu.Lock()
	n := p.packages[name]
	for i, r := range p.running {
		if r == name {
			p.running = append(p.running[:i], p.running[i+1:]...)
			break
		}
	}
	p.mu.Unlock()
	word := "built"
	if !ok {
		word = "FAILED to build"
	}
	p.say("   %s %s in %.1fs (%s)", word, name, d.Seconds(), compiledCount(n))
}

func compiledCount(n int) string {
	if n == 0 {
		return "everything from the build cache"
	}
	return fmt.Sprintf("%d packages compiled", n)
}

func (p *progress) beat() {
	t := time.NewTicker(heartbeat)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
		}
		p.mu.Lock()
		var parts []string
		for _, r := range p.running {
			parts = append(parts, fmt.Sprintf("%s %d", r, p.packages[r]))
		}
		elapsed := time.Since(p.start).Round(time.Second)
		p.mu.Unlock()
		if len(parts) > 0 {
			p.say("   … still building after %s (packages compiled so far: %s)", elapsed, strings.Join(parts, ", "))
		}
	}
}

func (p *progress) stop() { p.once.Do(func() { close(p.done) }) }
