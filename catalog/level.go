package catalog

import (
	"fmt"
	"strings"
)

// Level is an access level from the EU access-right vocabulary, ordered from
// least to most protected: Public < Restricted < NonPublic. Whatever is
// derived from inputs has at least the highest level among them.
type Level int

// The access levels. The zero Level is not valid: a registration must say.
const (
	Public Level = iota + 1
	Restricted
	NonPublic
)

var levelNames = map[Level]string{Public: "public", Restricted: "restricted", NonPublic: "non_public"}

// Levels lists every level, from the least to the most protected.
func Levels() []Level { return []Level{Public, Restricted, NonPublic} }

// ParseLevel reads a level's name: public, restricted or non_public.
func ParseLevel(s string) (Level, error) {
	for l, name := range levelNames {
		if strings.EqualFold(strings.TrimSpace(s), name) {
			return l, nil
		}
	}
	return 0, fmt.Errorf("%w: %q; use public, restricted or non_public", ErrBadLevel, s)
}

// String returns the level's name as written in registrations and folders.
func (l Level) String() string {
	if name, ok := levelNames[l]; ok {
		return name
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// Valid reports whether l is one of the three levels.
func (l Level) Valid() bool { _, ok := levelNames[l]; return ok }

// URI returns the level's EU access-right authority URI, as DCAT-AP's
// dct:accessRights wants it.
func (l Level) URI() string {
	suffix := strings.ToUpper(l.String())
	return "http://publications.europa.eu/resource/authority/access-right/" + suffix
}

// MarshalText writes the level's name.
func (l Level) MarshalText() ([]byte, error) {
	if !l.Valid() {
		return nil, fmt.Errorf("%w: %d", ErrBadLevel, int(l))
	}
	return []byte(l.String()), nil
}

// UnmarshalText reads a level's name.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Max returns the most protected of levels, and Public when there is none:
// the level of what is derived from them.
func Max(levels ...Level) Level {
	m := Public
	for _, l := range levels {
		if l > m {
			m = l
		}
	}
	return m
}
