package search

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

const (
	principal = 1.0
	synonym   = 0.5
	rare      = 0.0 // "peu usité"
)

// appellations resemble the real ROME labels, near-misses included.
var appellations = []Entry{
	{"11573", "Boulanger / Boulangère", principal},
	{"11574", "Boulanger-pâtissier / Boulangère-pâtissière", synonym},
	{"11576", "Boulanger-traiteur / Boulangère-traiteuse", synonym},
	{"10540", "Aide-boulanger / Aide-boulangère", synonym},
	{"12600", "Chef boulanger / Cheffe boulangère", principal},
	{"12601", "Chef / Cheffe de rayon boulangerie", synonym},
	{"20000", "Vendeur / Vendeuse en boulangerie-pâtisserie", synonym},
	{"10800", "Aide à domicile", synonym},
	{"10891", "Aide-soignant / Aide-soignante", principal},
	{"10893", "Aide-soignant / Aide-soignante en gériatrie", synonym},
	{"10892", "Aide-soignant / Aide-soignante à domicile", rare},
	{"10310", "Agent / Agente de soins", synonym},
	{"10311", "Agent / Agente de soins en hydrothérapie", principal},
	{"11500", "Agent / Agente d'entretien de locaux", principal},
	{"14156", "Développeur / Développeuse web", principal},
	{"14150", "Développeur / Développeuse d'application mobile", synonym},
	{"14155", "Développeur / Développeuse informatique", principal},
	{"14152", "Développeur / Développeuse de photographies", synonym},
	{"20728", "Webmaster développeur / Webmaster développeuse", synonym},
	{"16446", "Mécanicien / Mécanicienne automobile", principal},
	{"16447", "Mécanicien / Mécanicienne avion", principal},
	{"12576", "Chef mécanicien / Cheffe mécanicienne automobile", synonym},
	{"16455", "Mécanicien / Mécanicienne poids lourds", synonym},
	{"14501", "Électricien / Électricienne automobile", synonym},
	{"14500", "Électricien / Électricienne du bâtiment", principal},
	{"15530", "Infirmier / Infirmière", principal},
	{"15535", "Infirmier / Infirmière de bloc opératoire", synonym},
	{"15556", "Infirmier / Infirmière scolaire", principal},
	{"15557", "Cadre infirmier / Cadre infirmière hygiéniste", rare},
	{"11989", "Chauffeur / Chauffeuse de poids lourd", synonym},
	{"13132", "Conducteur / Conductrice de poids lourd", principal},
	{"11990", "Chauffeur / Chauffeuse de taxi", synonym},
	{"404030", "Conducteur / Conductrice d'engins agricoles", principal},
	{"13246", "Conducteur / Conductrice d'engins de chantier", principal},
	{"17576", "Pâtissier / Pâtissière", principal},
	{"17577", "Pâtissier / Pâtissière de restaurant", principal},
	{"17580", "Pâtissier-chocolatier / Pâtissière-chocolatière", synonym},
	{"12690", "Chef pâtissier / Cheffe pâtissière", principal},
	{"16000", "Maçon / Maçonne", principal},
	{"16001", "Maçon / Maçonne en rénovation", synonym},
	{"13000", "Cuisinier / Cuisinière", principal},
	{"13001", "Commis / Commise de cuisine", principal},
	{"19000", "Serveur / Serveuse en restauration", principal},
	{"18000", "Plombier / Plombière", principal},
	{"18001", "Plombier chauffagiste / Plombière chauffagiste", synonym},
	{"19500", "Secrétaire médical / Secrétaire médicale", principal},
	{"13500", "Comptable", principal},
	{"13501", "Expert-comptable / Experte-comptable", principal},
	{"11000", "Auxiliaire de vie sociale", principal},
	{"12000", "Chargé / Chargée de clientèle bancaire", principal},
	{"17000", "Œnologue", principal},
	{"21000", "Garçon de café", synonym},
	{"10200", "Abatteur / Abatteuse de carrière", synonym},
	{"18500", "Responsable d'atelier en industrie du plastique/caoutchouc", synonym},
	{"15100", "Infirmier Anesthésiste Diplômé / Infirmière Anesthésiste Diplômée d'Etat -IADE-", synonym},
	{"15101", "Infirmier / Infirmière de bloc opératoire Diplômé(e) d'Etat - IBODE", synonym},
}

