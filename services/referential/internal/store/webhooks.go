package store

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/services/referential/internal/webhook"
)

// migrationWebhooks creates the webhooks' tables. Events are the outbox: Publish records a
// version's events in the transaction that stores the version, together with one delivery
// per subscribed endpoint, so that no publication is ever lost between the two. Each
// endpoint's queue is its pending deliveries in seq order; the endpoint row carries the
// queue's schedule (next attempt, consecutive failures) and the lease of the replica
// delivering it.
func migrationWebhooks(tx *gorm.DB, d database.Dialect) error {
	ts := d.Timestamp()
	return database.ExecAll(tx,
		`CREATE TABLE ref_webhook_endpoints (
			id TEXT PRIMARY KEY,
			url TEXT NOT NULL,
			events TEXT NOT NULL,
			codes_rome TEXT NOT NULL,
			secret TEXT NOT NULL,
			previous_secret TEXT NOT NULL DEFAULT '',
			previous_secret_until `+ts+`,
			created_by TEXT NOT NULL,
			created_at `+ts+` NOT NULL,
			disabled_at `+ts+`,
			disabled_reason TEXT NOT NULL DEFAULT '',
			next_attempt_at `+ts+` NOT NULL,
			failures INTEGER NOT NULL DEFAULT 0,
			failing_since `+ts+`,
			lease_owner TEXT NOT NULL DEFAULT '',
			lease_until `+ts+`
		)`,
		`CREATE TABLE ref_webhook_events (
			id TEXT PRIMARY KEY,
			type TEXT NOT NULL,
			version INTEGER NOT NULL,
			code_rome TEXT NOT NULL DEFAULT '',
			payload TEXT NOT NULL,
			created_at `+ts+` NOT NULL
		)`,
		`CREATE TABLE ref_webhook_deliveries (
			`+d.SerialKey("seq")+`,
			id TEXT NOT NULL UNIQUE,
			endpoint_id TEXT NOT NULL REFERENCES ref_webhook_endpoints(id),
			event_id TEXT NOT NULL REFERENCES ref_webhook_events(id),
			state TEXT NOT NULL,
			attempts INTEGER NOT NULL DEFAULT 0,
			created_at `+ts+` NOT NULL,
			last_attempt_at `+ts+`,
			last_status INTEGER NOT NULL DEFAULT 0,
			last_error TEXT NOT NULL DEFAULT '',
			delivered_at `+ts+`,
			dead_at `+ts+`
		)`,
		`CREATE INDEX ref_webhook_deliveries_queue ON ref_webhook_deliveries (endpoint_id, state, seq)`,
		`CREATE TABLE ref_webhook_attempts (
			delivery_seq BIGINT NOT NULL REFERENCES ref_webhook_deliveries(seq),
			n INTEGER NOT NULL,
			at `+ts+` NOT NULL,
			status INTEGER NOT NULL DEFAULT 0,
			error TEXT NOT NULL DEFAULT '',
			duration_ms INTEGER NOT NULL,
			PRIMARY KEY (delivery_seq, n)
		)`)
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryDead      = "dead" // a dead letter: replay it once the endpoint works again
)

// WebhookEndpoint is a consumer's endpoint and the state of its queue.
type WebhookEndpoint struct {
	ID                  string `gorm:"primaryKey"`
	URL                 string `gorm:"column:url"`
	Events              string // comma-separated event types
	CodesRome           string // comma-separated; empty: every fiche
	Secret              string // the HMAC key: kept as is, since signing needs it
	PreviousSecret      string // still signing until PreviousSecretUntil (a rotation's grace)
	PreviousSecretUntil *time.Time
	CreatedBy           string
	CreatedAt           time.Time
	DisabledAt          *time.Time
	DisabledReason      string
	NextAttemptAt       time.Time
	Failures            int
	FailingSince        *time.Time
	LeaseOwner          string
	LeaseUntil          *time.Time
}

func (WebhookEndpoint) TableName() string { return "ref_webhook_endpoints" }

// EventTypes are the event types the endpoint subscribed to.
func (e WebhookEndpoint) EventTypes() []string { return splitList(e.Events) }

