package awsenv

import "sync"

// PerRegion keeps one client per Region, built on first use and kept for the
// life of the execution environment: regional services need a client whose
// SigV4 scope names the Region. Callers ask only for Regions they manage, so
// the cache stays bounded by them. Safe for concurrent use.
func PerRegion[C any](build func(region string) C) func(region string) C {
	var mu sync.Mutex
	clients := map[string]C{}
	return func(region string) C {
		mu.Lock()
		defer mu.Unlock()
		c, ok := clients[region]
		if !ok {
			c = build(region)
			clients[region] = c
		}
		return c
	}
}
