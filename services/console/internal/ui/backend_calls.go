package ui

// How the pages call the services: at the same time, and reading their refusals.

import (
	"net/http"
	"sync"

	"github.com/plateforme-rome/rome/services/console/internal/backend"
)

// fanout runs a page's calls to the services at the same time and keeps the first error.
type fanout struct {
	wg  sync.WaitGroup
	mu  sync.Mutex
	err error
}

func (p *fanout) do(fn func() error) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if err := fn(); err != nil {
			p.mu.Lock()
			if p.err == nil {
				p.err = err
			}
			p.mu.Unlock()
		}
	}()
}

func (p *fanout) wait() error {
	p.wg.Wait()
	return p.err
}

// serviceNotFound tells whether err is a service's 404.
func serviceNotFound(err error) bool {
	e, ok := backend.AsError(err)
	return ok && e.Status == http.StatusNotFound
}

// problemWithStatus is err as a service's refusal with that status.
func problemWithStatus(err error, status int) (*backend.Error, bool) {
	e, ok := backend.AsError(err)
	return e, ok && e.Status == status
}
