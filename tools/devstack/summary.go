package devstack

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Summary tells a developer where everything is and how to get a token.
func (s *Stack) Summary() string {
	o, e := s.Options, s.Endpoints
	var b strings.Builder
	line := func(name, value string) { fmt.Fprintf(&b, "  %-15s %s\n", name, value) }
	b.WriteString("\nPlateforme du ROME: the dev stack is up\n\n")
	fmt.Fprintf(&b, "  Console: open %s\n", e.Console)
	if o.DevMode {
		fmt.Fprintf(&b, "    sign in at %s/connexion with the dev form: any Identifiant and Nom, Rôle partner,\n"+
			"    moderator or admin, and an Organisation for partners (e.g. opco-2i)\n\n", e.Console)
	} else {
		b.WriteString("    sign in through the identity provider configured for the console (CONSOLE_OIDC_*)\n\n")
	}
	line("intake", e.Intake)
	line("referential", e.Referential)
	line("notifications", e.Notifications)
	line("worker", e.Worker+" (health only)")
	if o.Replicas > 1 {
		line("replicas", fmt.Sprintf("%d of each service and of the worker (intake-1, intake-2…), round robin behind the ports above", o.Replicas))
	}
	s.temporalLines(line)
	line("Teams (Graph)", e.Graph+" (emulator; channels and messages at "+e.Graph+"/_emulator/state, kept in "+filepath.Base(o.graphStateFile())+")")
	line("e-mail", e.Mail+"/messages (SMTP sink, kept in "+filepath.Base(o.mailFile())+")")
	line("state dir", o.StateDir+" (logs in "+filepath.Join(o.StateDir, "logs")+")")
	line("database", o.describeDatabase())
	if o.DataDir == "" {
		line("ROME data", "none: the referential is empty")
	} else {
		line("ROME data", o.DataDir)
	}
	b.WriteString("\n")
	if o.DevMode {
		fmt.Fprintf(&b, "Get a dev token (role partner, moderator or admin) and call the API:\n\n"+
			"  TOKEN=$(curl -s -X POST %s/dev/token -H 'Content-Type: application/json' \\\n"+
			"    -d '{\"sub\":\"alice\",\"name\":\"Alice Martin\",\"role\":\"partner\",\"org\":\"opco-2i\"}' | sed -E 's/.*\"token\":\"([^\"]+)\".*/\\1/')\n"+
			"  curl -s %s/v1/me -H \"Authorization: Bearer $TOKEN\"\n\n", e.Intake, e.Intake)
	} else {
		b.WriteString("Dev mode is off (ROME_DEV_MODE=false): there is no /dev/token; configure AUTH_* for a real identity provider.\n\n")
	}
	if o.RestartCrashed {
		fmt.Fprintf(&b, "A member of the stack that crashes is restarted (after %s, then up to %s apart while it keeps crashing).\n",
			defaultBackoff.initial, defaultBackoff.max)
	}
	b.WriteString("Ctrl-C stops everything; the data stays in the state dir.\n")
	return b.String()
}

// temporalLines says where Temporal is, and in cluster mode what it is made of.
func (s *Stack) temporalLines(line func(name, value string)) {
	o, e := s.Options, s.Endpoints
	line("temporal", fmt.Sprintf("%s (gRPC, namespace %s, task queue %s)", e.TemporalAddress, o.TemporalNamespace, o.TaskQueue))
	line("temporal UI", e.TemporalUI)
	if o.Temporal != TemporalCluster {
		return
	}
	for i, node := range o.TemporalNodes {
		line(temporalNodeName(i), fmt.Sprintf("frontend %s (server %s, log in %s)", node.Frontend(), TemporalServerVersion,
			filepath.Join(s.logDir(), temporalNodeName(i)+".log")))
	}
	line("temporal DBs", redactDSN(o.TemporalDatabaseURL)+", "+redactDSN(o.TemporalVisibilityDatabaseURL))
}

// TemporalSummary tells an operator where the Temporal that StartTemporal started is.
func (s *Stack) TemporalSummary() string {
	var b strings.Builder
	line := func(name, value string) { fmt.Fprintf(&b, "  %-15s %s\n", name, value) }
	b.WriteString("\nTemporal is up\n\n")
	s.temporalLines(line)
	fmt.Fprintf(&b, "\nReach it with e.g. `temporal operator cluster describe --address %s`. Ctrl-C stops it; the data stays.\n",
		s.Endpoints.TemporalAddress)
	return b.String()
}
