// Package apptest has stand-ins for the intake's collaborators, for the tests of its use
// cases and of its HTTP interface.
package apptest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/services/intake/internal/app"
	"github.com/plateforme-rome/rome/workflows/request"
)

// Workflows stands for Temporal: it records what it is asked and answers as told.
type Workflows struct {
	mu       sync.Mutex
	Starts   []request.Input
	StartErr error
	OnStart  func(request.Input)
	Updates  []app.Update
	Result   request.UpdateResult
	Err      error
	Signals  []request.TeamsReply
	Releases []int // the releases whose workflow was started
}

func (f *Workflows) Signal(_ context.Context, requestID, name string, arg any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if name != request.SignalTeamsReply {
		return fmt.Errorf("unexpected signal %q", name)
	}
	f.Signals = append(f.Signals, arg.(request.TeamsReply))
	return f.Err
}

func (f *Workflows) Start(_ context.Context, in request.Input) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Starts = append(f.Starts, in)
	if f.OnStart != nil {
		f.OnStart(in)
	}
	return f.StartErr
}

func (f *Workflows) Update(_ context.Context, u app.Update) (request.UpdateResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Updates = append(f.Updates, u)
	return f.Result, f.Err
}

func (f *Workflows) StartRelease(_ context.Context, n int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Releases = append(f.Releases, n)
	return f.StartErr
}

// StartCount is how many starts it was asked.
func (f *Workflows) StartCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.Starts)
}

// UpdateCount is how many updates it was asked.
func (f *Workflows) UpdateCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.Updates)
}

// LastUpdate is the last update it was asked; the test fails without one.
func (f *Workflows) LastUpdate(t testing.TB) app.Update {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.Updates) == 0 {
		t.Fatal("no update sent")
	}
	return f.Updates[len(f.Updates)-1]
}

// Referential answers the preview's dry run and the open release as told, recording the
// change sets.
type Referential struct {
	Got        []refclient.ChangeSet
	Validation refclient.Validation
	Err        error
	Next       refclient.Release // the open release
	NextErr    error
}

func (f *Referential) Validate(_ context.Context, cs refclient.ChangeSet) (*refclient.Validation, error) {
	f.Got = append(f.Got, cs)
	if f.Err != nil {
		return nil, f.Err
	}
	return &f.Validation, nil
}

func (f *Referential) NextRelease(context.Context) (*refclient.Release, error) {
	if f.NextErr != nil {
		return nil, f.NextErr
	}
	return &f.Next, nil
}
