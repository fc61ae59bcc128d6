package main

import (
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/services/referential/internal/search"
)

func load(file, idCol, labelCol string, boost func(map[string]string) float64) ([]search.Entry, map[string]string) {
	f, _ := os.Open("/work/shared/data/rome4/" + file)
	gz, _ := gzip.NewReader(f)
	r := csv.NewReader(gz)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		panic(err)
	}
	h := map[string]int{}
	for i, c := range recs[0] {
		h[c] = i
	}
	var es []search.Entry
	labels := map[string]string{}
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for k, i := range h {
			if i < len(rec) {
				m[k] = rec[i]
			}
		}
		b := 0.5
		if boost != nil {
			b = boost(m)
		}
		es = append(es, search.Entry{ID: m[idCol], Label: m[labelCol], Boost: b})
		labels[m[idCol]] = m[labelCol]
	}
	return es, labels
}

func main() {
	kind := "app"
	if len(os.Args) > 1 {
		kind = os.Args[1]
	}
	var es []search.Entry
	var labels map[string]string
	switch kind {
	case "app":
		es, labels = load("unix_referentiel_appellation_v460_utf8.csv.gz", "code_ogr", "libelle_appellation_long", func(m map[string]string) float64 {
			switch {
			case m["peu_usite"] == "O":
				return 0
			case m["classification"] == "PRINCIPALE":
				return 1
			}
			return 0.5
		})
	case "comp":
		es, labels = load("unix_referentiel_competence_v460_utf8.csv.gz", "code_ogr", "libelle_competence", nil)
	case "sav":
		es, labels = load("unix_referentiel_savoir_v460_utf8.csv.gz", "code_ogr_savoir", "libelle_savoir", nil)
	}
	var ix *search.Index
	best := time.Hour
	for range 5 {
		t := time.Now()
		ix = search.Build(es)
		best = min(best, time.Since(t))
	}
	fmt.Printf("%d entries, build best of 5: %v\n", len(es), best)
	queries := os.Args[2:]
	for _, q := range queries {
		t := time.Now()
		var hits []search.Hit
		for range 200 {
			hits = ix.Search(q, 3)
		}
		el := time.Since(t) / 200
		fmt.Printf("%q (%v/query)\n", q, el)
		for _, h := range hits {
			fmt.Printf("    %.4f %s %s\n", h.Score, h.ID, labels[h.ID])
		}
	}
	_ = strings.TrimSpace
}