// Codes are the fiches the endpoint follows (none: all).
func (e WebhookEndpoint) Codes() []string { return splitList(e.CodesRome) }

// Secrets are the secrets that sign a delivery at t: the current one, and the previous one
// during its grace period.
func (e WebhookEndpoint) Secrets(t time.Time) []string {
	if e.PreviousSecret != "" && e.PreviousSecretUntil != nil && t.Before(*e.PreviousSecretUntil) {
		return []string{e.Secret, e.PreviousSecret}
	}
	return []string{e.Secret}
}

// JoinList stores a list in one column.
func JoinList(items []string) string { return strings.Join(items, ",") }

func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// WebhookEvent is an event of the outbox.
type WebhookEvent struct {
	ID        string `gorm:"primaryKey"`
	Type      string
	Version   int
	CodeRome  string
	Payload   string // the body of every delivery of the event: identical on each attempt
	CreatedAt time.Time
}

func (WebhookEvent) TableName() string { return "ref_webhook_events" }

// WebhookDelivery is an event to deliver to an endpoint, and how it went.
type WebhookDelivery struct {
	Seq           int64  `gorm:"primaryKey;autoIncrement"`
	ID            string // the webhook-id
	EndpointID    string
	EventID       string
	State         string
	Attempts      int
	CreatedAt     time.Time
	LastAttemptAt *time.Time
	LastStatus    int
	LastError     string
	DeliveredAt   *time.Time
	DeadAt        *time.Time
}

func (WebhookDelivery) TableName() string { return "ref_webhook_deliveries" }

// WebhookAttempt is one try of a delivery: the HTTP status (0: no answer) or the error.
type WebhookAttempt struct {
	DeliverySeq int64 `gorm:"primaryKey"`
	N           int   `gorm:"primaryKey"`
	At          time.Time
	Status      int
	Error       string
	DurationMS  int64 `gorm:"column:duration_ms"`
}

func (WebhookAttempt) TableName() string { return "ref_webhook_attempts" }

// DeliveryView is a delivery with its event.
type DeliveryView struct {
	WebhookDelivery
	Type     string
	Version  int
	CodeRome string
	Payload  string
}

// enqueueWebhooks records the events of a publication and their deliveries to the
// enabled endpoints subscribed to them, inside the publication's transaction.
func enqueueWebhooks(tx *gorm.DB, p Publication) error {
	events, codes := webhookEvents(p)
	if err := tx.CreateInBatches(events, 200).Error; err != nil {
		return err
	}
	var eps []WebhookEndpoint
	if err := tx.Where("disabled_at IS NULL").Order("id").Find(&eps).Error; err != nil {
		return err
	}
	var ds []WebhookDelivery
	for i, ev := range events {
		for _, ep := range eps {
			if webhook.Matches(ep.EventTypes(), ep.Codes(), ev.Type, codes[i]) {
				ds = append(ds, WebhookDelivery{ID: webhook.MessageID(ep.ID, ev.ID), EndpointID: ep.ID, EventID: ev.ID,
					State: DeliveryPending, CreatedAt: ev.CreatedAt})
			}
		}
	}
	if len(ds) == 0 {
		return nil
	}
	return tx.CreateInBatches(ds, 500).Error
}

