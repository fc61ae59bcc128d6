package graphemu

import (
	"crypto/tls"
	"net/http"
	"sort"
)

// State is everything the emulator holds, for tests and for people running `make dev`.
type State struct {
	Teams         []TeamState    `json:"teams"`
	Subscriptions []Subscription `json:"subscriptions"`
	Deliveries    []Delivery     `json:"deliveries"`
	// ActivityFeed lists the activity-feed notifications sent to users, oldest first.
	ActivityFeed []ActivityNotification `json:"activityFeed"`
	// Users are the directory's users, by id; Groups its groups, by id.
	Users  []User       `json:"users"`
	Groups []GroupState `json:"groups"`
	// Invitations lists the invitations received, oldest first.
	Invitations []Invitation `json:"invitations"`
	// AppRoleAssignments lists the application's app role assignments, oldest first.
	AppRoleAssignments []AppRoleAssignment `json:"appRoleAssignments"`
	Faults             []Fault             `json:"faults"`
}

// TeamState is a team and its channels.
type TeamState struct {
	ID       string         `json:"id"`
	Channels []ChannelState `json:"channels"`
}

// ChannelState is a channel with its members and messages (oldest first).
type ChannelState struct {
	Channel
	Members  []Member  `json:"members"`
	Messages []Message `json:"messages"`
}

// State returns a copy of the emulator's state.
func (e *Emulator) State() State {
	faults := e.Faults()
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.stateLocked()
	st.Faults = faults
	return st
}

// stateLocked is State without the faults (callers hold e.mu).
func (e *Emulator) stateLocked() State {
	st := State{Teams: []TeamState{}, Subscriptions: []Subscription{}, Deliveries: []Delivery{}, ActivityFeed: []ActivityNotification{},
		Users: []User{}, Groups: []GroupState{}, Invitations: []Invitation{}, AppRoleAssignments: []AppRoleAssignment{}}
	for _, t := range e.teams {
		ts := TeamState{ID: t.id, Channels: []ChannelState{}}
		for _, c := range t.channels {
			ts.Channels = append(ts.Channels, channelState(c))
		}
		st.Teams = append(st.Teams, ts)
	}
	sort.Slice(st.Teams, func(i, j int) bool { return st.Teams[i].ID < st.Teams[j].ID })
	for _, s := range e.subscriptions {
		st.Subscriptions = append(st.Subscriptions, *s)
	}
	sort.Slice(st.Subscriptions, func(i, j int) bool { return st.Subscriptions[i].ID < st.Subscriptions[j].ID })
	for _, d := range e.deliveries {
		st.Deliveries = append(st.Deliveries, *d)
	}
	for _, n := range e.activityFeed {
		st.ActivityFeed = append(st.ActivityFeed, *n)
	}
	for _, id := range sortedKeys(e.users) {
		st.Users = append(st.Users, *e.users[id])
	}
	for _, id := range sortedKeys(e.groups) {
		st.Groups = append(st.Groups, e.groups[id].state())
	}
	for _, i := range e.invitations {
		st.Invitations = append(st.Invitations, *i)
	}
	for _, a := range e.assignments {
		st.AppRoleAssignments = append(st.AppRoleAssignments, *a)
	}
	return st
}

func channelState(c *Channel) ChannelState {
	return ChannelState{Channel: *c, Members: append([]Member{}, c.members...), Messages: append([]Message{}, c.messages...)}
}

// PostUserMessage simulates a user writing text in a channel; subscribers are notified.
func (e *Emulator) PostUserMessage(teamID, channelID string, in UserMessage) (Message, error) {
	m, status, code, msg := e.postUser(e.selfRequest(), teamID, channelID, in)
	if status != http.StatusCreated {
		return Message{}, &Error{Status: status, Code: code, Message: msg}
	}
	return m, nil
}

// Error is a refusal of an emulator helper, as Graph would answer it.
type Error struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func (e *Emulator) getState(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, e.State())
}

func (e *Emulator) viewChannel(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.channel(w, r); ok {
		writeJSON(w, http.StatusOK, channelState(c))
	}
}

// selfRequest stands for a request to the emulator at the address it was last reached on
// (it builds the webUrl of messages created through the Go API).
func (e *Emulator) selfRequest() *http.Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := &http.Request{Host: e.host}
	if e.tls {
		r.TLS = &tls.ConnectionState{}
	}
	return r
}
