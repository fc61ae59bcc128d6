package telemetry_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/otlptranslator"
	"go.yaml.in/yaml/v3"

	"github.com/plateforme-rome/rome/platform/telemetry"
)

// The operators' files under deploy/, which query the metrics by their Prometheus names.
const (
	dashboardFile = "../../deploy/grafana/plateforme-rome.json"
	rulesFile     = "../../deploy/alerts/plateforme-rome.rules.yaml"
)

// prometheusMetric is what the collector's Prometheus exporter makes of a metric: its series
// names and its labels.
type prometheusMetric struct {
	series []string
	labels []string
}

// prometheusNames translates telemetry.Metrics as the collector's Prometheus exporter does
// (dots to underscores, unit and type suffixes), with the OTLP translator Prometheus uses.
func prometheusNames(t *testing.T) map[string]prometheusMetric {
	t.Helper()
	namer := otlptranslator.MetricNamer{WithMetricSuffixes: true}
	labeler := otlptranslator.LabelNamer{}
	types := map[telemetry.Kind]otlptranslator.MetricType{
		telemetry.Counter:   otlptranslator.MetricTypeMonotonicCounter,
		telemetry.Gauge:     otlptranslator.MetricTypeGauge,
		telemetry.Histogram: otlptranslator.MetricTypeHistogram,
	}
	out := map[string]prometheusMetric{}
	for _, m := range telemetry.Metrics {
		name, err := namer.Build(otlptranslator.Metric{Name: m.Name, Unit: m.Unit, Type: types[m.Kind]})
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		pm := prometheusMetric{series: []string{name}, labels: []string{"job", "instance"}}
		if m.Kind == telemetry.Histogram {
			pm.series = []string{name + "_bucket", name + "_sum", name + "_count"}
			pm.labels = append(pm.labels, "le")
		}
		for _, a := range m.Attributes {
			label, err := labeler.Build(string(a))
			if err != nil {
				t.Fatalf("%s: attribute %s: %v", m.Name, a, err)
			}
			pm.labels = append(pm.labels, label)
		}
		out[m.Name] = pm
	}
	return out
}

// A query of the dashboard or of an alert rule.
type query struct {
	where string // the panel or rule
	expr  string
	// labelUses are the labels its legend or annotations print.
	labelUses []string
}

var (
	stringLiteral = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	matcherBlock  = regexp.MustCompile(`\{([^{}]*)\}`)
	matcherLabel  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)`)
	grouping      = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)`)
	rangeSelector = regexp.MustCompile(`\[[^\]]*\]`)
	identifier    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	variable      = regexp.MustCompile(`\$([a-zA-Z_][a-zA-Z0-9_]*)`)
	legendLabel   = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)
	templateLabel = regexp.MustCompile(`\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)`)
	promqlWords   = []string{"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless"}
)

// parse returns the metrics a PromQL expression selects and the labels it names (in
// matchers and groupings). Strings, matchers and ranges are taken out first, so what is
// left is functions (followed by a parenthesis), keywords, numbers and metric names.
func parse(expr string) (metrics, labels []string) {
	expr = stringLiteral.ReplaceAllString(expr, `""`)
	for _, block := range matcherBlock.FindAllStringSubmatch(expr, -1) {
		for _, m := range matcherLabel.FindAllStringSubmatch(block[1], -1) {
			labels = append(labels, m[1])
		}
	}
	for _, g := range grouping.FindAllStringSubmatch(expr, -1) {
		for l := range strings.SplitSeq(g[1], ",") {
			if l = strings.TrimSpace(l); l != "" {
				labels = append(labels, l)
			}
		}
	}
	rest := rangeSelector.ReplaceAllString(grouping.ReplaceAllString(matcherBlock.ReplaceAllString(expr, " "), " "), " ")
	for _, loc := range identifier.FindAllStringIndex(rest, -1) {
		word := rest[loc[0]:loc[1]]
		before := byte(' ')
		if loc[0] > 0 {
			before = rest[loc[0]-1]
		}
		after := strings.TrimLeft(rest[loc[1]:], " \t\n")
		switch {
		case before >= '0' && before <= '9', before == '.', before == '$': // a duration's unit, a number, a variable
		case strings.HasPrefix(after, "("), slices.Contains(promqlWords, word):
		default:
			metrics = append(metrics, word)
		}
	}
	return metrics, labels
}