// webhookEvents are the events of a publication, in the order consumers get them: the
// version, then each fiche it changed, then the release that published it, if one did;
// codes[i] are the fiches event i is about.
func webhookEvents(p Publication) (events []WebhookEvent, codes [][]string) {
	v := p.Version
	var fiches []string
	changes := map[string][]json.RawMessage{}
	first := map[string]ChangeEntry{}
	for _, e := range p.Entries {
		if _, seen := changes[e.CodeRome]; !seen {
			fiches = append(fiches, e.CodeRome)
			first[e.CodeRome] = e
		}
		changes[e.CodeRome] = append(changes[e.CodeRome], json.RawMessage(e.Entry))
	}
	at := v.LastModified.UTC()
	add := func(typ, code string, data any, about []string) {
		body, err := json.Marshal(webhook.Envelope{Type: typ, Timestamp: v.PublishedAt.UTC(), Data: data})
		if err != nil {
			panic(err) // plain structs: cannot fail
		}
		events = append(events, WebhookEvent{ID: webhook.EventID(typ, v.Number, code), Type: typ, Version: v.Number,
			CodeRome: code, Payload: string(body), CreatedAt: at})
		codes = append(codes, about)
	}
	add(webhook.VersionPublished, "", webhook.VersionData{Version: v.Number, Label: v.Label, Source: v.Source,
		PublishedAt: v.PublishedAt.UTC(), ChangesetID: v.ChangesetID, RequestID: v.RequestID, Release: v.ReleaseNumber,
		CodesRome: append([]string{}, fiches...), Links: webhook.VersionLinks(v.Number)}, fiches)
	for _, code := range fiches {
		e := first[code]
		add(webhook.FicheChanged, code, webhook.FicheData{CodeRome: code, Version: v.Number, PublishedAt: v.PublishedAt.UTC(),
			ChangesetID: e.ChangesetID, RequestID: e.RequestID, Changes: changes[code], Links: webhook.FicheLinks(code, v.Number)},
			[]string{code})
	}
	if r := p.Release; r != nil {
		data := webhook.ReleaseData{Release: r.Number, Version: v.Number, PublishedAt: v.PublishedAt.UTC(),
			ChangeSets: make([]webhook.ReleaseChangeSet, 0, len(r.Verdicts)), Links: webhook.ReleaseLinks(r.Number, v.Number)}
		for _, cs := range r.Verdicts {
			data.ChangeSets = append(data.ChangeSets, webhook.ReleaseChangeSet{ID: cs.ID, RequestID: cs.RequestID, CodeRome: cs.CodeRome, Status: cs.Status})
		}
		add(webhook.ReleasePublished, "", data, fiches)
	}
	return events, codes
}

// CreateWebhookEndpoint stores a new endpoint; its queue starts empty.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, e WebhookEndpoint) error {
	e.CreatedAt, e.NextAttemptAt = e.CreatedAt.UTC(), e.CreatedAt.UTC()
	return s.db.WithContext(ctx).Create(&e).Error
}

// WebhookEndpoint reads an endpoint.
func (s *Store) WebhookEndpoint(ctx context.Context, id string) (WebhookEndpoint, bool, error) {
	return takeOne[WebhookEndpoint](s.db.WithContext(ctx).Where("id = ?", id))
}

// WebhookEndpoints lists every endpoint, oldest first.
func (s *Store) WebhookEndpoints(ctx context.Context) ([]WebhookEndpoint, error) {
	var es []WebhookEndpoint
	err := s.db.WithContext(ctx).Order("created_at, id").Find(&es).Error
	return es, err
}

// DeleteWebhookEndpoint removes an endpoint with its deliveries and their attempts.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, id string) (bool, error) {
	var found bool
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`DELETE FROM ref_webhook_attempts WHERE delivery_seq IN
			(SELECT seq FROM ref_webhook_deliveries WHERE endpoint_id = ?)`, id).Error; err != nil {
			return err
		}
		if err := tx.Exec(`DELETE FROM ref_webhook_deliveries WHERE endpoint_id = ?`, id).Error; err != nil {
			return err
		}
		res := tx.Exec(`DELETE FROM ref_webhook_endpoints WHERE id = ?`, id)
		found = res.RowsAffected > 0
		return res.Error
	})
	return found, err
}

// RotateWebhookSecret makes secret the endpoint's signing secret; the current one keeps
// signing alongside it until graceUntil.
func (s *Store) RotateWebhookSecret(ctx context.Context, id, secret string, graceUntil time.Time) (bool, error) {
	res := s.db.WithContext(ctx).Exec(`UPDATE ref_webhook_endpoints
		SET previous_secret = secret, previous_secret_until = ?, secret = ? WHERE id = ?`, graceUntil.UTC(), secret, id)
	return res.RowsAffected > 0, res.Error
}

// EnableWebhookEndpoint enables an endpoint again (after a 410 Gone disabled it): its
// queue resumes at once, with a fresh retry span.
func (s *Store) EnableWebhookEndpoint(ctx context.Context, id string, now time.Time) (bool, error) {
	res := s.db.WithContext(ctx).Exec(`UPDATE ref_webhook_endpoints SET disabled_at = NULL, disabled_reason = '',
		failures = 0, failing_since = NULL, next_attempt_at = ? WHERE id = ?`, now.UTC(), id)
	return res.RowsAffected > 0, res.Error
}

