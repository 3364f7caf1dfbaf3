package server

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/datalab/datalab/catalog"
	"github.com/datalab/datalab/pipelines"
)

//go:embed templates/*.html.tmpl
var templateFiles embed.FS

// pages are the page templates, each with the layout.
var pages = func() map[string]*template.Template {
	layout := template.Must(template.ParseFS(templateFiles, "templates/layout.html.tmpl"))
	out := map[string]*template.Template{}
	for _, name := range []string{"catalog", "dataset", "runs", "projects", "login", "error"} {
		out[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFiles, "templates/"+name+".html.tmpl"))
	}
	return out
}()

// layoutData is what every page shows around its content.
type layoutData struct {
	// Title is the page's h1 and the start of its <title>.
	Title string
	// Section is the menu entry of the page, marked aria-current.
	Section string
	Admin   bool
	// CanSignIn is set when the server has a token to sign in with.
	CanSignIn bool
	// Path is the page's own path, for the sign-in form to come back to.
	Path    string
	Content any
}

// render writes a page; the page is built whole before a byte is sent, so
// that an error is an error page, not half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name, title, section string, content any) {
	var buf bytes.Buffer
	data := layoutData{Title: title, Section: section, Admin: s.isAdmin(r), CanSignIn: s.opts.AdminToken != "",
		Path: r.URL.RequestURI(), Content: content}
	if section == "login" || strings.HasPrefix(data.Path, "/login") {
		data.Path = "/" // the sign-in page comes back to the catalog, never to itself
	}
	if err := pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.Error().Err(err).Str("page", name).Msg("render")
		http.Error(w, "the page could not be drawn: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	if data.Admin {
		h.Set("Cache-Control", "private, no-store")
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorPage is the content of an error page.
type errorPage struct {
	Status       int
	Message, Fix string
	// SignIn offers to sign in and come back.
	SignIn string
}

func (s *server) pageError(w http.ResponseWriter, r *http.Request, status int, msg, fix string) {
	s.render(w, r, status, "error", http.StatusText(status), "", errorPage{Status: status, Message: msg, Fix: fix})
}

func (s *server) pageInternal(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error().Err(err).Str("path", r.URL.Path).Msg("page failed")
	s.pageError(w, r, http.StatusInternalServerError, "La page n’a pas pu être construite : "+err.Error(), "Réessayer ; si l’erreur persiste, lire le journal de datalab serve.")
}

func (s *server) pageNotFound(w http.ResponseWriter, r *http.Request) {
	s.pageError(w, r, http.StatusNotFound, "Cette page n’existe pas : "+r.URL.Path, "Le catalogue liste les jeux de données ; le menu mène aux exécutions et aux projets.")
}

type option struct {
	Value, Label string
	Selected     bool
}

type catalogPage struct {
	Q, Level, Publisher string
	Levels, Publishers  []option
	Rows                []catalogRow
	Filtered            bool
	Summary             string
	Problem             string
}

type catalogRow struct {
	ID, URL, Title, Publisher, Frequency string
	Level                                badge
	LastLoad, LastLoadISO, Rows          string
	Status                               *status
}

func (s *server) pageCatalog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := catalogPage{Q: q.Get("q"), Level: q.Get("level"), Publisher: q.Get("publisher")}
	level, err := queryLevel(p.Level)
	if err != nil {
		p.Problem = "Niveau d’accès inconnu : « " + p.Level + " » ; tous les niveaux sont montrés."
		p.Level, level = "", 0
	}
	p.Filtered = p.Q != "" || p.Level != "" || p.Publisher != ""
	es, publishers, err := s.entries(r.Context(), datasetFilter{Level: level, Publisher: p.Publisher, Text: p.Q})
	if err != nil {
		s.pageInternal(w, r, err)
		return
	}
	all, _, err := s.entries(r.Context(), datasetFilter{})
	if err != nil {
		s.pageInternal(w, r, err)
		return
	}
	for _, l := range catalog.Levels() {
		p.Levels = append(p.Levels, option{Value: l.String(), Label: levelOption(l), Selected: l == level})
	}
	for _, pub := range publishers {
		p.Publishers = append(p.Publishers, option{Value: pub, Label: pub, Selected: strings.EqualFold(pub, p.Publisher)})
	}
	for _, e := range es {
		row := catalogRow{ID: e.d.ID, URL: "/datasets/" + url.PathEscape(e.d.ID), Title: e.d.Title, Publisher: e.d.Publisher,
			Frequency: frequencyLabel(e.d.Frequency), Level: levelBadge(e.d.Access)}
		if row.Frequency == "" {
			row.Frequency = "non précisée"
		}
		if e.last != nil {
			st := statusOf(e.last.Status)
			row.Status = &st
			row.LastLoad, row.LastLoadISO = shortDateTime(e.last.StartedAt), isoTime(e.last.StartedAt)
		}
		if e.current != nil {
			row.Rows = plural(e.current.Rows, "ligne", "lignes")
		}
		p.Rows = append(p.Rows, row)
	}
	switch {
	case len(all) == 0:
		p.Summary = "Aucun jeu de données n’est enregistré : `datalab dataset register datasets/<id>.yaml` en ajoute un."
	case p.Filtered:
		p.Summary = fmt.Sprintf("%s sur %d correspondent aux critères.", plural(int64(len(es)), "jeu de données", "jeux de données"), len(all))
	default:
		p.Summary = plural(int64(len(all)), "jeu de données enregistré.", "jeux de données enregistrés.")
	}
	s.render(w, r, http.StatusOK, "catalog", "Catalogue des données", "catalog", p)
}