func dashboardQueries(t *testing.T) (queries []query, variables []string) {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID, Title string
		Templating struct {
			List []struct {
				Name, Type string
				Query      any // the data source's type, or a query
			}
		}
		Panels []dashboardPanel
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if dash.UID == "" || dash.Title == "" {
		t.Errorf("%s: the dashboard needs a uid and a title", dashboardFile)
	}
	for _, v := range dash.Templating.List {
		variables = append(variables, v.Name)
		if v.Name == "datasource" && (v.Type != "datasource" || v.Query != "prometheus") {
			t.Errorf("the datasource variable must choose a Prometheus data source: %+v", v)
		}
	}
	if !slices.Contains(variables, "datasource") {
		t.Error("the dashboard has no datasource variable")
	}
	ids := map[int]string{}
	var walk func([]dashboardPanel)
	walk = func(panels []dashboardPanel) {
		for _, p := range panels {
			if other, ok := ids[p.ID]; ok {
				t.Errorf("panels %q and %q share id %d", other, p.Title, p.ID)
			}
			ids[p.ID] = p.Title
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			if len(p.Targets) == 0 || p.Description == "" || p.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q needs a description and queries of the ${datasource}", p.Title)
			}
			for _, q := range p.Targets {
				if q.Expr == "" || q.RefID == "" || q.Datasource.UID != "${datasource}" {
					t.Errorf("panel %q: a query without expression, refId or the ${datasource}", p.Title)
				}
				var uses []string
				for _, m := range legendLabel.FindAllStringSubmatch(q.LegendFormat, -1) {
					uses = append(uses, m[1])
				}
				queries = append(queries, query{where: "panel " + p.Title, expr: q.Expr, labelUses: uses})
			}
		}
	}
	walk(dash.Panels)
	return queries, variables
}

type dashboardPanel struct {
	ID          int
	Type        string
	Title       string
	Description string
	Datasource  struct{ UID string }
	Targets     []struct {
		RefID        string `json:"refId"`
		Expr         string
		LegendFormat string `json:"legendFormat"`
		Datasource   struct{ UID string }
	}
	Panels []dashboardPanel
}

func ruleQueries(t *testing.T) []query {
	t.Helper()
	raw, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert       string
				Expr        string
				For         string
				Labels      map[string]string
				Annotations map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	var queries []query
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" {
				t.Errorf("group %s: a rule needs an alert name and an expression: %+v", g.Name, r)
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("alert %s: severity %q, want warning or critical", r.Alert, s)
			}
			var uses []string
			for _, a := range []string{"summary", "description", "runbook"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("alert %s: no %s annotation (what it means and what to do)", r.Alert, a)
				}
				for _, m := range templateLabel.FindAllStringSubmatch(r.Annotations[a], -1) {
					uses = append(uses, m[1])
				}
			}
			queries = append(queries, query{where: "alert " + r.Alert, expr: r.Expr, labelUses: uses})
		}
	}
	return queries
}

// The dashboard and the alert rules query only the metrics the code records, by the names
// and labels the collector gives them, and the dashboard charts every one of them.
func TestDashboardAndAlertsQueryTheRecordedMetrics(t *testing.T) {
	known := prometheusNames(t)
	series := map[string]string{} // Prometheus series → OTel metric
	for name, pm := range known {
		for _, s := range pm.series {
			series[s] = name
		}
	}
	dashboard, variables := dashboardQueries(t)
	rules := ruleQueries(t)
	charted := map[string]bool{}
	for i, q := range append(dashboard, rules...) {
		metrics, labels := parse(q.expr)
		if len(metrics) == 0 {
			t.Errorf("%s: %q selects no metric", q.where, q.expr)
		}
		var allowed []string
		for _, m := range metrics {
			name, ok := series[m]
			if !ok {
				t.Errorf("%s: %s is not a metric the platform records (platform/telemetry/metrics.go)", q.where, m)
				continue
			}
			allowed = append(allowed, known[name].labels...)
			if i < len(dashboard) {
				charted[name] = true
			}
		}
		for _, l := range append(labels, q.labelUses...) {
			if !slices.Contains(allowed, l) {
				t.Errorf("%s: label %s is not one of %v", q.where, l, metrics)
			}
		}
		for _, v := range variable.FindAllStringSubmatch(q.expr, -1) {
			if !strings.HasPrefix(v[1], "__") && !slices.Contains(variables, v[1]) {
				t.Errorf("%s: variable $%s is not defined", q.where, v[1])
			}
		}
	}
	for _, m := range telemetry.Metrics {
		if !charted[m.Name] {
			t.Errorf("no panel of the dashboard charts %s", m.Name)
		}
	}
	if len(rules) == 0 {
		t.Error("no alert rule")
	}
}

func TestParseFindsMetricsAndLabels(t *testing.T) {
	metrics, labels := parse(`histogram_quantile(0.95, sum by (le, job) (rate(http_server_request_duration_seconds_bucket{job=~"$service", http_route!="a{b}"}[$__rate_interval])))
		/ ignoring(job) max without (instance) (rome_request_count offset 1d) > bool 0.5 and on() vector(1)`)
	if want := []string{"http_server_request_duration_seconds_bucket", "rome_request_count"}; !slices.Equal(metrics, want) {
		t.Errorf("metrics %v, want %v", metrics, want)
	}
	if want := []string{"job", "http_route", "le", "job", "job", "instance"}; !slices.Equal(labels, want) {
		t.Errorf("labels %v, want %v", labels, want)
	}
}