// firstHits are realistic queries with the appellation expected on top.
var firstHits = []struct{ query, want string }{
	{"boulanger", "11573"},
	{"boulangere", "11573"},
	{"Boulangère", "11573"},
	{"BOULANGÈRE", "11573"},
	{"  boulanger  ", "11573"},
	{"boulang", "11573"},
	{"boulanjer", "11573"},
	{"boulanger patissier", "11574"},
	{"boulangère-pâtissière", "11574"},
	{"vendeuse boulangerie", "20000"},
	{"aide soignante", "10891"},
	{"aide-soignant", "10891"},
	{"Aide soignant(e)", "10891"},
	{"aide soignante domicile", "10892"},
	{"aide a domicile", "10800"},
	{"agent de soins", "10310"},
	{"developeur web", "14156"},
	{"développeuse web", "14156"},
	{"developpeur application mobile", "14150"},
	{"développeuse d'application", "14150"},
	{"mecanicien auto", "16446"},
	{"mécanicienne automobile", "16446"},
	{"mecanicien poids lourd", "16455"},
	{"electricien auto", "14501"},
	{"infirmiere", "15530"},
	{"infirmier", "15530"},
	{"infirmier bloc", "15535"},
	{"infirmière scolaire", "15556"},
	{"infirmiere anesthesiste", "15100"},
	{"ibode", "15101"},
	{"chauffeur poids lourd", "11989"},
	{"conducteur poids lourds", "13132"},
	{"conducteur engins agricoles", "404030"},
	{"conductrice d'engins agricoles", "404030"},
	{"conducteur d engin agricole", "404030"},
	{"pattissier", "17576"},
	{"patissiere", "17576"},
	{"chef patissier", "12690"},
	{"macon", "16000"},
	{"maconne renovation", "16001"},
	{"cuisiner", "13000"},
	{"oenologue", "17000"},
	{"garcon de cafe", "21000"},
	{"comptable", "13500"},
	{"expert comptable", "13501"},
	{"caoutchouc", "18500"},
	{"plombier chauffagiste", "18001"},
	{"secretaire medicale", "19500"},
	{"auxiliare de vie", "11000"},
	{"abateur carriere", "10200"},
	{"charge de clientele", "12000"},
}

func TestSearchFirstHit(t *testing.T) {
	t.Parallel()
	ix := Build(appellations)
	for _, tc := range firstHits {
		hits := ix.Search(tc.query, 5)
		if len(hits) == 0 || hits[0].ID != tc.want {
			t.Errorf("Search(%q): first hit %s, want %s %q", tc.query, describe(hits), tc.want, labelOf(tc.want))
		}
	}
}

func TestSearchNoHits(t *testing.T) {
	t.Parallel()
	ix := Build(appellations)
	for _, q := range []string{"", "   ", "\t\n", "xyzzy", "qwertyuiop", "zzzzzzzz", "!!! ???", "de la", "d'", "12345"} {
		if hits := ix.Search(q, 10); len(hits) != 0 {
			t.Errorf("Search(%q) = %s, want no hits", q, describe(hits))
		}
	}
	if hits := ix.Search("boulanger", 0); hits != nil {
		t.Errorf("limit 0: %s, want no hits", describe(hits))
	}
	var nilIndex *Index
	if hits := nilIndex.Search("boulanger", 10); hits != nil {
		t.Errorf("nil index: %s, want no hits", describe(hits))
	}
	if hits := Build(nil).Search("boulanger", 10); hits != nil {
		t.Errorf("empty index: %s, want no hits", describe(hits))
	}
}

