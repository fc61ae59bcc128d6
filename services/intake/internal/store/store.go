package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/workflows/request"
)

// Store is the intake's repository.
type Store struct {
	db *gorm.DB
}

// New returns a store on db (migrated with Migrate).
func New(db *gorm.DB) *Store { return &Store{db: db} }

var (
	// ErrNotFound: no request has this id.
	ErrNotFound = errors.New("request not found")
	// ErrKeyTaken: an idempotency record already exists for this scope and key.
	ErrKeyTaken = errors.New("idempotency key already recorded")
)

// Row is a request as the projection holds it.
type Row struct {
	ID      string
	Org     string
	Status  request.Status
	LastSeq int // the last history event applied; 0 until the workflow records one
	// State is the request.Request document, served as it is stored.
	State json.RawMessage
}

// Get returns the projection of one request.
func (s *Store) Get(ctx context.Context, id string) (Row, error) {
	var r struct {
		ID, Org, Status, State string
		LastSeq                int
	}
	err := s.db.WithContext(ctx).Table("requests").Select("id, org, status, last_seq, state").Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Row{}, ErrNotFound
	}
	if err != nil {
		return Row{}, err
	}
	return Row{ID: r.ID, Org: r.Org, Status: request.Status(r.Status), LastSeq: r.LastSeq, State: json.RawMessage(r.State)}, nil
}

// Create writes the projection of a request just submitted (last_seq 0, before its
// workflow records anything) and, when the submission carried an Idempotency-Key, its
// idempotency record, in one transaction, so that the request is readable as soon as it
// is acknowledged. A record already stored for the key is ErrKeyTaken and writes nothing.
// A projection row that already exists is left as it is.
func (s *Store) Create(ctx context.Context, r request.Request, key *Idempotency) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if key != nil {
			taken, err := insertIdempotency(tx, *key)
			if err != nil {
				return err
			}
			if taken {
				return ErrKeyTaken
			}
		}
		_, err := upsertProjection(tx, r, 0, r.UpdatedAt, false)
		return err
	})
}

// Discard removes the projection of a request whose workflow could not be started, unless
// the workflow has recorded an event meanwhile (then it did start, and removed is false).
func (s *Store) Discard(ctx context.Context, id string) (removed bool, err error) {
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec("DELETE FROM requests WHERE id = ? AND last_seq = 0", id)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		removed = true
		return tx.Exec("DELETE FROM request_elements WHERE request_id = ?", id).Error
	})
	return removed, err
}

// RecordEvent appends an event to its request's history and applies the request's state
// to the projection, in one transaction. The workflow numbers its events and writes each
// before the next, so a seq already stored holds one of two things:
//   - this very event (the local activity was retried, or the task that wrote it was
//     replayed): nothing changes, it is not an error;
//   - another event, written by a workflow task that never completed (its worker died after
//     the local activity ran, and the replayed workflow took another path, say an update
//     that arrived meanwhile). The workflow's history is the truth: the event takes the
//     seq, the lost task's later events go, and the projection goes back to this event's
//     state. Dropping it instead lost a decision.
//
// Otherwise the projection only moves forward: a state older than the one applied is ignored.
func (s *Store) RecordEvent(ctx context.Context, e request.Event) (Recorded, error) {
	actor, err := json.Marshal(e.Actor)
	if err != nil {
		return AlreadyRecorded, err
	}
	data := string(e.Data)
	if len(e.Data) == 0 {
		data = "null"
	}
	at := e.At
	if at.IsZero() {
		at = e.Request.UpdatedAt
	}
	recorded := Appended
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(`INSERT INTO request_events (request_id, seq, at, type, actor, data) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (request_id, seq) DO NOTHING`, e.RequestID, e.Seq, e.At.UTC(), e.Type, string(actor), data)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			res = tx.Exec(`UPDATE request_events SET at = ?, type = ?, actor = ?, data = ?
				WHERE request_id = ? AND seq = ? AND NOT (type = ? AND actor = ? AND data = ?)`,
				e.At.UTC(), e.Type, string(actor), data, e.RequestID, e.Seq, e.Type, string(actor), data)
			if res.Error != nil || res.RowsAffected == 0 {
				recorded = AlreadyRecorded
				return res.Error
			}
			recorded = Replaced
			if err := tx.Exec("DELETE FROM request_events WHERE request_id = ? AND seq > ?", e.RequestID, e.Seq).Error; err != nil {
				return err
			}
		}
		_, err := upsertProjection(tx, e.Request, e.Seq, at, recorded == Replaced)
		return err
	})
	return recorded, err
}

// Recorded is what RecordEvent made of an event.
type Recorded int

const (
	AlreadyRecorded Recorded = iota // the same event was there: nothing changed
	Appended                        // a new event
	Replaced                        // another event under its seq, from a lost workflow task, gave way to it
)

