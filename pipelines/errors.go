package pipelines

import "errors"

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
