package sqlsource_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/datalab/datalab/connectors"
	"github.com/datalab/datalab/connectors/sqlsource"
)

func TestRowHashIgnoresRowOrder(t *testing.T) {
	sum := func(rows ...string) string {
		h := sqlsource.NewRowHash()
		h.Header([]byte("id int\x00"))
		for _, r := range rows {
			h.Begin()
			h.Write([]byte(r))
			h.End()
		}
		return h.Sum()
	}
	if a, b := sum("1", "2", "3"), sum("3", "1", "2"); a != b {
		t.Errorf("same rows in another order: %s, then %s", a, b)
	}
	if a, b := sum("1", "2"), sum("1", "2", "2"); a == b {
		t.Errorf("a row more, same hash %s", a)
	}
	if a, b := sum("1", "2"), sum("1", "3"); a == b {
		t.Errorf("another value, same hash %s", a)
	}
	// A row written in pieces hashes as the same row in one piece, long
	// rows (past XXH3's 240-byte short path) included.
	long := strings.Repeat("0123456789", 100)
	whole := sqlsource.NewRowHash()
	whole.Header([]byte("id int\x00"))
	whole.AddRow([]byte("1"))
	whole.AddRow([]byte(long))
	if a, b := sum("1", long), whole.Sum(); a != b {
		t.Errorf("AddRow: %s, Begin/Write/End: %s", b, a)
	}
	pieces := sqlsource.NewRowHash()
	pieces.Header([]byte("id int\x00"))
	pieces.AddRow([]byte("1"))
	pieces.Begin()
	for i := 0; i < len(long); i += 7 {
		pieces.Write([]byte(long[i:min(i+7, len(long))]))
	}
	pieces.End()
	if a, b := whole.Sum(), pieces.Sum(); a != b {
		t.Errorf("a row in 7-byte pieces: %s, in one: %s", b, a)
	}
}

func TestRedactorRemovesThePassword(t *testing.T) {
	const secret = "p@ss w/rd"
	red := sqlsource.NewRedactor(secret)
	err := red.Error(fmt.Errorf("dial mysql://u:p%%40ss+w%%2Frd@h: %w", context.DeadlineExceeded))
	if strings.Contains(err.Error(), "p%40ss") || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("error not redacted: %v", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the context's error left the chain: %v", err)
	}
	errConnect := errors.New("cannot connect")
	cerr := red.ConnectError(errConnect, "connect as "+secret, errors.New("refused "+secret))
	if strings.Contains(cerr.Error(), secret) || !errors.Is(cerr, errConnect) {
		t.Errorf("connect error %q: holds the password or does not wrap the sentinel", cerr)
	}
}

func TestResolve(t *testing.T) {
	d := sqlsource.Dialect{Kind: "pg", Name: "PostgreSQL", Qualifier: "schema", PasswordExample: "PW", CursorExample: "id"}
	cases := []struct {
		o     sqlsource.Options
		field string
	}{
		{sqlsource.Options{}, "source.table"},
		{sqlsource.Options{Table: "a.b.c"}, "source.table"},
		{sqlsource.Options{Table: "t", Query: "SELECT 1"}, "source.query"},
		{sqlsource.Options{Table: "t", PasswordEnv: "not a name"}, "source.password_env"},
		{sqlsource.Options{Table: "t", Cursor: " "}, "source.cursor"},
		{sqlsource.Options{Table: "t", PrimaryKey: []string{"id"}}, "source.primary_key"},
		{sqlsource.Options{Table: "t", Cursor: "id", PrimaryKey: []string{"id", "ID"}}, "source.primary_key[1]"},
	}
	for _, c := range cases {
		_, err := d.Resolve(c.o, nil)
		var se *connectors.SpecError
		if !errors.As(err, &se) || se.Field != c.field {
			t.Errorf("Resolve(%+v) = %v, want a refusal of %s", c.o, err, c.field)
		}
	}
	s, err := d.Resolve(sqlsource.Options{Query: " SELECT 1 ;\n", Cursor: "id"}, nil)
	if err != nil || s.Query != "SELECT 1" || s.What != "source.query" || s.Table != nil || !strings.HasPrefix(s.QueryID(), "#query-") {
		t.Errorf("Resolve of a query = %+v, %v", s, err)
	}
}