type fact struct {
	Term, Value string
	Code        bool
	Link        string
}

type datasetPage struct {
	ID, Title, Description string
	Level                  badge
	Facts                  []fact
	Columns                []columnRow
	ColumnsFrom            string
	Snapshots              []snapshotRow
	Withheld               bool
	Quality                []findingRow
	Lineage                *lineageView
	Public                 bool
	SourceURL              string
	Contact                string
}

type columnRow struct {
	Name, Title, Loaded, Declared, Constraints, Description string
}

type snapshotRow struct {
	ID, Started, StartedISO, Duration, Rows, Rejected, Hash, FullHash, Error string
	Status                                                                   status
	Withheld                                                                 bool
}

type findingRow struct {
	Class, Label, Message string
}

var severityLabels = map[string]string{"error": "Erreur", "warning": "Attention", "info": "Détail"}

func (s *server) pageDataset(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	d, err := s.ws.Catalog.Dataset(r.Context(), id)
	if errors.Is(err, catalog.ErrNotFound) {
		s.pageError(w, r, http.StatusNotFound, fmt.Sprintf("Aucun jeu de données « %s » dans le catalogue.", id), "Le catalogue liste les jeux de données enregistrés.")
		return
	}
	if err != nil {
		s.pageInternal(w, r, err)
		return
	}
	e, err := s.entry(r.Context(), d)
	if err != nil {
		s.pageInternal(w, r, err)
		return
	}
	p := datasetPage{ID: d.ID, Title: d.Title, Description: d.Description, Level: levelBadge(d.Access), Public: d.Access == catalog.Public,
		Contact: d.Contact, SourceURL: catalog.PublicURL(d)}
	add := func(term, value string, code bool) {
		if value != "" {
			p.Facts = append(p.Facts, fact{Term: term, Value: value, Code: code})
		}
	}
	add("Identifiant", d.ID, true)
	add("Producteur", d.Publisher, false)
	if d.Contact != "" {
		p.Facts = append(p.Facts, fact{Term: "Contact", Value: d.Contact, Link: "mailto:" + d.Contact})
	}
	p.Facts = append(p.Facts, fact{Term: "Niveau d’accès", Value: p.Level.Label + " (" + d.Access.String() + ") : " + p.Level.Meaning})
	add("Droit d’accès (vocabulaire européen)", d.Access.URI(), true)
	add("Licence", d.License, false)
	add("Fréquence de mise à jour", frequencyLabel(d.Frequency), false)
	add("Planification du chargement", d.Schedule, true)
	add("Source", d.Source.Kind, true)
	add("Contrat", string(d.Contract), true)
	add("Enregistrement", d.File, true)
	if d.File == "" {
		add("Enregistrement", "reçu par l’API", false)
	}
	add("Enregistré le", frenchDateTime(d.RegisteredAt), false)
	add("Modifié le", frenchDateTime(d.UpdatedAt), false)

	// Columns: those loaded, with what the registration declares.
	declared := map[string]catalog.Field{}
	if d.Schema != nil {
		for _, f := range d.Schema.Fields {
			declared[f.Name] = f
		}
	}
	var seen []string
	if e.current != nil {
		p.ColumnsFrom = fmt.Sprintf("instantané %d", e.current.ID)
		for _, c := range e.current.Columns {
			row := columnRow{Name: c.Name, Title: c.Title, Loaded: c.Type}
			if f, ok := declared[c.Name]; ok {
				row.Declared, row.Constraints, row.Description = f.Type, constraintsText(f.Constraints), f.Description
				if row.Title == "" {
					row.Title = f.Title
				}
			}
			seen = append(seen, c.Name)
			p.Columns = append(p.Columns, row)
		}
	}
	if d.Schema != nil {
		for _, f := range d.Schema.Fields {
			if !slices.Contains(seen, f.Name) {
				p.Columns = append(p.Columns, columnRow{Name: f.Name, Title: f.Title, Loaded: "non chargée", Declared: f.Type,
					Constraints: constraintsText(f.Constraints), Description: f.Description})
			}
		}
	}

	snaps, err := s.ws.Catalog.Snapshots(r.Context(), d.ID, 20)
	if err != nil {
		s.pageInternal(w, r, err)
		return
	}
	for _, snap := range snaps {
		row := snapshotRow{ID: strconv.FormatInt(snap.ID, 10), Started: shortDateTime(snap.StartedAt), StartedISO: isoTime(snap.StartedAt),
			Duration: humanDuration(snap.Duration()), Status: statusOf(snap.Status), Hash: pipelines.ShortHash(snap.ContentHash), FullHash: snap.ContentHash}
		if snap.Status == catalog.Succeeded || snap.Status == catalog.Unchanged {
			row.Rows, row.Rejected = formatCount(snap.Rows), formatCount(snap.Rejected)
		}
		if snap.Error != "" {
			if d.Access == catalog.Public {
				row.Error = snap.Error
			} else {
				row.Withheld, p.Withheld = true, true
			}
		}
		p.Snapshots = append(p.Snapshots, row)
	}

	findings, err := s.quality(r.Context(), e)
	if err != nil {
		s.pageInternal(w, r, err)
		return
	}
	for _, f := range findings {
		p.Quality = append(p.Quality, findingRow{Class: "finding " + f.Severity, Label: severityLabels[f.Severity], Message: f.Message})
	}

	g, err := s.ws.Catalog.Graph(r.Context(), catalog.DatasetNode(d.ID))
	switch {
	case err == nil:
		p.Lineage = newLineageView(g)
	case !errors.Is(err, catalog.ErrNotFound):
		s.pageInternal(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "dataset", d.Title, "catalog", p)
}

func constraintsText(c *catalog.Constraints) string {
	if c == nil {
		return ""
	}
	var parts []string
	if c.Required {
		parts = append(parts, "obligatoire")
	}
	if c.Unique {
		parts = append(parts, "unique")
	}
	if c.Pattern != "" {
		parts = append(parts, "motif "+c.Pattern)
	}
	if len(c.Enum) > 0 {
		parts = append(parts, "valeurs : "+strings.Join(c.Enum, ", "))
	}
	if c.Minimum != nil {
		parts = append(parts, "minimum "+strconv.FormatFloat(*c.Minimum, 'g', -1, 64))
	}
	if c.Maximum != nil {
		parts = append(parts, "maximum "+strconv.FormatFloat(*c.Maximum, 'g', -1, 64))
	}
	return strings.Join(parts, " ; ")
}

type runsPage struct {
	Statuses, Kinds, Periods []option
	Rows                     []runRow
	Summary                  string
	Problem                  string
	Withheld                 bool
}

type runRow struct {
	ID, Job, JobURL, Trigger, Cause, Started, StartedISO, Duration, Rows, Attempts, Error string
	Status                                                                                status
	Withheld                                                                              bool
}

func (s *server) pageRuns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := runsPage{}
	f, err := runFilter(r)
	if err != nil {
		p.Problem = "Filtre ignoré : " + err.Error()
		f = catalog.RunFilter{Limit: 100}
	}
	if f.Limit == 0 || q.Get("limit") == "" {
		f.Limit = 100
	}
	for _, st := range catalog.RunStatuses() {
		p.Statuses = append(p.Statuses, option{Value: string(st), Label: statusOf(st).Label, Selected: st == f.Status})
	}
	for _, k := range []string{catalog.KindDataset, catalog.KindPipeline, catalog.KindProject} {
		p.Kinds = append(p.Kinds, option{Value: k, Label: kindLabels[k], Selected: k == f.Kind})
	}
	for _, pe := range []option{{Value: "24h", Label: "dernières 24 heures"}, {Value: "7d", Label: "7 derniers jours"}, {Value: "30d", Label: "30 derniers jours"}} {
		pe.Selected = q.Get("since") == pe.Value
		p.Periods = append(p.Periods, pe)
	}
	runs, err := s.runs(r, f)
	if err != nil {
		s.pageInternal(w, r, err)
		return
	}
	for _, run := range runs {
		row := runRow{ID: strconv.FormatInt(run.ID, 10), Job: string(run.Job), Trigger: triggerLabel(run.Trigger), Cause: run.Cause,
			Started: shortDateTime(run.StartedAt), StartedISO: isoTime(run.StartedAt), Duration: humanDuration(run.Duration()),
			Status: statusOf(run.Status), Attempts: strconv.Itoa(run.Attempts), Error: run.Error, Withheld: run.ErrorWithheld}
		if run.Status == catalog.Succeeded || run.Status == catalog.Unchanged {
			row.Rows = formatCount(run.Rows)
		}
		if run.Job.Kind() == catalog.KindDataset {
			row.JobURL = "/datasets/" + url.PathEscape(run.Job.Name())
		}
		p.Withheld = p.Withheld || run.ErrorWithheld
		p.Rows = append(p.Rows, row)
	}
	switch {
	case len(runs) == 0:
		p.Summary = "Aucune exécution ne correspond. datalab serve enregistre celles qu’il planifie ; datalab ingest et datalab run chargent et calculent sans en enregistrer."
	case len(runs) == f.Limit:
		p.Summary = fmt.Sprintf("Les %d exécutions les plus récentes.", len(runs))
	default:
		p.Summary = plural(int64(len(runs)), "exécution.", "exécutions, de la plus récente à la plus ancienne.")
	}
	s.render(w, r, http.StatusOK, "runs", "Exécutions", "runs", p)
}

