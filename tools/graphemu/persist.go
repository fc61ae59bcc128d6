package graphemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// savedState is the content of the state file: what a restart must find again. Faults are
// left out (a test's injection does not outlive the emulator), and so are notifications still
// being retried (their Delivery records stay, as they were last seen).
type savedState struct {
	Teams         []TeamState            `json:"teams"`
	Subscriptions []Subscription         `json:"subscriptions"`
	Deliveries    []Delivery             `json:"deliveries"`
	ActivityFeed  []ActivityNotification `json:"activityFeed"`
	Users         []User                 `json:"users"`
	Groups        []GroupState           `json:"groups"`
	Invitations   []Invitation           `json:"invitations"`
	// AppRoleAssignments are the application's app role assignments.
	AppRoleAssignments []AppRoleAssignment `json:"appRoleAssignments"`
	// Tokens are kept so that clients' cached access tokens stay valid across a restart, as
	// they do when Graph itself restarts.
	Tokens map[string]time.Time `json:"tokens"`
	Seq    int64                `json:"seq"`
}

// NewPersistent is New with its state kept in stateFile: the state found there is loaded,
// and changes are written to it within saveInterval and at Close (a new file renamed over
// the old one, so a crash leaves the previous state or a newer one, never half of one).
// A missing file starts empty.
func NewPersistent(cfg Config, stateFile string) (*Emulator, error) {
	if stateFile == "" {
		return nil, errors.New("graphemu: no state file")
	}
	e := New(cfg)
	e.stateFile = stateFile
	b, err := os.ReadFile(stateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return e, nil
	}
	if err != nil {
		return nil, err
	}
	var st savedState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("graphemu: %s is not a state file (%w): move it away to start afresh", stateFile, err)
	}
	if err := e.restore(st); err != nil {
		return nil, fmt.Errorf("graphemu: %s: %w", stateFile, err)
	}
	return e, nil
}

// restore replaces the freshly made state with st; the configured teams stay hosted, and
// so do the teams of st, whose channels would be lost otherwise.
func (e *Emulator) restore(st savedState) error {
	for _, ts := range st.Teams {
		t := &team{id: ts.ID}
		for _, cs := range ts.Channels {
			c := cs.Channel
			c.teamID, c.members, c.messages = ts.ID, cs.Members, cs.Messages
			t.channels = append(t.channels, &c)
		}
		e.teams[t.id] = t
	}
	for _, s := range st.Subscriptions {
		m := channelMessagesResource.FindStringSubmatch(s.Resource)
		if m == nil {
			return fmt.Errorf("subscription %s: unsupported resource %q", s.ID, s.Resource)
		}
		s.teamID, s.channelID = m[1], m[2]
		e.subscriptions[s.ID] = &s
	}
	for _, d := range st.Deliveries {
		e.deliveries = append(e.deliveries, &d)
	}
	for _, n := range st.ActivityFeed {
		e.activityFeed = append(e.activityFeed, &n)
	}
	for _, u := range st.Users {
		e.users[u.ID] = &u
	}
	for _, gs := range st.Groups {
		g := &group{id: gs.ID, displayName: gs.DisplayName, created: gs.Created, createdSeq: gs.CreatedSeq, members: map[string]*Membership{}}
		for _, m := range gs.Members {
			g.members[m.UserID] = &m
		}
		e.groups[g.id] = g
	}
	for _, i := range st.Invitations {
		e.invitations = append(e.invitations, &i)
	}
	for _, a := range st.AppRoleAssignments {
		e.assignments = append(e.assignments, &a)
	}
	now := time.Now()
	for tok, exp := range st.Tokens {
		if exp.After(now) {
			e.tokens[tok] = exp
		}
	}
	e.seq = st.Seq
	return nil
}

// saveInterval bounds how often the state is written. The whole state is written each
// time, so a burst of changes (a load test's thousands of channels and messages) costs one
// write per interval rather than one per change; at 200 ms, writing a state of 3,000
// channels took 10 ms of CPU per request submitted to the platform (sidebyside, issue #11),
// more than the intake. A crash loses at most the changes of the last interval, which the
// platform's calls redo (their retries, and a request whose channel is gone gets a new one).
const saveInterval = 2 * time.Second

// save schedules the state to be written to the state file, if any (callers hold e.mu).
func (e *Emulator) save() {
	if e.stateFile == "" {
		return
	}
	e.dirty = true
	if !e.saving {
		e.saving = true
		go e.saveLoop()
	}
}

// saveLoop writes the state every saveInterval while changes keep coming, then stops.
func (e *Emulator) saveLoop() {
	for {
		time.Sleep(saveInterval)
		e.mu.Lock()
		if !e.dirty {
			e.saving = false
			e.mu.Unlock()
			return
		}
		e.mu.Unlock()
		if err := e.Flush(); err != nil {
			e.log.Error("graphemu: state not saved; trying again", "error", err)
		}
	}
}

// Flush writes the state now if it changed since the last write: at shutdown, and in
// tests. Writes are one at a time, each of the state as it is when it starts, so an older
// state never replaces a newer one.
func (e *Emulator) Flush() error {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	e.mu.Lock()
	if e.stateFile == "" || !e.dirty {
		e.mu.Unlock()
		return nil
	}
	st := e.stateLocked()
	b, err := json.Marshal(savedState{
		Teams: st.Teams, Subscriptions: st.Subscriptions, Deliveries: st.Deliveries, ActivityFeed: st.ActivityFeed,
		Users: st.Users, Groups: st.Groups, Invitations: st.Invitations, AppRoleAssignments: st.AppRoleAssignments,
		Tokens: e.tokens, Seq: e.seq,
	})
	e.dirty = false
	e.mu.Unlock()
	if err == nil {
		err = writeFileAtomic(e.stateFile, b, 0o644)
	}
	if err != nil {
		e.mu.Lock()
		e.dirty = true // the next write tries again
		e.mu.Unlock()
		return fmt.Errorf("save the emulator's state: %w", err)
	}
	return nil
}

// writeFileAtomic replaces path with data: written and synced to a temporary file in the
// same directory, then renamed over path, so readers see the old content or the new one.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