// DueWebhookEndpoints lists enabled endpoints, leased by nobody, whose queue is due at now.
func (s *Store) DueWebhookEndpoints(ctx context.Context, now time.Time, limit int) ([]string, error) {
	now = now.UTC()
	var ids []string
	err := s.db.WithContext(ctx).Raw(`SELECT e.id FROM ref_webhook_endpoints e
		WHERE e.disabled_at IS NULL AND e.next_attempt_at <= ? AND (e.lease_until IS NULL OR e.lease_until <= ?)
		AND EXISTS (SELECT 1 FROM ref_webhook_deliveries d WHERE d.endpoint_id = e.id AND d.state = ?)
		ORDER BY e.next_attempt_at, e.id LIMIT ?`, now, now, DeliveryPending, limit).Scan(&ids).Error
	return ids, err
}

// ClaimWebhookEndpoint leases a due endpoint to owner until until; false when it is not
// due, disabled, or leased by another. One conditional UPDATE is atomic on both databases
// (PostgreSQL re-checks the condition on the row it locked), so two replicas never hold
// the same endpoint: each endpoint has one delivery in flight, in order.
func (s *Store) ClaimWebhookEndpoint(ctx context.Context, id, owner string, now, until time.Time) (bool, error) {
	now = now.UTC()
	res := s.db.WithContext(ctx).Exec(`UPDATE ref_webhook_endpoints SET lease_owner = ?, lease_until = ?
		WHERE id = ? AND disabled_at IS NULL AND next_attempt_at <= ?
		AND (lease_until IS NULL OR lease_until <= ? OR lease_owner = ?)`, owner, until.UTC(), id, now, now, owner)
	return res.RowsAffected == 1, res.Error
}

// ReleaseWebhookEndpoint gives up owner's lease.
func (s *Store) ReleaseWebhookEndpoint(ctx context.Context, id, owner string) error {
	return s.db.WithContext(ctx).Exec(`UPDATE ref_webhook_endpoints SET lease_owner = '', lease_until = NULL
		WHERE id = ? AND lease_owner = ?`, id, owner).Error
}

// NextWebhookDelivery returns the head of an endpoint's queue: its oldest pending delivery.
func (s *Store) NextWebhookDelivery(ctx context.Context, endpointID string) (DeliveryView, bool, error) {
	var ds []DeliveryView
	err := s.deliveryViews(ctx).Where("d.endpoint_id = ? AND d.state = ?", endpointID, DeliveryPending).
		Order("d.seq").Limit(1).Scan(&ds).Error
	if err != nil || len(ds) == 0 {
		return DeliveryView{}, false, err
	}
	return ds[0], true, nil
}

func (s *Store) deliveryViews(ctx context.Context) *gorm.DB {
	return s.db.WithContext(ctx).Table("ref_webhook_deliveries d").
		Select("d.*, ev.type, ev.version, ev.code_rome, ev.payload").
		Joins("JOIN ref_webhook_events ev ON ev.id = d.event_id")
}

// Attempt outcomes, as the dispatcher decides them.
const (
	OutcomeDelivered = "delivered" // a 2xx
	OutcomeRetry     = "retry"     // failed: try again at Next
	OutcomeDead      = "dead"      // failed past the retry span: a dead letter, the queue moves on
	OutcomeGone      = "gone"      // 410 Gone: the endpoint is disabled, the delivery waits
)

// AttemptResult is one attempt at the head of an endpoint's queue and what follows.
type AttemptResult struct {
	EndpointID string
	Delivery   DeliveryView
	Attempt    WebhookAttempt
	Outcome    string
	Next       time.Time // when the queue is tried again
}

