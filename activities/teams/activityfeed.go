package teams

import (
	"context"
	"unicode/utf8"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"
)

// MaxPreviewLength is Teams' limit on the preview text of an activity-feed notification.
const MaxPreviewLength = 150

// FeedNotification is a notification for one person's Teams activity feed.
type FeedNotification struct {
	UserID  string // the person's Entra object id
	Topic   string // what it is about (plain text)
	Preview string // the line shown in the feed; cut to MaxPreviewLength
	Link    string // opened when the person selects it
}

// ActivityFeed sends notifications to people's Teams activity feeds. It is not an activity:
// the worker's Teams delivery loop calls it for the notifications service's outbox, which
// holds the retries.
type ActivityFeed struct {
	a *Activities
}

// NewActivityFeed shares the activities' Graph client and credentials. (A function, not a
// method: Temporal registers every exported method of Activities as an activity.)
func NewActivityFeed(a *Activities) *ActivityFeed { return &ActivityFeed{a: a} }

// Send posts n with the reserved systemDefault activity type (free text, no manifest entry).
// Errors are classified as for the activities: ErrTypeUnavailable may go away on retry
// (with Graph's Retry-After as NextRetryDelay), ErrTypeRejected will not.
func (f *ActivityFeed) Send(ctx context.Context, n FeedNotification) error {
	preview := n.Preview
	if utf8.RuneCountInString(preview) > MaxPreviewLength {
		preview = truncate(preview, MaxPreviewLength-1) + "…"
	}
	topic := models.NewTeamworkActivityTopic()
	source := models.TEXT_TEAMWORKACTIVITYTOPICSOURCE
	topic.SetSource(&source)
	topic.SetValue(&n.Topic)
	topic.SetWebUrl(&n.Link)
	text := models.NewItemBody()
	text.SetContent(&preview)
	param := models.NewKeyValuePair()
	name := "systemDefaultText"
	param.SetName(&name)
	param.SetValue(&preview)
	activityType := "systemDefault"
	body := graphusers.NewItemTeamworkSendActivityNotificationPostRequestBody()
	body.SetTopic(topic)
	body.SetActivityType(&activityType)
	body.SetPreviewText(text)
	body.SetTemplateParameters([]models.KeyValuePairable{param})
	if err := f.a.graph.Users().ByUserId(n.UserID).Teamwork().SendActivityNotification().Post(ctx, body, nil); err != nil {
		return f.a.classify(ctx, "send activity notification", err)
	}
	return nil
}