func TestSearchRanking(t *testing.T) {
	t.Parallel()
	t.Run("all query words beat part of them", func(t *testing.T) {
		// 10892 is "peu usité" and longer, yet the only one with all three words.
		hits := Build(appellations).Search("aide soignante domicile", 10)
		if len(hits) < 3 || hits[0].ID != "10892" {
			t.Fatalf("got %s", describe(hits))
		}
		full := hits[0].Score
		for _, h := range hits[1:] {
			if h.Score >= full {
				t.Errorf("partial match %s scores %v ≥ full match %v", h.ID, h.Score, full)
			}
		}
	})
	t.Run("one label word answers one query word", func(t *testing.T) {
		// "pate" and "pain" are both one typo away from "paie".
		ix := Build([]Entry{{"1", "Gérer la paie", 0}, {"2", "Former une pâte à pizza", 0}, {"3", "Pains et pâtés", 0}})
		assertTop(t, ix.Search("pate pain", 5), "3", "2", "1")
	})
	t.Run("exact beats prefix beats typo", func(t *testing.T) {
		// The typo candidate is the shortest label, the prefix one the longest.
		ix := Build([]Entry{{"typo", "Soudre", 0}, {"prefix", "Soudures", 0}, {"exact", "Soudure", 0}})
		assertTop(t, ix.Search("soudure", 5), "exact", "prefix", "typo")
	})
	t.Run("coverage: fewer unmatched label words first", func(t *testing.T) {
		assertTop(t, Build(appellations).Search("boulanger", 10), "11573", "11576", "11574")
	})
	t.Run("query words kept together and in order", func(t *testing.T) {
		// Stop words do not break a phrase; the scattered label is the shorter.
		ix := Build([]Entry{{"scattered", "Équipe de nuit, chef", 0}, {"phrase", "Chef d'équipe de nuit", 0}})
		assertTop(t, ix.Search("chef d'équipe", 5), "phrase", "scattered")
	})
	t.Run("masculine and feminine forms read separately", func(t *testing.T) {
		// Read as one bag of words, the gendered label would cover 3 of its 4
		// words like the shorter one; read as two forms, it covers all of one.
		ix := Build([]Entry{{"short", "Conducteur d'engins agricoles lourds", 0}, {"gendered", "Conducteur / Conductrice d'engins agricoles", 0}})
		assertTop(t, ix.Search("conducteur engins agricoles", 5), "gendered", "short")
	})
	t.Run("boost breaks near-ties", func(t *testing.T) {
		ix := Build([]Entry{{"1", "Agent / Agente de pont", synonym}, {"2", "Agent / Agente de quai", principal}})
		assertTop(t, ix.Search("agent", 5), "2", "1")
	})
	t.Run("ties by label then ID", func(t *testing.T) {
		ix := Build([]Entry{{"b", "Maçon / Maçonne", 0}, {"c", "Maçon / Maçonne", 0}, {"a", "Maçon / Maçonne", 0}, {"0", "Maçon / Maçonnes", 0}})
		hits := ix.Search("macon", 5)
		assertTop(t, hits, "a", "b", "c", "0")
		if hits[0].Score != hits[2].Score {
			t.Errorf("identical labels scored %v and %v", hits[0].Score, hits[2].Score)
		}
	})
	t.Run("scores in (0,1], best first, limit kept", func(t *testing.T) {
		ix := Build(appellations)
		for _, tc := range firstHits {
			hits := ix.Search(tc.query, 4)
			if len(hits) > 4 {
				t.Errorf("Search(%q): %d hits, limit 4", tc.query, len(hits))
			}
			for i, h := range hits {
				if !(h.Score > 0 && h.Score <= 1) || (i > 0 && h.Score > hits[i-1].Score) {
					t.Errorf("Search(%q): bad scores %s", tc.query, describe(hits))
					break
				}
			}
		}
	})
}

func TestSearchLongQueryIsTruncated(t *testing.T) {
	t.Parallel()
	ix := Build(appellations)
	// Words past the first 200 characters are ignored.
	hits := ix.Search("boulanger "+strings.Repeat("x", 300)+" macon", 20)
	if len(hits) == 0 || hits[0].ID != "11573" {
		t.Fatalf("got %s", describe(hits))
	}
	for _, h := range hits {
		if h.ID == "16000" {
			t.Errorf("a word after the cut matched: %s", describe(hits))
		}
	}
	// Many words: only the first maxQueryWords count, and the answer stays sane.
	hits = ix.Search(strings.Repeat("boulanger patissier ", 40), 3)
	if len(hits) == 0 || hits[0].ID != "11574" {
		t.Errorf("repeated words: got %s", describe(hits))
	}
}

func TestSearchVeryLongLabel(t *testing.T) {
	t.Parallel()
	words := make([]string, 100)
	for i := range words {
		words[i] = fmt.Sprintf("mot%03d", i)
	}
	words[99] = "zygomatique"
	ix := Build([]Entry{{"long", strings.Join(words, " "), 0}, {"short", "Maçon / Maçonne", 0}})
	assertTop(t, ix.Search("mot001 mot002", 5), "long")
	// Words past the first maxLabelWords distinct ones are not indexed.
	if hits := ix.Search("zygomatique", 5); len(hits) != 0 {
		t.Errorf("got %s", describe(hits))
	}
}

