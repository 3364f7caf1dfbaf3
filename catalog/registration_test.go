package catalog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Each bad registration in testdata/registrations starts with a comment
// "# want: <text>": the error must contain that text, which names the file,
// the field and what to do.
func TestParseRegistrationErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/registrations/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		if strings.HasPrefix(name, "good_") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(data), "\n")
			want, ok := strings.CutPrefix(first, "# want: ")
			if !ok {
				t.Fatalf("%s has no '# want:' first line", path)
			}
			_, err = ParseRegistration(name, data)
			if err == nil {
				t.Fatalf("ParseRegistration accepted %s", name)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error\n  %v\ndoes not contain\n  %s", err, want)
			}
			if !strings.HasPrefix(err.Error(), name) {
				t.Errorf("error does not start with the file name: %v", err)
			}
		})
	}
}

func TestParseRegistrationFull(t *testing.T) {
	data, err := os.ReadFile("testdata/registrations/good_full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseRegistration("good_full.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != "drees.ivg_mineures" || d.SchemaName() != "drees" || d.TableName() != "ivg_mineures" {
		t.Errorf("id = %q (%q, %q)", d.ID, d.SchemaName(), d.TableName())
	}
	if d.Access != Public || d.Contract != Evolve || d.Frequency != "yearly" || d.Schedule != "0 6 * * 1" {
		t.Errorf("got %+v", d)
	}
	if d.Source.Kind != "csv" || !strings.Contains(string(d.Source.Options), `"decimal":","`) {
		t.Errorf("source = %s %s", d.Source.Kind, d.Source.Options)
	}
	if d.Schema == nil || len(d.Schema.Fields) != 2 || !d.Schema.Fields[0].Constraints.Required || d.Schema.Fields[1].Type != "number" {
		t.Errorf("schema = %+v", d.Schema)
	}
	if !strings.Contains(d.Description, "mineures") {
		t.Errorf("description = %q", d.Description)
	}
}

// Several bad fields are all reported at once, so that a user fixes them in
// one go.
func TestParseRegistrationReportsEveryField(t *testing.T) {
	_, err := ParseRegistration("x.yaml", []byte("id: X\naccess: secret\nsource: {kind: csv}\n"))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, field := range []string{"field id", "field title", "field publisher", "field access"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error does not name %s: %v", field, err)
		}
	}
}

func TestLevels(t *testing.T) {
	if Max() != Public || Max(Public, NonPublic, Restricted) != NonPublic {
		t.Error("Max is wrong")
	}
	for _, l := range Levels() {
		p, err := ParseLevel(l.String())
		if err != nil || p != l {
			t.Errorf("ParseLevel(%s) = %v, %v", l, p, err)
		}
	}
	if NonPublic.URI() != "http://publications.europa.eu/resource/authority/access-right/NON_PUBLIC" {
		t.Error(NonPublic.URI())
	}
	if _, err := ParseLevel("open"); !errors.Is(err, ErrBadLevel) {
		t.Errorf("ParseLevel(open) = %v", err)
	}
}