// upsertProjection writes r as the projection of its request at history position seq,
// unless the projection already holds that position or a later one. When it writes, it
// refreshes the elements the request touches, or drops them once the request is closed.
// at is when r was recorded: it becomes the request's status_since when r's status differs
// from the one stored (or when the row is new); the same status keeps the time it was entered.
// rewind also writes over a projection at a later position (RecordEvent's replaced event).
func upsertProjection(tx *gorm.DB, r request.Request, seq int, at time.Time, rewind bool) (applied bool, err error) {
	state, err := Document(r)
	if err != nil {
		return false, err
	}
	res := tx.Exec(`INSERT INTO requests
			(id, kind, code_rome, title, status, org, submitted_by, assignee, search_text, created_at, updated_at, last_seq, state, teams_channel_id, status_since)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			kind = excluded.kind, code_rome = excluded.code_rome, title = excluded.title, status = excluded.status,
			org = excluded.org, submitted_by = excluded.submitted_by, assignee = excluded.assignee,
			search_text = excluded.search_text, created_at = excluded.created_at, updated_at = excluded.updated_at,
			last_seq = excluded.last_seq, state = excluded.state, teams_channel_id = excluded.teams_channel_id,
			status_since = CASE WHEN requests.status = excluded.status THEN requests.status_since ELSE excluded.status_since END
		WHERE requests.last_seq < excluded.last_seq OR ?`,
		r.ID, string(r.Kind), r.CodeRome, r.Title, string(r.Status), r.Org, r.SubmittedBy.Sub, r.Assignee,
		searchText(r), r.CreatedAt.UTC(), r.UpdatedAt.UTC(), seq, string(state), teamsChannel(r), at.UTC(), rewind)
	if res.Error != nil || res.RowsAffected == 0 {
		return false, res.Error
	}
	if err := tx.Exec("DELETE FROM request_elements WHERE request_id = ?", r.ID).Error; err != nil {
		return false, err
	}
	if r.Status.Closed() {
		return true, nil
	}
	var rows []element
	for _, e := range request.ElementsOf(touched(r)) {
		rows = append(rows, element{RequestID: r.ID, CodeRome: r.CodeRome, Element: e})
	}
	if len(rows) == 0 {
		return true, nil
	}
	return true, tx.Create(&rows).Error
}

// element is a row of request_elements.
type element struct {
	RequestID string
	CodeRome  string
	Element   string
}

func (element) TableName() string { return "request_elements" }

// touched lists what a request would change: its operations and the moderator's
// amendments of them.
func touched(r request.Request) []request.Operation {
	ops := make([]request.Operation, 0, len(r.Operations))
	for _, o := range r.Operations {
		ops = append(ops, o.Operation)
		if o.Decision != nil && o.Decision.Amendment != nil {
			ops = append(ops, *o.Decision.Amendment)
		}
	}
	return ops
}

// Document is the JSON of a request as the projection stores it and the API shows it:
// its lists are [] rather than null.
func Document(r request.Request) ([]byte, error) {
	return json.Marshal(withEmptyLists(r))
}

func withEmptyLists(r request.Request) request.Request {
	if r.Operations == nil {
		r.Operations = []request.RequestOperation{}
	}
	if r.Findings == nil {
		r.Findings = []request.Finding{}
	}
	if r.Questions == nil {
		r.Questions = []request.Question{}
	}
	return r
}

// searchText is what the q filter of listings matches: the title and justification,
// folded.
func searchText(r request.Request) string {
	return request.Fold(r.Title + " " + r.Justification)
}

// History is the request's history in order.
func (s *Store) History(ctx context.Context, requestID string) ([]Entry, error) {
	var rows []struct {
		Seq         int
		At          time.Time
		Type        string
		Actor, Data string
	}
	err := s.db.WithContext(ctx).Table("request_events").Select("seq, at, type, actor, data").
		Where("request_id = ?", requestID).Order("seq").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(rows))
	for i, r := range rows {
		out[i] = Entry{Seq: r.Seq, At: r.At.UTC(), Type: r.Type, Data: json.RawMessage(r.Data)}
		if err := json.Unmarshal([]byte(r.Actor), &out[i].Actor); err != nil {
			return nil, fmt.Errorf("event %s/%d: actor: %w", requestID, r.Seq, err)
		}
	}
	return out, nil
}

// Entry is one event of a request's history.
type Entry struct {
	Seq   int
	At    time.Time
	Type  string
	Actor request.Actor
	Data  json.RawMessage
}