func TestSearchDeterministic(t *testing.T) {
	t.Parallel()
	want := searchAll(Build(appellations))
	for seed := range uint64(5) {
		shuffled := slices.Clone(appellations)
		rand.New(rand.NewPCG(seed, 42)).Shuffle(len(shuffled), func(i, j int) {
			shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
		})
		if got := searchAll(Build(shuffled)); !slices.Equal(got, want) {
			t.Fatalf("seed %d: results depend on the entries' order", seed)
		}
	}
}

func TestSearchConcurrent(t *testing.T) {
	t.Parallel()
	ix := Build(appellations)
	want := searchAll(ix)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if got := searchAll(ix); !slices.Equal(got, want) {
					errs <- "concurrent searches disagree with a sequential one"
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"Boulanger / Boulangère", "boulanger boulangere"},
		{"ÉLECTRICIEN", "electricien"},
		{"Œnologue", "oenologue"},
		{"Cæcum", "caecum"},
		{"Garçon de café", "garcon de cafe"},
		{"Conducteur / Conductrice d'engins agricoles", "conducteur conductrice d engins agricoles"},
		{"Aide-soignant l’après-midi", "aide soignant l apres midi"},
		{"Diplômé(e) d'État (IBODE)", "diplome d etat ibode"},
		{"site(s) de vente", "site de vente"},
		{"Infirmier(IADE)", "infirmier iade"},         // an acronym, not a suffix
		{"Agent(surveillance)", "agent surveillance"}, // too long for a suffix
		{"plastique/caoutchouc", "plastique caoutchouc"},
		{"Cafe\u0301", "cafe"}, // decomposed accent
		{"Straße", "strasse"},
		{"  \t ", ""},
		{"BTS 2ème année", "bts 2eme annee"},
	} {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLabelKey(t *testing.T) {
	t.Parallel()
	same := [][2]string{
		{"Boulanger / Boulangère", "boulangère / BOULANGER"},
		{"Boulanger / Boulangère", "Boulanger/ Boulangère"},
		{"Aide-soignant / Aide-soignante", "aide soignante / aide soignant"},
		{"Développeur / Développeuse web", "Developpeuse web / Developpeur"},
		{"Œnologue", "oenologue"},
		// The shared words written once, after either form, or spelled out on both.
		{"Développeur / Développeuse informatique", "Développeuse / Développeur informatique"},
		{"Développeur / Développeuse informatique", "Développeur informatique / Développeuse informatique"},
	}
	for _, p := range same {
		if a, b := LabelKey(p[0]), LabelKey(p[1]); a != b {
			t.Errorf("LabelKey(%q) = %q, LabelKey(%q) = %q, want equal", p[0], a, p[1], b)
		}
	}
	different := [][2]string{
		{"Boulanger / Boulangère", "Boulanger-pâtissier / Boulangère-pâtissière"},
		{"Développeur / Développeuse web", "Développeur / Développeuse web mobile"},
		// A slash glued between words is not a gender alternative.
		{"Atelier plastique/caoutchouc", "Atelier caoutchouc/plastique"},
	}
	for _, p := range different {
		if a, b := LabelKey(p[0]), LabelKey(p[1]); a == b {
			t.Errorf("LabelKey(%q) = LabelKey(%q) = %q, want different", p[0], p[1], a)
		}
	}
	if got, want := LabelKey("Boulangère / Boulanger"), "boulanger / boulangere"; got != want {
		t.Errorf("LabelKey = %q, want %q", got, want)
	}
}

func TestReadLabel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		label string
		want  []string
	}{
		{"Aide à domicile", []string{"aide domicile"}},
		{"Boulanger / Boulangère", []string{"boulanger", "boulangere"}},
		{"Conducteur / Conductrice d'engins agricoles", []string{"conducteur engins agricoles", "conductrice engins agricoles"}},
		{"Aide-soignant hospitalier / Aide-soignante hospitalière", []string{"aide soignant hospitalier", "aide soignante hospitaliere"}},
		{"Artiste Plasticien / Plasticienne", []string{"artiste plasticien", "artiste plasticienne"}},
		{"Médecin Anesthésiste Réanimateur / Réanimatrice (MAR)", []string{"medecin anesthesiste reanimateur mar", "medecin anesthesiste reanimatrice mar"}},
		{"Responsable plate-forme expédition / Livraison", []string{"responsable plate forme expedition", "responsable plate forme livraison"}},
		{"Comptable / Comptable", []string{"comptable"}},
	} {
		var got []string
		for _, words := range readLabel(tc.label) {
			got = append(got, strings.Join(words, " "))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("readLabel(%q) = %q, want %q", tc.label, got, tc.want)
		}
	}
}

