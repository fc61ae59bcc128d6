package graphemu

import (
	"net/http"
	"slices"
	"strings"
)

// Fault is an injected failure: requests whose method (empty: any) and path prefix match get
// Status (with Retry-After when RetryAfterSeconds > 0) after LatencyMs. Status 0 with a
// latency processes the request normally and delays its answer. Times is how many requests
// it hits (0: until cleared).
type Fault struct {
	Method            string `json:"method"`
	PathPrefix        string `json:"pathPrefix"`
	Status            int    `json:"status"`
	RetryAfterSeconds int    `json:"retryAfterSeconds"`
	Times             int    `json:"times"`
	LatencyMs         int    `json:"latencyMs"`
	// Hits counts the requests the fault has hit so far.
	Hits int `json:"hits"`
}

// AddFault injects a fault; faults are tried in the order they were added.
func (e *Emulator) AddFault(f Fault) {
	f.Hits = 0
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, &f)
}

// ClearFaults removes every fault.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
}

// Faults returns the faults still active.
func (e *Emulator) Faults() []Fault {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Fault, 0, len(e.faults))
	for _, f := range e.faults {
		out = append(out, *f)
	}
	return out
}

func (e *Emulator) takeFault(r *http.Request) (Fault, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, f := range e.faults {
		if (f.Method == "" || strings.EqualFold(f.Method, r.Method)) && strings.HasPrefix(r.URL.Path, f.PathPrefix) {
			f.Hits++
			hit := *f
			if f.Times > 0 && f.Hits >= f.Times {
				e.faults = slices.Delete(e.faults, i, i+1)
			}
			return hit, true
		}
	}
	return Fault{}, false
}

func (e *Emulator) postFault(w http.ResponseWriter, r *http.Request) {
	var f Fault
	if !decode(w, r, &f) {
		return
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		graphError(w, http.StatusBadRequest, "BadRequest", "status must be 0 (latency only) or an HTTP error status.")
		return
	}
	if f.Status == 0 && f.LatencyMs <= 0 {
		graphError(w, http.StatusBadRequest, "BadRequest", "a fault needs a status or a latencyMs.")
		return
	}
	if f.Times < 0 || f.LatencyMs < 0 || f.RetryAfterSeconds < 0 {
		graphError(w, http.StatusBadRequest, "BadRequest", "times, latencyMs and retryAfterSeconds must not be negative.")
		return
	}
	e.AddFault(f)
	writeJSON(w, http.StatusCreated, f)
}

func (e *Emulator) getFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"value": e.Faults()})
}

func (e *Emulator) deleteFaults(w http.ResponseWriter, _ *http.Request) {
	e.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}