// FindOverlaps lists the other open requests on the same fiche that touch some of the
// same elements, or on any fiche for the elements request.AcrossFiches, in submission order.
func (s *Store) FindOverlaps(ctx context.Context, q request.OverlapQuery) ([]request.Overlap, error) {
	out := []request.Overlap{}
	if len(q.Elements) == 0 {
		return out, nil
	}
	var rows []struct {
		RequestID, Element, Title, Status string
	}
	db := s.db.WithContext(ctx)
	same := db.Where("e.code_rome = ? AND e.element IN ?", q.CodeRome, q.Elements)
	if across := slices.DeleteFunc(slices.Clone(q.Elements), func(e string) bool { return !request.AcrossFiches(e) }); len(across) > 0 {
		same = same.Or("e.element IN ?", across)
	}
	err := db.Table("request_elements AS e").
		Select("e.request_id, e.element, r.title, r.status").
		Joins("JOIN requests r ON r.id = e.request_id").
		Where(same).Where("e.request_id <> ?", q.RequestID).
		Order("r.pos").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if n := len(out); n > 0 && out[n-1].RequestID == r.RequestID {
			out[n-1].Elements = append(out[n-1].Elements, r.Element)
			continue
		}
		out = append(out, request.Overlap{RequestID: r.RequestID, Title: r.Title, Status: request.Status(r.Status), Elements: []string{r.Element}})
	}
	for _, o := range out {
		slices.Sort(o.Elements) // byte order, whatever the database's collation
	}
	return out, nil
}

// Idempotency is the first answer to a request made with an Idempotency-Key: a retry with
// the same key and the same body gets it again.
type Idempotency struct {
	Scope     string // whose keys: an organisation, or a user for roles without one
	Key       string
	BodyHash  string // what the key was first used for
	RequestID string // the request created or changed
	Status    int
	Response  json.RawMessage
	CreatedAt time.Time
}

// Idempotency returns the record of a key, if any.
func (s *Store) Idempotency(ctx context.Context, scope, key string) (Idempotency, bool, error) {
	var r struct {
		BodyHash, RequestID, Response string
		Status                        int
		CreatedAt                     time.Time
	}
	err := s.db.WithContext(ctx).Table("idempotency_keys").Select("body_hash, request_id, status, response, created_at").
		Where("scope = ? AND idem_key = ?", scope, key).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Idempotency{}, false, nil
	}
	if err != nil {
		return Idempotency{}, false, err
	}
	return Idempotency{Scope: scope, Key: key, BodyHash: r.BodyHash, RequestID: r.RequestID, Status: r.Status,
		Response: json.RawMessage(r.Response), CreatedAt: r.CreatedAt.UTC()}, true, nil
}

// SaveIdempotency stores a record unless one exists for its key (then the first one stays).
func (s *Store) SaveIdempotency(ctx context.Context, rec Idempotency) error {
	_, err := insertIdempotency(s.db.WithContext(ctx), rec)
	return err
}

func insertIdempotency(tx *gorm.DB, rec Idempotency) (taken bool, err error) {
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = time.Now()
	}
	res := tx.Exec(`INSERT INTO idempotency_keys
		(scope, idem_key, body_hash, request_id, status, response, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (scope, idem_key) DO NOTHING`,
		rec.Scope, rec.Key, rec.BodyHash, rec.RequestID, rec.Status, string(rec.Response), rec.CreatedAt.UTC())
	return res.Error == nil && res.RowsAffected == 0, res.Error
}

func teamsChannel(r request.Request) string {
	if r.Teams == nil {
		return ""
	}
	return r.Teams.ChannelID
}

// RequestByTeamsChannel finds the request whose Teams channel is channelID.
func (s *Store) RequestByTeamsChannel(ctx context.Context, channelID string) (string, bool, error) {
	var ids []string
	err := s.db.WithContext(ctx).Raw(`SELECT id FROM requests WHERE teams_channel_id = ? AND teams_channel_id <> '' LIMIT 1`, channelID).Scan(&ids).Error
	if err != nil || len(ids) == 0 {
		return "", false, err
	}
	return ids[0], true, nil
}

// EachRequest calls fn with every request's projection, a page at a time, in listing order.
func (s *Store) EachRequest(ctx context.Context, fn func(Row) error) error {
	const page = 500
	after := int64(0)
	for {
		var rows []struct {
			Pos                    int64
			ID, Org, Status, State string
			LastSeq                int
		}
		err := s.db.WithContext(ctx).Table("requests").Select("pos, id, org, status, last_seq, state").
			Where("pos > ?", after).Order("pos").Limit(page).Find(&rows).Error
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := fn(Row{ID: r.ID, Org: r.Org, Status: request.Status(r.Status), LastSeq: r.LastSeq, State: json.RawMessage(r.State)}); err != nil {
				return err
			}
			after = r.Pos
		}
		if len(rows) < page {
			return nil
		}
	}
}