type projectsPage struct {
	Projects []projectView
	Admin    bool
}

type projectView struct {
	Name       string
	Notebooks  []notebookView
	Indicators []indicatorRow
	Outputs    []outputView
	Problem    string
}

type notebookView struct {
	Title, Owner, File string
	Publish            badge
}

type indicatorRow struct {
	ID, Label, Unit, Notebook, Direction, Baseline, Target string
	Publish                                                badge
}

type outputView struct {
	Level     badge
	Open      bool
	Generated string
	Files     []fileLink
}

type fileLink struct{ Name, URL string }

func (s *server) pageProjects(w http.ResponseWriter, r *http.Request) {
	ps, err := s.projects(r.Context(), "")
	if err != nil {
		s.pageInternal(w, r, err)
		return
	}
	page := projectsPage{Admin: s.isAdmin(r)}
	num := func(v *float64, unit string) string {
		if v == nil {
			return ""
		}
		t := strings.Replace(strconv.FormatFloat(*v, 'f', -1, 64), ".", ",", 1)
		if unit != "" {
			t += "\u00a0" + unit
		}
		return t
	}
	for _, p := range ps {
		v := projectView{Name: p.Name, Problem: p.Problem}
		for _, nb := range p.Notebooks {
			v.Notebooks = append(v.Notebooks, notebookView{Title: nb.Title, Owner: nb.Owner, File: nb.File, Publish: levelBadge(nb.Publish)})
		}
		for _, ind := range p.Indicators {
			row := indicatorRow{ID: ind.ID, Label: ind.Label, Unit: ind.Unit, Notebook: ind.Notebook, Publish: levelBadge(ind.Publish),
				Baseline: num(ind.Baseline, ind.Unit), Target: num(ind.Target, ind.Unit)}
			switch ind.Direction {
			case "down":
				row.Direction = "baisse souhaitée"
			case "up":
				row.Direction = "hausse souhaitée"
			}
			v.Indicators = append(v.Indicators, row)
		}
		for _, o := range p.Outputs {
			ov := outputView{Level: levelBadge(o.Level), Open: o.Open, Generated: frenchDateTime(o.GeneratedAt)}
			for _, name := range outputFiles {
				if u, ok := o.Files[name]; ok {
					ov.Files = append(ov.Files, fileLink{Name: name, URL: u})
				}
			}
			v.Outputs = append(v.Outputs, ov)
		}
		page.Projects = append(page.Projects, v)
	}
	s.render(w, r, http.StatusOK, "projects", "Projets et indicateurs", "projects", page)
}

