package pipelines

import (
	"time"

	"github.com/datalab/datalab/catalog"
)

// Publication is what one run of a project publishes at one level: the
// notebooks' text and every indicator's values, after disclosure control.
// It is what the indicator files are written from.
type Publication struct {
	Project string
	// Level is the level the files are published at (out/<level>/<project>/).
	Level catalog.Level
	// Notebooks are the project's notebooks published at Level, in order.
	Notebooks []*Notebook
	// Indicators are their indicators' values, in order.
	Indicators []*IndicatorResult
	// Inputs are the dataset snapshots the notebooks read.
	Inputs []InputSnapshot
	// RunAt is when the run started.
	RunAt time.Time
	// Engine says which datalab and DuckDB computed it.
	Engine string
	// MinCount is the disclosure threshold applied (0 when none was needed).
	MinCount int
}

// IndicatorResult is an indicator's definition and published values.
type IndicatorResult struct {
	*Indicator
	// Notebook is the name of the notebook that defines it.
	Notebook string
	// InputLevel is the level of what its notebook reads; when it is above
	// the publication's level, values went through disclosure control.
	InputLevel catalog.Level
	// Rows are the values, ordered by period then by dimensions.
	Rows []IndicatorRow
	// Suppressed counts the rows whose value is suppressed.
	Suppressed int
}

// IndicatorRow is one value of an indicator.
type IndicatorRow struct {
	// Period is the period's value as text (a date is yyyy-mm-dd), empty when
	// the indicator has no period.
	Period string
	// By holds the values of the indicator's By dimensions, in order.
	By []string
	// Value is nil when it is suppressed or missing.
	Value *float64
	// Suppressed is true when disclosure control hid the value.
	Suppressed bool
}

// InputSnapshot is a dataset snapshot a run read.
type InputSnapshot struct {
	Dataset     string        `json:"dataset"`
	Snapshot    int64         `json:"snapshot"`
	ContentHash string        `json:"content_hash"`
	LoadedAt    time.Time     `json:"loaded_at"`
	Access      catalog.Level `json:"access"`
}