func TestOSA(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b    string
		k, want int
	}{
		{"boulanger", "boulanger", 2, 0},
		{"boulanjer", "boulanger", 2, 1},
		{"infrimier", "infirmier", 2, 1}, // transposition
		{"pattissier", "patissier", 2, 1},
		{"developeur", "developpeur", 2, 1},
		{"boulanger", "boulangerie", 2, 2},
		{"abc", "xyz", 1, 2},                // capped at k+1
		{"conducteur", "conductrice", 2, 3}, // too far
		{"garçon", "garcon", 1, 1},
	} {
		if got := osa([]rune(tc.a), []rune(tc.b), tc.k); got != tc.want {
			t.Errorf("osa(%q, %q, %d) = %d, want %d", tc.a, tc.b, tc.k, got, tc.want)
		}
	}
}

// The banded osa agrees with the whole dynamic programme on random words close to each
// other (a few edits apart), the case the band must not cut short.
func TestOSABandMatchesTheFullDistance(t *testing.T) {
	t.Parallel()
	full := func(a, b []rune) int {
		d := make([][]int, len(a)+1)
		for i := range d {
			d[i] = make([]int, len(b)+1)
			d[i][0] = i
		}
		for j := range d[0] {
			d[0][j] = j
		}
		for i := 1; i <= len(a); i++ {
			for j := 1; j <= len(b); j++ {
				cost := 1
				if a[i-1] == b[j-1] {
					cost = 0
				}
				d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
				if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
					d[i][j] = min(d[i][j], d[i-2][j-2]+1)
				}
			}
		}
		return d[len(a)][len(b)]
	}
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(n int) []rune {
		w := make([]rune, n)
		for i := range w {
			w[i] = rune('a' + rng.IntN(4)) // a small alphabet: many near matches
		}
		return w
	}
	for range 20000 {
		a := word(1 + rng.IntN(14))
		b := slices.Clone(a)
		for range rng.IntN(5) { // a few random edits
			switch i := rng.IntN(len(b) + 1); rng.IntN(3) {
			case 0:
				b = slices.Insert(b, i, rune('a'+rng.IntN(4)))
			case 1:
				if i < len(b) {
					b = slices.Delete(b, i, i+1)
				}
			default:
				if i+1 < len(b) {
					b[i], b[i+1] = b[i+1], b[i]
				}
			}
		}
		for k := 0; k <= 2; k++ {
			want := min(full(a, b), k+1)
			if got := osa(a, b, k); got != want {
				t.Fatalf("osa(%q, %q, %d) = %d, the full distance says %d", string(a), string(b), k, got, want)
			}
		}
	}
}

func searchAll(ix *Index) []string {
	var out []string
	for _, tc := range firstHits {
		for _, h := range ix.Search(tc.query, 10) {
			out = append(out, fmt.Sprintf("%s %s %v", tc.query, h.ID, h.Score))
		}
	}
	return out
}

// assertTop checks that the hits start with ids, in that order.
func assertTop(t *testing.T, hits []Hit, ids ...string) {
	t.Helper()
	got := make([]string, min(len(hits), len(ids)))
	for i := range got {
		got[i] = hits[i].ID
	}
	if !slices.Equal(got, ids) {
		t.Errorf("got %s, want IDs %v", describe(hits), ids)
	}
}