// projectReport redirects to the project's least protected report.
func (s *server) projectReport(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("project")
	ps, err := s.projects(r.Context(), name)
	if err != nil {
		s.pageInternal(w, r, err)
		return
	}
	if len(ps) == 1 {
		for _, o := range ps[0].Outputs {
			if u, ok := o.Files[pipelines.ReportHTML]; ok {
				http.Redirect(w, r, u, http.StatusSeeOther)
				return
			}
		}
	}
	s.pageError(w, r, http.StatusNotFound, fmt.Sprintf("Le projet « %s » n’a pas de rapport publié.", name),
		"La page des projets liste ceux qui en ont ; `datalab run "+name+"` calcule le sien.")
}

// output serves a file of out/<level>/<project>/: a public one to anyone,
// the others to the administrator only. Only the four files of a
// publication are served, never through a symbolic link.
func (s *server) output(w http.ResponseWriter, r *http.Request) {
	lvlName, project, file := r.PathValue("level"), r.PathValue("project"), r.PathValue("file")
	level, err := queryLevel(lvlName)
	if err != nil || level == 0 || !projectPattern.MatchString(project) || !slices.Contains(outputFiles, file) {
		s.notFoundFor(w, r, "Aucun fichier publié à cette adresse.")
		return
	}
	if level != catalog.Public {
		if aerr := s.authorize(r, true); aerr != nil {
			s.denied(w, r, aerr, fmt.Sprintf("Les fichiers de niveau %s sont réservés à l’administrateur.", level))
			return
		}
		w.Header().Set("Cache-Control", "private, no-store")
	}
	root := s.ws.Path(s.ws.Config.Output)
	path := filepath.Join(root, level.String(), project, file)
	for _, p := range []string{root, filepath.Dir(filepath.Dir(path)), filepath.Dir(path), path} {
		if info, err := os.Lstat(p); err != nil || info.Mode()&os.ModeSymlink != 0 {
			s.notFoundFor(w, r, fmt.Sprintf("Le projet « %s » n’a pas publié %s au niveau %s.", project, file, level))
			return
		}
	}
	f, err := os.Open(path)
	if err != nil {
		s.notFoundFor(w, r, fmt.Sprintf("Le projet « %s » n’a pas publié %s au niveau %s.", project, file, level))
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		s.notFoundFor(w, r, "Aucun fichier publié à cette adresse.")
		return
	}
	types := map[string]string{".html": "text/html; charset=utf-8", ".csv": "text/csv; charset=utf-8", ".json": "application/json; charset=utf-8"}
	w.Header().Set("Content-Type", types[filepath.Ext(file)])
	http.ServeContent(w, r, file, info.ModTime(), f)
}

