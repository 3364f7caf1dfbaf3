package connectors

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// ColumnName turns a source header into a lower-case ASCII snake_case name
// that notebooks can write without quotes: "Date de dépôt" -> date_de_depot,
// "Montant accordé (€)" -> montant_accorde. Accents are dropped, every other
// run of non-alphanumeric characters becomes one underscore. A name that
// would start with a digit gets a "col_" prefix; an empty one is "".
func ColumnName(header string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	s, _, err := transform.String(t, header)
	if err != nil {
		s = header
	}
	var b strings.Builder
	underscore := false
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			underscore = false
		case r >= 'A' && r <= 'Z':
			b.WriteRune(unicode.ToLower(r))
			underscore = false
		case r == 'œ' || r == 'Œ':
			b.WriteString("oe")
			underscore = false
		case r == 'æ' || r == 'Æ':
			b.WriteString("ae")
			underscore = false
		case r == 'ß':
			b.WriteString("ss")
			underscore = false
		default:
			if !underscore && b.Len() > 0 {
				b.WriteByte('_')
				underscore = true
			}
		}
	}
	name := strings.TrimRight(b.String(), "_")
	if name != "" && name[0] >= '0' && name[0] <= '9' {
		name = "col_" + name
	}
	return name
}

// ColumnNames names every header with ColumnName, then makes the names
// unique and non-empty: an empty name becomes column_<n> (1-based), and a
// repeated one gets _2, _3, ... in order.
func ColumnNames(headers []string) []string {
	names := make([]string, len(headers))
	seen := make(map[string]bool, len(headers))
	for i, h := range headers {
		name := ColumnName(h)
		if name == "" {
			name = "column_" + strconv.Itoa(i+1)
		}
		base := name
		for n := 2; seen[name]; n++ {
			name = base + "_" + strconv.Itoa(n)
		}
		seen[name] = true
		names[i] = name
	}
	return names
}
