package ui

// The import of people from a CSV file (admins): the file is first checked by the intake's
// dry run, which says what each line would do; the admin then confirms, and the same file
// (carried by the confirmation form, base64-encoded) is imported, all or none.

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/services/console/internal/backend"
)

const (
	// maxImportFile is the intake's own bound of an import's body.
	maxImportFile = 2 << 20
	// maxImportForm bounds the import's forms: the file, base64-encoded in the confirmation,
	// with room for the other fields.
	maxImportForm = 3 << 20
	// maxReportLines bounds the lines the report lists when none is refused (the refused
	// ones are always all listed: they are what the admin must correct).
	maxReportLines = 100
)

type importData struct {
	Errors fieldErrors
	// Report is the dry run's or the import's answer; nil before a file is sent.
	Report *backend.ImportReport
	// Refused: the file is refused, nothing was (or would be) imported.
	Refused bool
	// Lines are the lines listed; Hidden how many others were left out.
	Lines  []backend.ImportLine
	Hidden int
	// Content is the checked file, base64-encoded, for the confirmation; FileName its name.
	Content, FileName string
	// Alert explains why a confirmed import was refused.
	Alert string
}

func (h *handlers) renderImport(c *gin.Context, status int, d importData, alert string) {
	if d.Errors == nil {
		d.Errors = fieldErrors{}
	}
	d.Alert = alert
	title := "Importer des personnes"
	switch {
	case d.Report != nil && d.Report.DryRun:
		title = "Importer des personnes : vérification"
	case d.Report != nil:
		title = "Importer des personnes : résultat"
	}
	h.render(c, status, "people_import", view{Title: title, Section: "administration", Data: d})
}

// withReport lists the report's lines: the refused ones when there are, else the first ones.
func (d importData) withReport(r backend.ImportReport) importData {
	d.Report = &r
	refused := slices.DeleteFunc(slices.Clone(r.Lines), func(l backend.ImportLine) bool { return l.Outcome != backend.ImportRefused })
	d.Refused, d.Lines = len(refused) > 0, refused
	if !d.Refused {
		d.Lines = r.Lines[:min(len(r.Lines), maxReportLines)]
	}
	d.Hidden = len(r.Lines) - len(d.Lines)
	return d
}

func (h *handlers) importPage(c *gin.Context) {
	h.renderImport(c, http.StatusOK, importData{}, "")
}

// importCheck runs the dry run of the file sent.
func (h *handlers) importCheck(c *gin.Context) {
	d := importData{Errors: fieldErrors{}}
	file, name, msg := uploadedFile(c, "fichier")
	if msg != "" {
		d.Errors.add("fichier", msg)
		h.renderImport(c, http.StatusUnprocessableEntity, d, "")
		return
	}
	d.FileName = name
	report, err := h.Backend.Intake.ImportPeople(c.Request.Context(), file, true)
	if err == nil {
		d = d.withReport(report)
		d.Content = base64.StdEncoding.EncodeToString(file)
		h.renderImport(c, http.StatusOK, d, "")
		return
	}
	h.importRefused(c, err, d, report, "")
}

// importConfirm imports the file the dry run checked.
func (h *handlers) importConfirm(c *gin.Context) {
	file, err := base64.StdEncoding.DecodeString(c.PostForm("contenu"))
	if err != nil || len(file) == 0 || len(file) > maxImportFile {
		h.errorPage(c, http.StatusBadRequest, pageError{Detail: "Le fichier à importer manque ou est illisible : envoyez-le à nouveau.",
			Back: "/administration/personnes/import", BackLabel: "Importer un fichier"})
		return
	}
	d := importData{FileName: c.PostForm("nom")}
	report, err := h.Backend.Intake.ImportPeople(c.Request.Context(), file, false)
	if err == nil {
		h.renderImport(c, http.StatusOK, d.withReport(report), "")
		return
	}
	h.importRefused(c, err, d, report, "L'annuaire a changé depuis la vérification du fichier : rien n'a été importé. Voici ce qui bloque désormais ; corrigez le fichier et envoyez-le à nouveau.")
}

