package api_test

import (
	"testing"
	"time"

	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/services/referential/internal/reftest"
)

// BenchmarkFranceTravailSync measures the three list calls that copy the whole referential
// (BENCHMARKS.md): every métier with its appellations, every fiche métier with all its
// fields, every compétence, macro-compétence and savoir, read by a consumer with a token
// over HTTP. The version is warm, as the service makes it when it loads a version.
func BenchmarkFranceTravailSync(b *testing.B) {
	srv := reftest.Start(b, database.SQLite)
	c := &ftConsumer{t: b, base: srv.URL}
	c.login(registerClient(b, srv))
	lists := map[string][]string{
		"all fields": {"/rome-metiers/v1/metiers/metier", "/rome-fiches-metiers/v1/fiches-rome/fiche-metier", "/rome-competences/v1/competences/competence"},
		// The selectors a public consumer sends (a NestJS sync service, see the ftcompat doc).
		"consumer champs": {"/rome-metiers/v1/metiers/metier?champs=code&champs=libelle&champs=definition&champs=accesemploi" +
			"&champs=domaineprofessionnel(libelle,code,granddomaine(libelle,code))&champs=appellations(libelle,code,classification,libellecourt)",
			"/rome-fiches-metiers/v1/fiches-rome/fiche-metier?champs=groupescompetencesmobilisees(competences(libelle,code),enjeu(libelle,code))" +
				"&champs=code&champs=groupessavoirs(savoirs(libelle,code),categoriesavoirs(libelle,code))&champs=metier(libelle,code)",
			"/rome-competences/v1/competences/competence?champs=@competencedetaillee(macrocompetence(libelle,code,codearborescence,objectif(codearborescence)))" +
				"&champs=@macrocompetence(souscategorie,riasecmineur,codearborescence,riasecmajeur)&champs=@savoir(categoriesavoir(libelle,categorie(libelle)))" +
				"&champs=codeogr&champs=code&champs=libelle&champs=obsolete&champs=transitionecologique&champs=transitionnumerique"},
	}
	start := time.Now()
	for _, p := range lists["all fields"] {
		c.get(p) // the first read of a version builds its lists
	}
	b.Logf("first sync of the version: %v", time.Since(start))
	for name, paths := range lists {
		b.Run(name, func(b *testing.B) {
			size := 0
			for b.Loop() {
				size = 0
				for _, p := range paths {
					size += len(c.get(p))
				}
			}
			b.ReportMetric(float64(size)/1e6, "MB/sync")
		})
	}
}
