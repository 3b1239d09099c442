package otree

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
)

//go:embed assets
var assets embed.FS

// Base templates: the layout with the form body, and with the wait body.
var (
	baseForm = template.Must(template.ParseFS(assets, "assets/layout.html", "assets/form.html"))
	baseWait = template.Must(template.ParseFS(assets, "assets/layout.html", "assets/wait.html"))
)

var defineRE = regexp.MustCompile(`\{\{-?\s*(define|block)\s`)

// loadTemplates parses each page's template from the app's file system, or
// gives the page a generated one. Files whose names start with "_" are
// partials, parsed into every page so that pages can include them. Fields
// the templates read are checked against types.
func loadTemplates(spec *appSpec, types dataTypes) error {
	files, err := templateFiles(spec.templates)
	if err != nil {
		return err
	}
	used := map[string]bool{}
	for _, ps := range spec.pages {
		name, explicit := templateName(ps)
		used[name] = true
		if !slices.Contains(files, name) {
			if explicit {
				return fmt.Errorf("page %s: template %s not found in Templates", ps.name, name)
			}
			ps.tmpl, err = generated(ps)
		} else {
			ps.tmpl, err = parsePage(spec.templates, ps, name, files)
		}
		if err == nil {
			err = checkFields(ps, types)
		}
		if err != nil {
			return fmt.Errorf("page %s: template %s: %w", ps.name, name, err)
		}
	}
	for _, f := range files {
		if !used[f] && !strings.HasPrefix(path.Base(f), "_") {
			return fmt.Errorf("template %s belongs to no page (name partials _%s)",
				f, path.Base(f))
		}
	}
	return nil
}

// templateFiles lists the .html files at the root of fsys.
func templateFiles(fsys fs.FS) ([]string, error) {
	if fsys == nil {
		return nil, nil
	}
	matches, err := fs.Glob(fsys, "*.html")
	if err != nil {
		return nil, fmt.Errorf("read Templates: %w", err)
	}
	return matches, nil
}

// templateName returns the page's template file name, and whether the page
// asked for it with TemplateName.
func templateName(ps *pageSpec) (string, bool) {
	if ps.templateName != "" {
		return ps.templateName, true
	}
	return ps.name + ".html", false
}

func base(ps *pageSpec) *template.Template {
	if ps.isWait() {
		return template.Must(baseWait.Clone())
	}
	return template.Must(baseForm.Clone())
}

// generated gives a page without a template its title and a form of its
// fields.
func generated(ps *pageSpec) (*template.Template, error) {
	t := base(ps)
	title := `{{define "title"}}{{.Title}}{{end}}`
	content := `{{define "content"}}{{.FormFields}}{{.NextButton}}{{end}}`
	if ps.isWait() {
		content = ""
	}
	return t.Parse(title + content)
}

// parsePage parses a page's template file over the base. A file without
// {{define}} blocks is taken as the page's content.
func parsePage(fsys fs.FS, ps *pageSpec, name string, files []string) (*template.Template, error) {
	t := base(ps)
	if _, err := t.Parse(`{{define "title"}}{{.Title}}{{end}}`); err != nil {
		return nil, err
	}
	for _, f := range files {
		if !strings.HasPrefix(path.Base(f), "_") {
			continue
		}
		if err := parseFile(t, fsys, f, f); err != nil {
			return nil, err
		}
	}
	return t, parseFile(t, fsys, name, "")
}

// parseFile adds a template file to t, under its own name for partials or
// as the content block for a page file without blocks. Its templates are
// parsed under the file's name, so that errors name the file.
func parseFile(t *template.Template, fsys fs.FS, file, as string) error {
	b, err := fs.ReadFile(fsys, file)
	if err != nil {
		return err
	}
	text := string(b)
	switch {
	case as != "":
		_, err = t.New(as).Parse(text)
	case defineRE.MatchString(text):
		_, err = t.New(file).Parse(text)
	default:
		_, err = t.New(file).Parse(`{{define "content"}}` + text + `{{end}}`)
	}
	if err != nil {
		return err
	}
	if as == "" && t.Lookup("content") == nil {
		return errors.New(`it defines no "content" block`)
	}
	return nil
}

// templateName reads the page's TemplateName method, if it has one.
func (b binder[S, G, P]) templateName(ps *pageSpec) error {
	h, ok := b.page.(interface{ TemplateName() string })
	if !ok {
		if b.has("TemplateName") {
			return fmt.Errorf("method TemplateName must be func() string")
		}
		return nil
	}
	ps.templateName = h.TemplateName()
	if ps.templateName == "" {
		return fmt.Errorf("TemplateName returned an empty name")
	}
	return nil
}