// wantsHTML reports whether the client is a browser, which gets pages
// rather than JSON.
func wantsHTML(r *http.Request) bool { return strings.Contains(r.Header.Get("Accept"), "text/html") }

func (s *server) notFoundFor(w http.ResponseWriter, r *http.Request, msg string) {
	if wantsHTML(r) {
		s.pageError(w, r, http.StatusNotFound, msg, "La page des projets liste les fichiers publiés.")
		return
	}
	writeError(w, http.StatusNotFound, "no such output: "+r.URL.Path, "GET /api/projects lists the outputs")
}

// denied answers a request that needs the administrator: a page offering
// to sign in for a browser, the API's error otherwise.
func (s *server) denied(w http.ResponseWriter, r *http.Request, aerr *authError, msg string) {
	if aerr.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="datalab"`)
	}
	if wantsHTML(r) {
		p := errorPage{Status: aerr.status, Message: msg}
		switch {
		case s.opts.AdminToken == "":
			p.Fix = "Ce serveur n’a pas de jeton d’administration (" + AdminTokenEnv + ") : ces fichiers ne sont servis à personne. Ils restent lisibles sur le serveur, dans le dossier des sorties."
		case aerr.status == http.StatusForbidden:
			p.Fix = "Le jeton présenté n’est pas le bon ; se reconnecter."
			p.SignIn = "/login?next=" + url.QueryEscape(r.URL.RequestURI())
		default:
			p.Fix = "Se connecter avec le jeton d’administration pour les lire."
			p.SignIn = "/login?next=" + url.QueryEscape(r.URL.RequestURI())
		}
		s.render(w, r, aerr.status, "error", http.StatusText(aerr.status), "", p)
		return
	}
	writeError(w, aerr.status, aerr.msg, aerr.fix)
}

// sessionCookie holds the administrator's session: a value derived from
// the token, so that the token itself is never stored by the browser.
const sessionCookie = "datalab_session"

type loginPage struct {
	Next, Error string
	Enabled     bool
}

// safeNext keeps a redirection inside the server.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, `/\`) {
		return "/"
	}
	return next
}

func (s *server) pageLogin(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login", "Connexion administrateur", "login",
		loginPage{Next: safeNext(r.URL.Query().Get("next")), Enabled: s.opts.AdminToken != ""})
}

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		s.pageError(w, r, http.StatusRequestEntityTooLarge, "Le formulaire est trop gros.", "Saisir le seul jeton d’administration.")
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	p := loginPage{Next: next, Enabled: s.opts.AdminToken != ""}
	switch {
	case !p.Enabled:
		p.Error = "Ce serveur n’a pas de jeton d’administration : démarrer datalab serve avec " + AdminTokenEnv + " pour activer la connexion."
		s.render(w, r, http.StatusForbidden, "login", "Connexion administrateur", "login", p)
		return
	case !equalSecret(r.PostForm.Get("token"), s.opts.AdminToken):
		p.Error = "Ce jeton n’est pas le bon. Saisir la valeur de " + AdminTokenEnv + " avec laquelle datalab serve a été démarré."
		s.log.Warn().Msg("sign-in with a wrong token")
		s.render(w, r, http.StatusForbidden, "login", "Connexion administrateur", "login", p)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.session, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode, MaxAge: 12 * 3600})
	s.log.Info().Msg("administrator signed in")
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
