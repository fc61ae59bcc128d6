package api_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/plateforme-rome/rome/services/referential/internal/app"
)

// searchQueries are what people type in the appellation search (the same as
// tools/loadtest's sidebyside): whole words, prefixes, missing accents, typos.
var searchQueries = []string{
	"boulanger", "infirmier", "développeur", "developpeur", "comptable", "chauffeur poids lourd",
	"aide soignant", "électricien", "plombier", "serveur", "cuisinier", "vendeur", "agent d'entretien",
	"maçon", "coiffeur", "secrétaire", "magasinier", "cariste", "auxiliaire de vie", "data",
	"ingénieur", "technicien maintenance", "boucher", "pâtissier", "jardinier", "menuisier",
	"soudeur", "mécanicien auto", "assistant", "professeur", "éducateur", "commercial", "juriste",
	"infirmiere", "devloppeur", "agent de securite", "conducteur de bus", "manager", "chef de projet", "logisticien",
}

// BenchmarkSearchV460 times each query of the load test on the v460 appellations, as the
// search route runs it (the hits described with their fiche): the search p99 under load
// is the slowest queries' time (BENCHMARKS.md, issue #11).
//
//	go test ./internal/api -run '^$' -bench SearchV460 -benchtime 200x
func BenchmarkSearchV460(b *testing.B) {
	svc := app.New(importedV460(b), slog.New(slog.DiscardHandler), app.Config{})
	if err := svc.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	st := svc.Current()
	st.Search("appellations", "warm", 20)
	for _, q := range searchQueries {
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				if hits, _ := st.Search("appellations", q, 20); len(hits) == 0 {
					b.Fatalf("no hit for %q", q)
				}
			}
		})
	}
}
