package pipelines

import (
	"errors"

	"github.com/datalab/datalab/catalog"
)

var (
	// ErrNoWorkspace is returned when a folder is not a workspace.
	ErrNoWorkspace = errors.New("not a workspace")
	// ErrInvalid is wrapped when a request is invalid: a bad registration, an
	// unknown dataset. The user must change what they asked (exit status 2).
	ErrInvalid = errors.New("invalid request")
)

// ErrContract is wrapped when a source breaks its registration's contract
// or constraints: the ingest fails and nothing is written.
var ErrContract = errors.New("contract broken")

// ErrRefused is wrapped when a notebook asks for what it may not do: read a
// file, change a table, publish restricted data below its level. The run
// fails and writes nothing at that level.
var ErrRefused = errors.New("refused")

// querier runs SQL: a *sql.DB, *sql.Conn or *sql.Tx.
type querier = catalog.Querier