// RecordWebhookAttempt stores an attempt and its consequences on the delivery and the
// endpoint's schedule, if owner still holds the endpoint's lease (false otherwise: another
// replica took over and will try again; the consumer drops the duplicate by webhook-id).
func (s *Store) RecordWebhookAttempt(ctx context.Context, owner string, r AttemptResult) (bool, error) {
	at := r.Attempt.At.UTC()
	held := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var sched *gorm.DB
		switch r.Outcome {
		case OutcomeDelivered:
			sched = tx.Exec(`UPDATE ref_webhook_endpoints SET failures = 0, failing_since = NULL, next_attempt_at = ?
				WHERE id = ? AND lease_owner = ?`, at, r.EndpointID, owner)
		case OutcomeGone:
			sched = tx.Exec(`UPDATE ref_webhook_endpoints SET disabled_at = ?, disabled_reason = ?
				WHERE id = ? AND lease_owner = ?`, at, "the endpoint answered 410 Gone", r.EndpointID, owner)
		default:
			sched = tx.Exec(`UPDATE ref_webhook_endpoints SET failures = failures + 1,
				failing_since = COALESCE(failing_since, ?), next_attempt_at = ? WHERE id = ? AND lease_owner = ?`,
				at, r.Next.UTC(), r.EndpointID, owner)
		}
		if sched.Error != nil || sched.RowsAffected == 0 {
			return sched.Error
		}
		held = true
		a := r.Attempt
		a.DeliverySeq, a.N, a.At = r.Delivery.Seq, r.Delivery.Attempts+1, at
		if err := tx.Create(&a).Error; err != nil {
			return err
		}
		set := map[string]any{"attempts": a.N, "last_attempt_at": at, "last_status": a.Status, "last_error": a.Error}
		switch r.Outcome {
		case OutcomeDelivered:
			set["state"], set["delivered_at"] = DeliveryDelivered, at
		case OutcomeDead:
			set["state"], set["dead_at"] = DeliveryDead, at
		}
		return tx.Model(&WebhookDelivery{}).Where("seq = ?", r.Delivery.Seq).Updates(set).Error
	})
	return held, err
}

// WebhookDeliveries lists an endpoint's deliveries, newest first, in state when given,
// with seq below before when it is not 0.
func (s *Store) WebhookDeliveries(ctx context.Context, endpointID, state string, before int64, limit int) ([]DeliveryView, error) {
	q := s.deliveryViews(ctx).Where("d.endpoint_id = ?", endpointID)
	if state != "" {
		q = q.Where("d.state = ?", state)
	}
	if before > 0 {
		q = q.Where("d.seq < ?", before)
	}
	var ds []DeliveryView
	err := q.Order("d.seq DESC").Limit(limit).Scan(&ds).Error
	return ds, err
}

// WebhookDelivery returns one delivery of an endpoint, by webhook-id, with its attempts.
func (s *Store) WebhookDelivery(ctx context.Context, endpointID, id string) (DeliveryView, []WebhookAttempt, bool, error) {
	var ds []DeliveryView
	if err := s.deliveryViews(ctx).Where("d.endpoint_id = ? AND d.id = ?", endpointID, id).Scan(&ds).Error; err != nil || len(ds) == 0 {
		return DeliveryView{}, nil, false, err
	}
	var as []WebhookAttempt
	err := s.db.WithContext(ctx).Where("delivery_seq = ?", ds[0].Seq).Order("n").Find(&as).Error
	return ds[0], as, err == nil, err
}

// ReplayWebhookDeliveries puts deliveries of an endpoint back in its queue (at their
// place: the queue is in event order), with the same webhook-id: the one named id
// (delivered or dead), or with id empty every dead letter. The endpoint's retry span
// starts afresh. It returns how many were queued again.
func (s *Store) ReplayWebhookDeliveries(ctx context.Context, endpointID, id string, now time.Time) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Model(&WebhookDelivery{}).Where("endpoint_id = ? AND state <> ?", endpointID, DeliveryPending)
		if id != "" {
			q = q.Where("id = ?", id)
		} else {
			q = q.Where("state = ?", DeliveryDead)
		}
		res := q.Updates(map[string]any{"state": DeliveryPending, "delivered_at": nil, "dead_at": nil})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		n = res.RowsAffected
		return tx.Exec(`UPDATE ref_webhook_endpoints SET failures = 0, failing_since = NULL, next_attempt_at = ? WHERE id = ?`,
			now.UTC(), endpointID).Error
	})
	return n, err
}
