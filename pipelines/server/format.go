package server

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/datalab/datalab/catalog"
)

// The pages speak French; these turn the catalog's words and numbers into
// it.

var frenchMonths = []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

// frenchDateTime writes t as "28 novembre 2026 à 15 h 13 UTC".
func frenchDateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return fmt.Sprintf("%s %s %d à %d h %02d UTC", day, frenchMonths[t.Month()-1], t.Year(), t.Hour(), t.Minute())
}

// shortDateTime writes t as "28/11/2026 15:13", for tables.
func shortDateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("02/01/2006 15:04")
}

func isoTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// formatCount writes n with a narrow no-break space between thousands.
func formatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteString("−")
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(r)
	}
	return b.String()
}

func plural(n int64, one, many string) string {
	if n < 2 && n > -2 {
		return formatCount(n) + " " + one
	}
	return formatCount(n) + " " + many
}

// humanDuration writes how long something took: 850 ms, 12,4 s, 3 min 20 s.
func humanDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "\u00a0ms"
	case d < time.Minute:
		return strings.Replace(strconv.FormatFloat(d.Seconds(), 'f', 1, 64), ".", ",", 1) + "\u00a0s"
	case d < time.Hour:
		return fmt.Sprintf("%d\u00a0min %d\u00a0s", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%d\u00a0h %d\u00a0min", int(d.Hours()), int(d.Minutes())%60)
}

// humanAge writes an age in days or hours.
func humanAge(d time.Duration) string {
	if d >= 48*time.Hour {
		return plural(int64(d/(24*time.Hour)), "jour", "jours")
	}
	return plural(int64(d/time.Hour), "heure", "heures")
}

var frequencyLabels = map[string]string{
	"continuous": "continue", "hourly": "toutes les heures", "daily": "quotidienne", "weekly": "hebdomadaire",
	"biweekly": "toutes les deux semaines", "monthly": "mensuelle", "bimonthly": "tous les deux mois",
	"quarterly": "trimestrielle", "semiannual": "semestrielle", "yearly": "annuelle", "irregular": "irrégulière",
	"unknown": "inconnue",
}

func frequencyLabel(f string) string {
	if l, ok := frequencyLabels[f]; ok {
		return l
	}
	return f
}

// badge is a level shown in words, its colour only a second hint.
type badge struct {
	Class, Label, Meaning string
}

func levelBadge(l catalog.Level) badge {
	switch l {
	case catalog.Public:
		return badge{"level public", "Public", "diffusable à tous"}
	case catalog.Restricted:
		return badge{"level restricted", "Restreint", "réservé aux agents habilités, sous conditions"}
	case catalog.NonPublic:
		return badge{"level non-public", "Non public", "non communicable : données personnelles ou secrets protégés par la loi"}
	}
	return badge{"level", l.String(), ""}
}

// levelOption is the French name of a level in the filters.
func levelOption(l catalog.Level) string { return levelBadge(l).Label }

// status is a snapshot's or run's status in words.
type status struct {
	Class, Label string
}

var statusLabels = map[catalog.Status]string{
	catalog.Running: "en cours", catalog.Succeeded: "réussi", catalog.Failed: "échec", catalog.Unchanged: "inchangé",
	catalog.Cancelled: "annulé", catalog.Skipped: "sauté",
}

func statusOf(s catalog.Status) status {
	l := statusLabels[s]
	if l == "" {
		l = string(s)
	}
	return status{Class: "status " + string(s), Label: l}
}

var triggerLabels = map[catalog.Trigger]string{
	catalog.TriggerSchedule: "planification", catalog.TriggerUpstream: "amont modifié",
	catalog.TriggerManual: "manuel", catalog.TriggerCatchUp: "rattrapage",
}

func triggerLabel(t catalog.Trigger) string {
	if l := triggerLabels[t]; l != "" {
		return l
	}
	return string(t)
}
