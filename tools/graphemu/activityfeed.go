package graphemu

import (
	"net/http"
	"time"
	"unicode/utf8"
)

// MaxPreviewLength is Teams' limit on an activity notification's preview text.
const MaxPreviewLength = 150

// ActivityNotification is a Teams activity-feed notification sent to a user.
type ActivityNotification struct {
	ID           string            `json:"id"`
	UserID       string            `json:"userId"`
	Topic        string            `json:"topic"`
	WebURL       string            `json:"webUrl"`
	ActivityType string            `json:"activityType"`
	PreviewText  string            `json:"previewText"`
	Parameters   map[string]string `json:"templateParameters"`
	CreatedAt    time.Time         `json:"createdDateTime"`
}

// sendActivityNotification is POST /users/{user}/teamwork/sendActivityNotification: the topic
// must be text with a webUrl or a Graph entity URL, the preview at most 150 characters, and
// the reserved systemDefault type needs its systemDefaultText parameter.
func (e *Emulator) sendActivityNotification(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Topic *struct {
			Source string `json:"source"`
			Value  string `json:"value"`
			WebURL string `json:"webUrl"`
		} `json:"topic"`
		ActivityType string `json:"activityType"`
		PreviewText  *struct {
			Content string `json:"content"`
		} `json:"previewText"`
		TemplateParameters []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"templateParameters"`
	}
	if !decode(w, r, &in) {
		return
	}
	params := map[string]string{}
	for _, p := range in.TemplateParameters {
		params[p.Name] = p.Value
	}
	switch {
	case in.Topic == nil || in.Topic.Value == "":
		graphError(w, http.StatusBadRequest, "BadRequest", "topic.value is required.")
	case in.Topic.Source != "text" && in.Topic.Source != "entityUrl":
		graphError(w, http.StatusBadRequest, "BadRequest", "topic.source must be text or entityUrl.")
	case in.Topic.Source == "text" && in.Topic.WebURL == "":
		graphError(w, http.StatusBadRequest, "BadRequest", "topic.webUrl is required when topic.source is text.")
	case in.ActivityType == "":
		graphError(w, http.StatusBadRequest, "BadRequest", "activityType is required.")
	case in.ActivityType == "systemDefault" && params["systemDefaultText"] == "":
		graphError(w, http.StatusBadRequest, "BadRequest", "The systemDefault activity type needs the systemDefaultText template parameter.")
	case in.PreviewText != nil && utf8.RuneCountInString(in.PreviewText.Content) > MaxPreviewLength:
		graphError(w, http.StatusBadRequest, "BadRequest", "previewText.content is longer than 150 characters.")
	default:
		n := &ActivityNotification{
			ID: newID(), UserID: r.PathValue("user"), Topic: in.Topic.Value, WebURL: in.Topic.WebURL,
			ActivityType: in.ActivityType, Parameters: params, CreatedAt: time.Now().UTC(),
		}
		if in.PreviewText != nil {
			n.PreviewText = in.PreviewText.Content
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		e.activityFeed = append(e.activityFeed, n)
		e.save()
		w.WriteHeader(http.StatusNoContent)
	}
}
