package changeset_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/services/referential/internal/changeset"
	"github.com/plateforme-rome/rome/services/referential/internal/fiche"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

func TestOperationsApply(t *testing.T) {
	t.Parallel()
	p := pick(t)
	const A, AR, L, H, C = romecsv.Appellation, romecsv.Arborescence, romecsv.Lien, romecsv.Coherence, romecsv.Competence
	devFiche := func(t *testing.T, r *run) []string { return r.row(t, romecsv.Fiche, dev) }
	// arboOf checks the arborescence row of an appellation against the fiche it is on.
	arboOf := func(t *testing.T, r *run, ogr, code string) []string {
		t.Helper()
		a, f := r.row(t, AR, romecsv.AppellationArboKey(ogr)), r.row(t, romecsv.Fiche, code)
		equal(t, "arborescence ogr_rome", col(AR, a, "ogr_rome"), col(romecsv.Fiche, f, "code_ogr"))
		equal(t, "arborescence code_fiche", col(AR, a, "code_fiche"), col(romecsv.Fiche, f, "code_fiche_metier"))
		return a
	}
	endsOn := func(t *testing.T, r *run, code string) {
		t.Helper()
		if r.code != code {
			t.Fatalf("the run ended on fiche %q, want %s", r.code, code)
		}
	}
	noRowChange := func(t *testing.T, r *run) {
		t.Helper()
		if cs := r.tx.Changes(); len(cs) != 0 {
			t.Errorf("%d row changes, want none: first %s %q", len(cs), cs[0].Dataset, cs[0].Key)
		}
	}

	cases := []struct {
		name  string
		code  string
		ops   []changeset.Operation
		check func(t *testing.T, r *run)
	}{
		{"create_fiche with a new principal appellation", "",
			[]changeset.Operation{newFiche(changeset.AppellationPrincipale{Libelle: robotLabel, LibelleCourt: "Roboticien(ne) logiciel"})},
			func(t *testing.T, r *run) {
				endsOn(t, r, p.freeM18)
				equal(t, "codes OGR", r.issued, []string{"90000001", "90000002"})
				f := r.fiche(t, r.code)
				equal(t, "libelle", f.Libelle, robotLabel)
				equal(t, "codes", [2]string{f.CodeOgr, f.CodeFicheMetier}, [2]string{"90000001", "90000001"})
				equal(t, "domaine", f.DomaineProfessionnel, fiche.Ref{Code: "M18", Libelle: "Systèmes d'information et de télécommunication"})
				equal(t, "grand domaine", f.GrandDomaine.Code, "M")
				equal(t, "appellations", f.Appellations, []fiche.Appellation{{CodeOgr: "90000002", Libelle: robotLabel,
					LibelleCourt: "Roboticien(ne) logiciel", Classification: romecsv.ClassificationPrincipale}})
				equal(t, "definition", f.Textes.Definition, []string{"Conçoit le logiciel des robots.", "Programme l'interface homme-machine."})
				equal(t, "accès", f.AccesEmploi, robotAcces)
				equal(t, "texte row", col(romecsv.Texte, r.row(t, romecsv.Texte, key(r.code, romecsv.TexteDefinition, "2")), "libelle_texte"),
					"Programme l''interface homme-machine.")
				equal(t, "arborescence intitule", col(AR, r.row(t, AR, romecsv.FicheArboKey(r.code)), "intitule"), robotLabel)
				arboOf(t, r, "90000002", r.code)
				equal(t, "changes", r.changesOf(), []string{"created fiche 90000001@" + r.code, "added appellation 90000002@" + r.code})
			}},
		{"create_fiche from a known appellation takes its label", "",
			[]changeset.Operation{newFiche(changeset.AppellationPrincipale{CodeOgr: devSynonym})},
			func(t *testing.T, r *run) {
				const label = "Analyste développeur / Analyste développeuse"
				endsOn(t, r, p.freeM18)
				equal(t, "codes OGR", r.issued, []string{"90000001"})
				f := r.fiche(t, r.code)
				equal(t, "libelle", f.Libelle, label)
				equal(t, "appellations", len(f.Appellations), 1)
				if a := appellation(f, devSynonym); a == nil || a.Classification != romecsv.ClassificationPrincipale {
					t.Errorf("appellation %s on the new fiche: %+v", devSynonym, a)
				}
				if appellation(r.fiche(t, dev), devSynonym) != nil {
					t.Errorf("appellation %s is still on %s", devSynonym, dev)
				}
				equal(t, "cr_gd_dp libelle", col(romecsv.FicheDomaine, r.row(t, romecsv.FicheDomaine, r.code), "libelle_rome"), label)
				equal(t, "arborescence intitule", col(AR, r.row(t, AR, romecsv.FicheArboKey(r.code)), "intitule"), label)
				arboOf(t, r, devSynonym, r.code)
				equal(t, "changes", r.changesOf(), []string{"created fiche 90000001@" + r.code,
					"moved appellation " + devSynonym + "@" + dev, "added appellation " + devSynonym + "@" + r.code})
			}},
		{"add_appellation", dev,
			[]changeset.Operation{{Op: refclient.OpAddAppellation, Libelle: "  Développeur / Développeuse Go  "}},
			func(t *testing.T, r *run) {
				f := r.fiche(t, dev)
				equal(t, "appellation", appellation(f, "90000001"), &fiche.Appellation{CodeOgr: "90000001", Libelle: "Développeur / Développeuse Go",
					LibelleCourt: "Développeur / Développeuse Go", Classification: romecsv.ClassificationSynonyme})
				equal(t, "fiche libelle", f.Libelle, devLabel)
				equal(t, "lien", len(r.row(t, L, key(dev, romecsv.BlocAppellations, romecsv.RubriqueNone, "90000001"))) > 0, true)
				a := arboOf(t, r, "90000001", dev)
				equal(t, "arborescence label", col(AR, a, "libelle_appellation_long"), "Développeur / Développeuse Go")
				equal(t, "changes", r.changesOf(), []string{"added appellation 90000001@" + dev})
				equal(t, "change label", r.results[0].Changes[0].Libelle, "Développeur / Développeuse Go")
			}},
		{"add_appellation with a short label", dev,
			[]changeset.Operation{{Op: refclient.OpAddAppellation, Libelle: "Développeur / Développeuse d'applications en microservices", LibelleCourt: "Développeur(se) microservices"}},
			func(t *testing.T, r *run) {
				a := appellation(r.fiche(t, dev), "90000001")
				if a == nil || a.LibelleCourt != "Développeur(se) microservices" {
					t.Errorf("appellation %+v", a)
				}
				equal(t, "arborescence short label", col(AR, arboOf(t, r, "90000001", dev), "libelle_appellation_court"), "Développeur(se) microservices")
			}},
		{"update_appellation renames a synonym and its short label", dev,
			[]changeset.Operation{{Op: refclient.OpUpdateAppellation, CodeOgr: devSynonym, Libelle: "Analyste développeur / Analyste développeuse logiciel"}},
			func(t *testing.T, r *run) {
				const label = "Analyste développeur / Analyste développeuse logiciel"
				f := r.fiche(t, dev)
				a := appellation(f, devSynonym)
				equal(t, "labels", [2]string{a.Libelle, a.LibelleCourt}, [2]string{label, label})
				equal(t, "fiche libelle", f.Libelle, devLabel)
				arbo := arboOf(t, r, devSynonym, dev)
				equal(t, "arborescence labels", [2]string{col(AR, arbo, "libelle_appellation_long"), col(AR, arbo, "libelle_appellation_court")}, [2]string{label, label})
				equal(t, "changes", r.changesOf(), []string{"updated appellation " + devSynonym + "@" + dev, "updated appellation " + devSynonym + "@" + dev})
				equal(t, "changed fields", [2]string{r.results[0].Changes[0].Field, r.results[0].Changes[1].Field}, [2]string{"libelle", "libelleCourt"})
			}},
		{"update_appellation keeps a short label of its own", dev,
			[]changeset.Operation{{Op: refclient.OpUpdateAppellation, CodeOgr: devSynShort, Libelle: "Analyste-programmeur / Analyste-programmeuse en gestion informatique"}},
			func(t *testing.T, r *run) {
				a := appellation(r.fiche(t, dev), devSynShort)
				equal(t, "labels", [2]string{a.Libelle, a.LibelleCourt},
					[2]string{"Analyste-programmeur / Analyste-programmeuse en gestion informatique", "Analyste-programmeur(se) gestion informatique"})
			}},
		{"update_appellation of the short label only", dev,
			[]changeset.Operation{{Op: refclient.OpUpdateAppellation, CodeOgr: devSynShort, LibelleCourt: " Analyste-prog. gestion "}},
			func(t *testing.T, r *run) {
				a := appellation(r.fiche(t, dev), devSynShort)
				equal(t, "labels", [2]string{a.Libelle, a.LibelleCourt},
					[2]string{"Analyste-programmeur / Analyste-programmeuse gestion informatique", "Analyste-prog. gestion"})
				equal(t, "arborescence short label", col(AR, arboOf(t, r, devSynShort, dev), "libelle_appellation_court"), "Analyste-prog. gestion")
			}},
		{"renaming the principal appellation renames the fiche everywhere", dev,
			[]changeset.Operation{{Op: refclient.OpUpdateAppellation, CodeOgr: devPrincipal, Libelle: "Développeur / Développeuse informatique et logiciel"}},
			func(t *testing.T, r *run) {
				const label = "Développeur / Développeuse informatique et logiciel"
				f := r.fiche(t, dev)
				equal(t, "fiche libelle", f.Libelle, label)
				equal(t, "principal", appellation(f, devPrincipal).Libelle, label)
				equal(t, "referentiel_code_rome", col(romecsv.Fiche, devFiche(t, r), "libelle_rome"), label)
				equal(t, "cr_gd_dp", col(romecsv.FicheDomaine, r.row(t, romecsv.FicheDomaine, dev), "libelle_rome"), label)
				for _, name := range []string{romecsv.FicheSecteurActivite, romecsv.FicheSecteurNaf, romecsv.FicheCentreInteret, romecsv.FicheTheme} {
					rows := r.tx.ForRome(name, dev)
					if len(rows) == 0 {
						t.Errorf("%s has no row for %s", name, dev)
					}
					for _, row := range rows {
						equal(t, name, col(name, row, "libelle_rome"), label)
					}
				}
				equal(t, "arborescence intitule", col(AR, r.row(t, AR, romecsv.FicheArboKey(dev)), "intitule"), label)
				equal(t, "arborescence appellation", col(AR, arboOf(t, r, devPrincipal, dev), "libelle_appellation_long"), label)
				// Fiches with a mobilité to M1805 show the new label.
				for _, m := range r.fiche(t, "E1111").Mobilites {
					if m.CodeRome == dev {
						equal(t, "E1111 mobilité label", m.Libelle, label)
					}
				}
				// The short label was the whole label, so it follows: two appellation fields change.
				equal(t, "changes", r.changesOf(), []string{"updated appellation " + devPrincipal + "@" + dev, "updated appellation " + devPrincipal + "@" + dev, "updated fiche @" + dev})
			}},
		{"the principal appellation in the other-gender order is a new spelling, not a duplicate", dev,
			[]changeset.Operation{{Op: refclient.OpUpdateAppellation, CodeOgr: devPrincipal, Libelle: "Développeuse / Développeur informatique"}},
			func(t *testing.T, r *run) {
				equal(t, "fiche libelle", r.fiche(t, dev).Libelle, "Développeuse / Développeur informatique")
			}},
		{"remove_appellation with a successor", dev,
			[]changeset.Operation{{Op: refclient.OpRemoveAppellation, CodeOgr: devSynonym, ReplacedBy: devPrincipal}},
			func(t *testing.T, r *run) {
				if appellation(r.fiche(t, dev), devSynonym) != nil {
					t.Error("the appellation is still on the fiche")
				}
				r.absent(t, A, devSynonym)
				r.absent(t, L, key(dev, romecsv.BlocAppellations, romecsv.RubriqueNone, devSynonym))
				r.absent(t, AR, romecsv.AppellationArboKey(devSynonym))
				equal(t, "after", r.results[0].Changes[0].After, any(map[string]string{"replacedBy": devPrincipal}))
			}},
		{"remove_appellation with a reason", dev,
			[]changeset.Operation{{Op: refclient.OpRemoveAppellation, CodeOgr: devSynonym, Reason: "no longer used"}},
			func(t *testing.T, r *run) {
				if appellation(r.fiche(t, dev), devSynonym) != nil {
					t.Error("the appellation is still on the fiche")
				}
				equal(t, "after", r.results[0].Changes[0].After, any(map[string]string{"reason": "no longer used"}))
			}},
		{"move_appellation", dev,
			[]changeset.Operation{{Op: refclient.OpMoveAppellation, CodeOgr: devSynonym, ToCodeRome: appli}},
			func(t *testing.T, r *run) {
				if appellation(r.fiche(t, dev), devSynonym) != nil {
					t.Error("the appellation is still on M1805")
				}
				if a := appellation(r.fiche(t, appli), devSynonym); a == nil || a.Classification != romecsv.ClassificationSynonyme {
					t.Errorf("on %s: %+v", appli, a)
				}
				row := r.row(t, A, devSynonym)
				equal(t, "code_rome", col(A, row, "code_rome"), appli)
				equal(t, "code_rome_parent", col(A, row, "code_rome_parent"), col(romecsv.Fiche, r.row(t, romecsv.Fiche, appli), "code_rome_parent"))
				r.absent(t, L, key(dev, romecsv.BlocAppellations, romecsv.RubriqueNone, devSynonym))
				arboOf(t, r, devSynonym, appli)
				equal(t, "changes", r.changesOf(), []string{"moved appellation " + devSynonym + "@" + dev, "added appellation " + devSynonym + "@" + appli})
			}},
		{"add_competence of an existing compétence as coeur de métier", dev,
			[]changeset.Operation{{Op: refclient.OpAddCompetence, CodeOgr: p.compOff, CoeurMetier: str(fiche.CoeurPrincipale)}},
			func(t *testing.T, r *run) {
				m, c := competence(r.fiche(t, dev), p.compOff)
				if c == nil {
					t.Fatal("the compétence is not on the fiche")
				}
				equal(t, "coeur métier", coeur(c.CoeurMetier), fiche.CoeurPrincipale)
				equal(t, "macro", m.CodeOgr, col(C, r.row(t, C, p.compOff), "code_ogr_macro_comp"))
				r.row(t, L, key(dev, romecsv.BlocCompetences, romecsv.RubriqueSavoirFaire, p.compOff))
				equal(t, "coherence", col(H, r.row(t, H, key(dev, p.compOff)), "coeur_metier"), romecsv.CoeurMetierPrincipale)
			}},
		{"add_competence of a savoir-être professionnel", dev,
			[]changeset.Operation{{Op: refclient.OpAddCompetence, CodeOgr: p.savoirEtreOff}},
			func(t *testing.T, r *run) {
				m := savoirEtre(r.fiche(t, dev), p.savoirEtreOff)
				if m == nil || m.CoeurMetier != nil {
					t.Errorf("savoir-être %+v", m)
				}
				r.row(t, L, key(dev, romecsv.BlocCompetences, romecsv.RubriqueSavoirEtre, p.savoirEtreOff))
			}},
		{"add_competence of a new compétence", dev,
			[]changeset.Operation{{Op: refclient.OpAddCompetence, New: &changeset.NewItem{Libelle: " Développer en Go ", MacroCompetenceCodeOgr: p.macro}, CoeurMetier: str(fiche.CoeurEmergente)}},
			func(t *testing.T, r *run) {
				m, c := competence(r.fiche(t, dev), "90000001")
				if c == nil {
					t.Fatal("the new compétence is not on the fiche")
				}
				equal(t, "compétence", *c, fiche.Item{CodeOgr: "90000001", Libelle: "Développer en Go", CoeurMetier: str(fiche.CoeurEmergente)})
				equal(t, "macro", m.CodeOgr, p.macro)
				row := r.row(t, C, "90000001")
				equal(t, "row", [3]string{col(C, row, "nature"), col(C, row, "cat_comp"), col(C, row, "code_ogr_macro_comp")}, [3]string{romecsv.NatureCompetence, romecsv.CategorieSavoirFaire, p.macro})
				equal(t, "item rubrique", col(romecsv.Item, r.row(t, romecsv.Item, "90000001"), "code_rubrique"), romecsv.RubriqueSavoirFaire)
				equal(t, "changes", r.changesOf(), []string{"created competence 90000001@" + dev})
			}},
		{"remove_competence", dev,
			[]changeset.Operation{{Op: refclient.OpRemoveCompetence, CodeOgr: devSkill}},
			func(t *testing.T, r *run) {
				if _, c := competence(r.fiche(t, dev), devSkill); c != nil {
					t.Error("the compétence is still on the fiche")
				}
				r.absent(t, L, key(dev, romecsv.BlocCompetences, romecsv.RubriqueSavoirFaire, devSkill))
				r.absent(t, H, key(dev, devSkill))
				r.row(t, C, devSkill) // a published compétence stays in the referential
			}},
		{"set_coeur_metier from principale to émergente", dev,
			[]changeset.Operation{{Op: refclient.OpSetCoeurMetier, CodeOgr: devSkill, CoeurMetier: str(fiche.CoeurEmergente)}},
			func(t *testing.T, r *run) {
				_, c := competence(r.fiche(t, dev), devSkill)
				equal(t, "coeur métier", coeur(c.CoeurMetier), fiche.CoeurEmergente)
				equal(t, "change", coeur(r.results[0].Changes[0].After.(*string)), fiche.CoeurEmergente)
			}},
		{"set_coeur_metier to null", dev,
			[]changeset.Operation{{Op: refclient.OpSetCoeurMetier, CodeOgr: devSkill}},
			func(t *testing.T, r *run) {
				_, c := competence(r.fiche(t, dev), devSkill)
				equal(t, "coeur métier", coeur(c.CoeurMetier), "null")
			}},
		{"set_coeur_metier on a savoir", dev,
			[]changeset.Operation{{Op: refclient.OpSetCoeurMetier, CodeOgr: p.savoirOn, CoeurMetier: str(fiche.CoeurPrincipale)}},
			func(t *testing.T, r *run) {
				_, s := savoir(r.fiche(t, dev), p.savoirOn)
				equal(t, "coeur métier", coeur(s.CoeurMetier), fiche.CoeurPrincipale)
			}},
		{"add_savoir of an existing savoir", dev,
			[]changeset.Operation{{Op: refclient.OpAddSavoir, CodeOgr: p.savoirOff}},
			func(t *testing.T, r *run) {
				cat, s := savoir(r.fiche(t, dev), p.savoirOff)
				if s == nil {
					t.Fatal("the savoir is not on the fiche")
				}
				equal(t, "categorie", cat, col(romecsv.Savoir, r.row(t, romecsv.Savoir, p.savoirOff), "categorie_savoir"))
				r.row(t, L, key(dev, romecsv.BlocCompetences, romecsv.RubriqueSavoirs, p.savoirOff))
			}},
		{"add_savoir of a new savoir", dev,
			[]changeset.Operation{{Op: refclient.OpAddSavoir, New: &changeset.NewItem{Libelle: "Langage Go", Categorie: "Techniques professionnelles"}, CoeurMetier: str(fiche.CoeurPrincipale)}},
			func(t *testing.T, r *run) {
				cat, s := savoir(r.fiche(t, dev), "90000001")
				if s == nil {
					t.Fatal("the new savoir is not on the fiche")
				}
				equal(t, "savoir", [3]string{cat, s.Libelle, coeur(s.CoeurMetier)}, [3]string{"Techniques professionnelles", "Langage Go", fiche.CoeurPrincipale})
				equal(t, "item rubrique", col(romecsv.Item, r.row(t, romecsv.Item, "90000001"), "code_rubrique"), romecsv.RubriqueSavoirs)
				equal(t, "changes", r.changesOf(), []string{"created savoir 90000001@" + dev})
			}},
		{"remove_savoir", dev,
			[]changeset.Operation{{Op: refclient.OpRemoveSavoir, CodeOgr: p.savoirOn}},
			func(t *testing.T, r *run) {
				if _, s := savoir(r.fiche(t, dev), p.savoirOn); s != nil {
					t.Error("the savoir is still on the fiche")
				}
				r.absent(t, L, key(dev, romecsv.BlocCompetences, romecsv.RubriqueSavoirs, p.savoirOn))
				r.absent(t, H, key(dev, p.savoirOn))
			}},
		{"add_contexte", dev,
			[]changeset.Operation{{Op: refclient.OpAddContexte, CodeOgr: p.contexteOff}},
			func(t *testing.T, r *run) {
				if contexte(r.fiche(t, dev), p.contexteOff) == nil {
					t.Error("the contexte is not on the fiche")
				}
				r.row(t, L, key(dev, romecsv.BlocContextes, romecsv.RubriqueNone, p.contexteOff))
			}},
		{"remove_contexte", dev,
			[]changeset.Operation{{Op: refclient.OpRemoveContexte, CodeOgr: p.contexteOn}},
			func(t *testing.T, r *run) {
				if contexte(r.fiche(t, dev), p.contexteOn) != nil {
					t.Error("the contexte is still on the fiche")
				}
				r.absent(t, L, key(dev, romecsv.BlocContextes, romecsv.RubriqueNone, p.contexteOn))
			}},
		{"add_mobilite at a rank", dev,
			[]changeset.Operation{{Op: refclient.OpAddMobilite, ToCodeRome: appli, Rank: num(3)}},
			func(t *testing.T, r *run) {
				equal(t, "mobilités", mobilites(r.fiche(t, dev)), ranked(insertAt(devTargets, 2, appli)...))
				equal(t, "change", r.results[0].Changes[0].After, any(map[string]any{"codeRome": appli, "rang": 3}))
			}},
		{"add_mobilite first", dev,
			[]changeset.Operation{{Op: refclient.OpAddMobilite, ToCodeRome: appli, Rank: num(1)}},
			func(t *testing.T, r *run) {
				equal(t, "mobilités", mobilites(r.fiche(t, dev)), ranked(insertAt(devTargets, 0, appli)...))
			}},
		{"add_mobilite at the last rank", dev,
			[]changeset.Operation{{Op: refclient.OpAddMobilite, ToCodeRome: appli, Rank: num(len(devTargets) + 1)}},
			func(t *testing.T, r *run) {
				equal(t, "mobilités", mobilites(r.fiche(t, dev)), ranked(append(slices.Clone(devTargets), appli)...))
			}},
		{"add_mobilite without a rank goes last", dev,
			[]changeset.Operation{{Op: refclient.OpAddMobilite, ToCodeRome: appli}},
			func(t *testing.T, r *run) {
				equal(t, "mobilités", mobilites(r.fiche(t, dev)), ranked(append(slices.Clone(devTargets), appli)...))
			}},
		{"remove_mobilite renumbers the rest", dev,
			[]changeset.Operation{{Op: refclient.OpRemoveMobilite, ToCodeRome: "M1810"}},
			func(t *testing.T, r *run) {
				equal(t, "mobilités", mobilites(r.fiche(t, dev)), ranked(slices.Delete(slices.Clone(devTargets), 2, 3)...))
				equal(t, "change", r.results[0].Changes[0].Before, any(map[string]any{"codeRome": "M1810", "rang": 3}))
				r.absent(t, romecsv.Mobilite, key(dev, "M1810"))
			}},
		{"set_text definition, one row per line", dev,
			[]changeset.Operation{{Op: refclient.OpSetText, Field: refclient.FieldDefinition, Text: "Conçoit des logiciels.\r\n\n  Participe à l'analyse des besoins.  \n"}},
			func(t *testing.T, r *run) {
				f := r.fiche(t, dev)
				equal(t, "sentences", f.Textes.Definition, []string{"Conçoit des logiciels.", "Participe à l'analyse des besoins."})
				equal(t, "definition", f.Definition, "Conçoit des logiciels.\nParticipe à l'analyse des besoins.")
				equal(t, "row 2", col(romecsv.Texte, r.row(t, romecsv.Texte, key(dev, romecsv.TexteDefinition, "2")), "libelle_texte"), "Participe à l''analyse des besoins.")
				r.absent(t, romecsv.Texte, key(dev, romecsv.TexteDefinition, "3"))
				equal(t, "accès unchanged", f.AccesEmploi, "Cet emploi est accessible avec un niveau Bac+2 à Bac+5  dans le domaine de l'informatique.")
				equal(t, "change", r.results[0].Changes[0].After, any(f.Definition))
			}},
		{"set_text accesEmploi", dev,
			[]changeset.Operation{{Op: refclient.OpSetText, Field: refclient.FieldAccesEmploi, Text: "Bac+3 en informatique.\nUne expérience est demandée."}},
			func(t *testing.T, r *run) {
				f := r.fiche(t, dev)
				equal(t, "sentences", f.Textes.AccesEmploi, []string{"Bac+3 en informatique.", "Une expérience est demandée."})
				equal(t, "definition unchanged", len(f.Textes.Definition), 7)
				equal(t, "bloc", col(romecsv.Texte, r.row(t, romecsv.Texte, key(dev, romecsv.TexteAccesMetier, "2")), "code_compo_bloc"), romecsv.BlocAccesMetier)
			}},
		{"set_tags", dev,
			[]changeset.Operation{{Op: refclient.OpSetTags, TransitionEcologique: str("Emploi Vert"), TransitionDemographique: flag(true), EmploiCadre: flag(false)}},
			func(t *testing.T, r *run) {
				equal(t, "tags", r.fiche(t, dev).Tags, fiche.Tags{TransitionEcologique: "Emploi Vert", TransitionNumerique: flag(true),
					TransitionDemographique: flag(true), EmploiReglemente: flag(false), EmploiCadre: flag(false)})
				row := devFiche(t, r)
				equal(t, "row", [3]string{col(romecsv.Fiche, row, "transition_eco"), col(romecsv.Fiche, row, "transition_demo"), col(romecsv.Fiche, row, "emploi_cadre")},
					[3]string{"Emploi Vert", romecsv.FlagYes, romecsv.FlagNo})
				equal(t, "changes", r.changesOf(), []string{"updated tags @" + dev, "updated tags @" + dev, "updated tags @" + dev})
			}},

		// Chaining: later operations see what earlier ones staged.
		{"create_fiche then add_competence and add_savoir on the new fiche", "",
			[]changeset.Operation{
				newFiche(changeset.AppellationPrincipale{Libelle: robotLabel}),
				{Op: refclient.OpAddCompetence, CodeOgr: p.compOff, CoeurMetier: str(fiche.CoeurPrincipale)},
				{Op: refclient.OpAddSavoir, New: &changeset.NewItem{Libelle: "Robotique logicielle", Categorie: "Domaines d'expertise"}},
				{Op: refclient.OpAddMobilite, ToCodeRome: dev, Rank: num(1)},
			},
			func(t *testing.T, r *run) {
				endsOn(t, r, p.freeM18)
				f := r.fiche(t, r.code)
				if _, c := competence(f, p.compOff); c == nil || coeur(c.CoeurMetier) != fiche.CoeurPrincipale {
					t.Errorf("compétence on the new fiche: %+v", c)
				}
				if cat, s := savoir(f, "90000003"); s == nil || cat != "Domaines d'expertise" {
					t.Errorf("new savoir on the new fiche: %q %+v", cat, s)
				}
				equal(t, "mobilités", mobilites(f), []string{"1:" + dev})
				if _, c := competence(r.fiche(t, dev), p.compOff); c != nil {
					t.Error("the compétence went to M1805")
				}
				for _, c := range r.changesOf() {
					if !strings.HasSuffix(c, "@"+r.code) {
						t.Errorf("change %s is not on the new fiche", c)
					}
				}
			}},
		{"two operations on the same compétence", dev,
			[]changeset.Operation{
				{Op: refclient.OpAddCompetence, CodeOgr: p.compOff, CoeurMetier: str(fiche.CoeurEmergente)},
				{Op: refclient.OpSetCoeurMetier, CodeOgr: p.compOff, CoeurMetier: str(fiche.CoeurPrincipale)},
			},
			func(t *testing.T, r *run) {
				_, c := competence(r.fiche(t, dev), p.compOff)
				equal(t, "coeur métier", coeur(c.CoeurMetier), fiche.CoeurPrincipale)
			}},
		{"an appellation added then renamed in the same run", dev,
			[]changeset.Operation{
				{Op: refclient.OpAddAppellation, Libelle: "Développeur / Développeuse Go"},
				{Op: refclient.OpUpdateAppellation, CodeOgr: "90000001", Libelle: "Développeur / Développeuse Golang"},
			},
			func(t *testing.T, r *run) {
				f := r.fiche(t, dev)
				a := appellation(f, "90000001")
				equal(t, "labels", [2]string{a.Libelle, a.LibelleCourt}, [2]string{"Développeur / Développeuse Golang", "Développeur / Développeuse Golang"})
				before, _ := fiche.Build(r.base, dev, 0)
				equal(t, "appellations", len(f.Appellations), len(before.Appellations)+1)
				if slices.Contains(appellationLabels(f), "Développeur / Développeuse Go") {
					t.Error("the first label is still on the fiche")
				}
			}},
		{"set_text twice: the last one wins", dev,
			[]changeset.Operation{
				{Op: refclient.OpSetText, Field: refclient.FieldDefinition, Text: "Première version."},
				{Op: refclient.OpSetText, Field: refclient.FieldDefinition, Text: "Seconde version.\nAvec deux phrases."},
			},
			func(t *testing.T, r *run) {
				equal(t, "sentences", r.fiche(t, dev).Textes.Definition, []string{"Seconde version.", "Avec deux phrases."})
			}},
		{"a mobilité added then removed leaves no row change", dev,
			[]changeset.Operation{
				{Op: refclient.OpAddMobilite, ToCodeRome: appli, Rank: num(1)},
				{Op: refclient.OpRemoveMobilite, ToCodeRome: appli},
			}, noRowChange},
		{"a new compétence added then removed leaves no row change", dev,
			[]changeset.Operation{
				{Op: refclient.OpAddCompetence, New: &changeset.NewItem{Libelle: "Développer en Go", MacroCompetenceCodeOgr: p.macro}},
				{Op: refclient.OpRemoveCompetence, CodeOgr: "90000001"},
			}, noRowChange},
		{"a new savoir added then removed leaves no row change", dev,
			[]changeset.Operation{
				{Op: refclient.OpAddSavoir, New: &changeset.NewItem{Libelle: "Langage Go", Categorie: "Techniques professionnelles"}},
				{Op: refclient.OpRemoveSavoir, CodeOgr: "90000001"},
			}, noRowChange},
		{"an existing contexte added then removed leaves no row change", dev,
			[]changeset.Operation{
				{Op: refclient.OpAddContexte, CodeOgr: p.contexteOff},
				{Op: refclient.OpRemoveContexte, CodeOgr: p.contexteOff},
			}, noRowChange},
		{"an appellation added then removed leaves no row change", dev,
			[]changeset.Operation{
				{Op: refclient.OpAddAppellation, Libelle: "Développeur / Développeuse Go"},
				{Op: refclient.OpRemoveAppellation, CodeOgr: "90000001", Reason: "added by mistake"},
			}, noRowChange},
		{"a label the run freed can be given again", dev,
			[]changeset.Operation{
				{Op: refclient.OpAddAppellation, Libelle: "Développeur / Développeuse Go"},
				{Op: refclient.OpRemoveAppellation, CodeOgr: "90000001", Reason: "wrong fiche"},
				{Op: refclient.OpAddAppellation, Libelle: "Développeuse / Développeur Go"},
				{Op: refclient.OpUpdateAppellation, CodeOgr: devSynonym, Libelle: "Analyste développeur / Analyste développeuse logiciel"},
				{Op: refclient.OpAddAppellation, Libelle: "Analyste développeur / Analyste développeuse"},
			},
			func(t *testing.T, r *run) {
				f := r.fiche(t, dev)
				if a := appellation(f, "90000002"); a == nil || a.Libelle != "Développeuse / Développeur Go" {
					t.Errorf("re-added appellation: %+v", a)
				}
				if a := appellation(f, "90000003"); a == nil || a.Libelle != "Analyste développeur / Analyste développeuse" {
					t.Errorf("appellation with the freed label: %+v", a)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := applied(t, c.code, c.ops...)
			c.check(t, r)
		})
	}
}

// Labels close to official ones but naming another job are not duplicates.
func TestNearDuplicatesApply(t *testing.T) {
	t.Parallel()
	for _, label := range []string{
		"Développeur / Développeuse",                     // the alternatives without their shared words
		"Développeur / Développeuse informatique junior", // one more word
		"Développeur informatique",                       // one alternative
	} {
		t.Run(label, func(t *testing.T) {
			t.Parallel()
			applied(t, dev, changeset.Operation{Op: refclient.OpAddAppellation, Libelle: label})
		})
	}
}