func describe(hits []Hit) string {
	if len(hits) == 0 {
		return "no hits"
	}
	parts := make([]string, len(hits))
	for i, h := range hits {
		parts[i] = fmt.Sprintf("%s %q %.4f", h.ID, labelOf(h.ID), h.Score)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func labelOf(id string) string {
	for _, e := range appellations {
		if e.ID == id {
			return e.Label
		}
	}
	return ""
}

// syntheticLabels combines realistic words into n distinct appellation-like labels.
func syntheticLabels(n int) []Entry {
	heads := [][2]string{
		{"Technicien", "Technicienne"}, {"Agent", "Agente"}, {"Conducteur", "Conductrice"}, {"Opérateur", "Opératrice"},
		{"Chef", "Cheffe"}, {"Ingénieur", "Ingénieure"}, {"Directeur", "Directrice"}, {"Assistant", "Assistante"},
		{"Conseiller", "Conseillère"}, {"Monteur", "Monteuse"}, {"Mécanicien", "Mécanicienne"}, {"Électricien", "Électricienne"},
		{"Responsable", "Responsable"}, {"Chargé", "Chargée"}, {"Animateur", "Animatrice"}, {"Vendeur", "Vendeuse"},
		{"Contrôleur", "Contrôleuse"}, {"Formateur", "Formatrice"}, {"Régleur", "Régleuse"}, {"Dessinateur", "Dessinatrice"},
		{"Développeur", "Développeuse"}, {"Infirmier", "Infirmière"}, {"Préparateur", "Préparatrice"}, {"Gestionnaire", "Gestionnaire"},
		{"Inspecteur", "Inspectrice"}, {"Coordinateur", "Coordinatrice"}, {"Soudeur", "Soudeuse"}, {"Magasinier", "Magasinière"},
		{"Pilote", "Pilote"}, {"Cuisinier", "Cuisinière"}, {"Boulanger", "Boulangère"}, {"Ouvrier", "Ouvrière"},
	}
	activities := []string{
		"de maintenance", "de production", "d'exploitation", "de fabrication", "de contrôle qualité", "de logistique",
		"d'atelier", "de chantier", "de laboratoire", "de bureau d'études", "de service après-vente", "de planification",
		"d'installation", "de méthodes", "de réseau", "de sécurité", "d'entretien", "de montage", "de conditionnement",
		"de réparation", "de vente", "de clientèle", "de travaux", "d'études",
	}
	domains := []string{
		"en industrie", "automobile", "agroalimentaire", "aéronautique", "ferroviaire", "en bâtiment", "navale",
		"en électronique", "en chimie", "en plasturgie", "en métallurgie", "informatique", "en énergie", "textile",
		"en imprimerie", "pharmaceutique", "en télécommunications", "nucléaire", "en environnement", "hospitalier",
		"forestier", "portuaire", "de restauration", "en boulangerie",
	}
	entries := make([]Entry, 0, n)
	for i := 0; len(entries) < n; i++ {
		h := heads[i%len(heads)]
		a := activities[(i/len(heads))%len(activities)]
		d := domains[(i/(len(heads)*len(activities)))%len(domains)]
		label := fmt.Sprintf("%s / %s %s %s", h[0], h[1], a, d)
		if i >= len(heads)*len(activities)*len(domains) {
			label += fmt.Sprintf(" niveau %d", i/(len(heads)*len(activities)*len(domains)))
		}
		entries = append(entries, Entry{ID: fmt.Sprint(100000 + i), Label: label, Boost: float64(i%3) / 2})
	}
	return entries
}

var benchQueries = []string{
	"technicien maintenance", "technicienne de maintenance industrielle", "boulanjer", "conducteur", "mecanicien auto",
	"developeur informatique", "infirmiere hospitaliere", "agent d'entretien", "ingenieur aeronautique", "soudeur naval",
	"chef de chantier", "opératrice de production agroalimentaire", "magasiniere logistique", "respon", "co",
	"electricien batiment", "controleur qualite pharmaceutique", "xyzzy",
}

// BenchmarkSearch reports the mean latency over a mix of queries, then per query.
func BenchmarkSearch(b *testing.B) {
	ix := Build(syntheticLabels(15000))
	b.Run("mix", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			ix.Search(benchQueries[i%len(benchQueries)], 20)
		}
	})
	for _, q := range benchQueries {
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				ix.Search(q, 20)
			}
		})
	}
}

func BenchmarkBuild(b *testing.B) {
	entries := syntheticLabels(18000)
	b.ReportAllocs()
	for b.Loop() {
		Build(entries)
	}
}

// BenchmarkOSAPairs times the typo distance between every pair of some long words, most of
// them more than two edits apart (the common case of the typo matching's hot loop).
func BenchmarkOSAPairs(b *testing.B) {
	var words [][]rune
	for _, w := range strings.Fields("technicien maintenance secretaire ingenieur securite electricien patissier magasinier " +
		"conducteur auxiliaire mecanicien commercial professeur educateur assistant menuisier logisticien comptable infirmier boulanger") {
		words = append(words, []rune(w))
	}
	for b.Loop() {
		for _, a := range words {
			for _, c := range words {
				osa(a, c, 2)
			}
		}
	}
}