// importRefused shows why the intake refused the file: its lines' errors, or what is wrong
// with the file as a whole.
func (h *handlers) importRefused(c *gin.Context, err error, d importData, report backend.ImportReport, alert string) {
	e, ok := backend.AsError(err)
	switch {
	case ok && e.Status == http.StatusUnprocessableEntity && len(report.Lines) > 0:
		h.renderImport(c, http.StatusUnprocessableEntity, d.withReport(report), alert)
	case ok && (e.Status == http.StatusUnprocessableEntity || e.Status == http.StatusRequestEntityTooLarge):
		d.Errors = fieldErrors{"fichier": importFileMessage(e.Detail)}
		h.renderImport(c, http.StatusUnprocessableEntity, d, "")
	default:
		h.backendFailed(c, err)
	}
}

// uploadedFile reads the file of a multipart form's field, or says in French what is wrong.
func uploadedFile(c *gin.Context, field string) (content []byte, name, problem string) {
	fh, err := c.FormFile(field)
	if err != nil {
		return nil, "", "Choisissez le fichier CSV des personnes à importer."
	}
	switch {
	case fh.Size == 0:
		return nil, fh.Filename, "Ce fichier est vide."
	case fh.Size > maxImportFile:
		size := strings.Replace(fmt.Sprintf("%.1f", float64(fh.Size)/(1<<20)), ".", ",", 1)
		return nil, fh.Filename, "Ce fichier pèse " + size + " Mio : 2 Mio au plus. Découpez-le en plusieurs fichiers."
	}
	f, err := fh.Open()
	if err != nil {
		return nil, fh.Filename, "Ce fichier n'a pas pu être lu : envoyez-le à nouveau."
	}
	defer f.Close()
	content, err = io.ReadAll(io.LimitReader(f, maxImportFile))
	if err != nil {
		return nil, fh.Filename, "Ce fichier n'a pas pu être lu : envoyez-le à nouveau."
	}
	return content, fh.Filename, ""
}

// importFileMessages word in French the intake's refusals of a file it could not read.
var importFileMessages = []struct {
	pattern *regexp.Regexp
	french  string
}{
	{regexp.MustCompile(`^The file is not valid CSV: (.*)\.$`), "Ce fichier n'est pas un CSV valide ($1)."},
	{regexp.MustCompile(`^The file has no person`), "Ce fichier ne contient personne : une ligne d'en-tête (sub,name,role,email,org,entraId), puis une personne par ligne."},
	{regexp.MustCompile(`^The file has (\d+) people: at most (\d+) at once\.$`), "Ce fichier compte $1 personnes : $2 au plus par import. Découpez-le en plusieurs fichiers."},
	{regexp.MustCompile(`^Unknown column "(.*)": the columns are (.*)\.$`), "La colonne « $1 » est inconnue : les colonnes sont $2."},
	{regexp.MustCompile(`^The header line lacks the column "(.*)"\.$`), "La ligne d'en-tête n'a pas la colonne « $1 », qui est obligatoire."},
}

func importFileMessage(detail string) string {
	for _, m := range importFileMessages {
		if m.pattern.MatchString(detail) {
			return m.pattern.ReplaceAllString(detail, m.french)
		}
	}
	return "Ce fichier est refusé : " + detail
}

// limitUpload refuses a form bigger than n bytes before anything reads it (the session's
// CSRF check reads the form).
func (h *handlers) limitUpload(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > n {
			h.errorPage(c, http.StatusRequestEntityTooLarge, pageError{Detail: "Un fichier d'import pèse 2 Mio au plus : découpez-le en plusieurs fichiers.",
				Back: "/administration/personnes/import", BackLabel: "Importer un fichier"})
			c.Abort()
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
	}
}
