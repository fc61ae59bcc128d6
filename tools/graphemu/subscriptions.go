package graphemu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"time"
)

// Subscription is a Graph change-notification subscription.
type Subscription struct {
	ID                        string    `json:"id"`
	Resource                  string    `json:"resource"`
	ApplicationID             string    `json:"applicationId"`
	ChangeType                string    `json:"changeType"`
	ClientState               string    `json:"clientState"`
	NotificationURL           string    `json:"notificationUrl"`
	LifecycleNotificationURL  *string   `json:"lifecycleNotificationUrl"`
	ExpirationDateTime        time.Time `json:"expirationDateTime"`
	CreatorID                 string    `json:"creatorId"`
	IncludeResourceData       bool      `json:"includeResourceData"`
	LatestSupportedTLSVersion string    `json:"latestSupportedTlsVersion"`

	teamID, channelID string
}

// Delivery records the change notifications sent for one message.
type Delivery struct {
	SubscriptionID string    `json:"subscriptionId"`
	MessageID      string    `json:"messageId"`
	URL            string    `json:"url"`
	Attempts       int       `json:"attempts"`
	Delivered      bool      `json:"delivered"`
	LastError      string    `json:"lastError"`
	At             time.Time `json:"at"`
}

var channelMessagesResource = regexp.MustCompile(`^/?teams(?:/|\(')([^/']+)(?:'\))?/channels(?:/|\(')([^/']+)(?:'\))?/messages$`)

type subscriptionBody struct {
	ChangeType               *string    `json:"changeType"`
	NotificationURL          *string    `json:"notificationUrl"`
	LifecycleNotificationURL *string    `json:"lifecycleNotificationUrl"`
	Resource                 *string    `json:"resource"`
	ExpirationDateTime       *time.Time `json:"expirationDateTime"`
	ClientState              *string    `json:"clientState"`
	IncludeResourceData      *bool      `json:"includeResourceData"`
}

func expirationProblem(exp *time.Time) string {
	now := time.Now()
	switch {
	case exp == nil:
		return "expirationDateTime is required."
	case !exp.After(now):
		return "Subscription expiration can only be in the future."
	case exp.After(now.Add(MaxSubscriptionLifetime + time.Minute)):
		return fmt.Sprintf("Subscription expiration for channel messages cannot exceed %d minutes.", int(MaxSubscriptionLifetime.Minutes()))
	}
	return ""
}

func (e *Emulator) createSubscription(w http.ResponseWriter, r *http.Request) {
	var in subscriptionBody
	if !decode(w, r, &in) {
		return
	}
	if in.ChangeType == nil || *in.ChangeType == "" || in.NotificationURL == nil || in.Resource == nil {
		graphError(w, http.StatusBadRequest, "InvalidRequest", "changeType, notificationUrl, resource and expirationDateTime are required.")
		return
	}
	if p := expirationProblem(in.ExpirationDateTime); p != "" {
		graphError(w, http.StatusBadRequest, "InvalidRequest", p)
		return
	}
	if in.IncludeResourceData != nil && *in.IncludeResourceData {
		graphError(w, http.StatusBadRequest, "InvalidRequest", "includeResourceData needs an encryptionCertificate, which the emulator does not support.")
		return
	}
	u, err := url.Parse(*in.NotificationURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		graphError(w, http.StatusBadRequest, "InvalidRequest", "notificationUrl must be an absolute http(s) URL.")
		return
	}
	m := channelMessagesResource.FindStringSubmatch(*in.Resource)
	if m == nil {
		graphError(w, http.StatusBadRequest, "InvalidRequest", "The emulator supports subscriptions to /teams/{id}/channels/{id}/messages only.")
		return
	}
	e.mu.Lock()
	t, ok := e.teams[m[1]]
	found := false
	if ok {
		for _, c := range t.channels {
			found = found || c.ID == m[2]
		}
	}
	e.mu.Unlock()
	if !found {
		graphError(w, http.StatusNotFound, "ResourceNotFound", "Resource "+*in.Resource+" not found.")
		return
	}
	if err := e.handshake(r.Context(), *in.NotificationURL); err != nil {
		graphError(w, http.StatusBadRequest, "ValidationError", "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request. "+err.Error())
		return
	}
	s := &Subscription{
		ID: newID(), Resource: *in.Resource, ApplicationID: e.cfg.ClientID, ChangeType: *in.ChangeType,
		NotificationURL: *in.NotificationURL, LifecycleNotificationURL: in.LifecycleNotificationURL,
		ExpirationDateTime: in.ExpirationDateTime.UTC(), CreatorID: e.cfg.ClientID,
		LatestSupportedTLSVersion: "v1_2", teamID: m[1], channelID: m[2],
	}
	if in.ClientState != nil {
		s.ClientState = *in.ClientState
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.subscriptions[s.ID] = s
	e.save()
	writeJSON(w, http.StatusCreated, e.subscriptionJSON(r, *s))
}

// handshake POSTs the validation token to the notification URL and expects it echoed back
// as text/plain within HandshakeTimeout.
func (e *Emulator) handshake(ctx context.Context, notificationURL string) error {
	token := "Validation: Testing client application reachability for subscription Request-Id: " + newID()
	ctx, cancel := context.WithTimeout(ctx, HandshakeTimeout)
	defer cancel()
	u, _ := url.Parse(notificationURL)
	q := u.Query()
	q.Set("validationToken", token)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), http.NoBody)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := e.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("the endpoint answered %d", resp.StatusCode)
	case string(body) != token:
		return fmt.Errorf("the endpoint did not echo the validation token")
	}
	return nil
}

