package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/workflows/request"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
)

func testHealth(t *testing.T, p *platform) {
	for name, base := range map[string]string{
		"intake": p.Intake, "referential": p.Referential, "notifications": p.Notifications, "worker": p.Worker,
	} {
		for _, path := range []string{"/healthz", "/readyz"} {
			if status, _, body := call(t, http.MethodGet, base+path, "", nil); status != http.StatusOK {
				t.Errorf("%s %s = %d: %s", name, path, status, body)
			}
		}
	}
}

// Ops inspect running requests in the Temporal UI.
func testTemporalUI(t *testing.T, p *platform) {
	if status, _, _ := call(t, http.MethodGet, p.TemporalUI+"/", "", nil); status != http.StatusOK {
		t.Errorf("Temporal UI %s = %d, want 200", p.TemporalUI, status)
	}
}

func testSearchAttributes(t *testing.T, p *platform) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{HostPort: p.TemporalAddress, Namespace: p.namespace})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: p.namespace})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range request.SearchAttributes {
		got, ok := resp.GetCustomAttributes()[key.GetName()]
		if !ok {
			t.Errorf("search attribute %s is not registered", key.GetName())
		} else if got != key.GetValueType() {
			t.Errorf("search attribute %s is %s, want %s", key.GetName(), got, key.GetValueType())
		}
	}
}