func (e *Emulator) subscriptionJSON(r *http.Request, s Subscription) map[string]any {
	b, _ := json.Marshal(s)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	out["@odata.context"] = e.odataContext(r, "subscriptions/$entity")
	return out
}

// live returns a subscription that exists and has not expired (callers hold e.mu).
func (e *Emulator) live(w http.ResponseWriter, r *http.Request) (*Subscription, bool) {
	s, ok := e.subscriptions[r.PathValue("id")]
	if ok && time.Now().After(s.ExpirationDateTime) {
		delete(e.subscriptions, s.ID) // Graph removes expired subscriptions
		ok = false
	}
	if !ok {
		graphError(w, http.StatusNotFound, "ResourceNotFound", "The object was not found.")
	}
	return s, ok
}

func (e *Emulator) getSubscription(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok := e.live(w, r); ok {
		writeJSON(w, http.StatusOK, e.subscriptionJSON(r, *s))
	}
}

func (e *Emulator) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	value := []Subscription{}
	for _, s := range e.subscriptions {
		if time.Now().Before(s.ExpirationDateTime) {
			value = append(value, *s)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": e.odataContext(r, "subscriptions"), "value": value})
}

func (e *Emulator) patchSubscription(w http.ResponseWriter, r *http.Request) {
	var in subscriptionBody
	if !decode(w, r, &in) {
		return
	}
	if p := expirationProblem(in.ExpirationDateTime); p != "" {
		graphError(w, http.StatusBadRequest, "InvalidRequest", p)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.live(w, r)
	if !ok {
		return
	}
	s.ExpirationDateTime = in.ExpirationDateTime.UTC()
	if in.NotificationURL != nil {
		s.NotificationURL = *in.NotificationURL
	}
	e.save()
	writeJSON(w, http.StatusOK, e.subscriptionJSON(r, *s))
}

func (e *Emulator) deleteSubscription(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok := e.live(w, r); ok {
		delete(e.subscriptions, s.ID)
		e.save()
		w.WriteHeader(http.StatusNoContent)
	}
}

// notify sends a "created" change notification for m to every live subscription on the
// channel, in the background, retrying failures (callers hold e.mu).
func (e *Emulator) notify(c *Channel, m Message) {
	for _, s := range e.subscriptions {
		if s.teamID != c.teamID || s.channelID != c.ID || !time.Now().Before(s.ExpirationDateTime) {
			continue
		}
		payload, _ := json.Marshal(map[string]any{"value": []map[string]any{{
			"subscriptionId":                 s.ID,
			"clientState":                    s.ClientState,
			"changeType":                     "created",
			"resource":                       "teams('" + c.teamID + "')/channels('" + c.ID + "')/messages('" + m.ID + "')",
			"resourceData":                   map[string]any{"id": m.ID, "@odata.type": "#Microsoft.Graph.chatMessage", "@odata.id": "teams('" + c.teamID + "')/channels('" + c.ID + "')/messages('" + m.ID + "')"},
			"subscriptionExpirationDateTime": s.ExpirationDateTime,
			"tenantId":                       e.cfg.TenantID,
		}}})
		d := &Delivery{SubscriptionID: s.ID, MessageID: m.ID, URL: s.NotificationURL, At: time.Now().UTC()}
		e.deliveries = append(e.deliveries, d)
		e.wg.Add(1)
		go e.deliver(d, payload)
	}
}

func (e *Emulator) deliver(d *Delivery, payload []byte) {
	defer e.wg.Done()
	backoff := e.cfg.NotificationBackoff
	for attempt := 0; attempt <= e.cfg.NotificationRetries; attempt++ {
		if attempt > 0 {
			time.Sleep(backoff)
			backoff *= 2
		}
		err := e.post(d.URL, payload)
		e.mu.Lock()
		d.Attempts++
		if err == nil {
			d.Delivered, d.LastError = true, ""
		} else {
			d.LastError = err.Error()
		}
		e.save()
		e.mu.Unlock()
		if err == nil {
			return
		}
		e.log.Warn("graphemu: change notification failed", "url", d.URL, "attempt", attempt+1, "error", err)
	}
}

func (e *Emulator) post(u string, payload []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), HandshakeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := e.http.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the endpoint answered %d", resp.StatusCode)
	}
	return nil
}
