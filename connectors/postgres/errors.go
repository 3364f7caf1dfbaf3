package postgres

import (
	"errors"

	"github.com/datalab/datalab/connectors/sqlsource"
)

// ErrPasswordEnv is wrapped when the environment variable that
// Options.PasswordEnv names is not set: the message names the variable.
// It is sqlsource.ErrPasswordEnv.
var ErrPasswordEnv = sqlsource.ErrPasswordEnv

// ErrConnect is wrapped when the server cannot be reached or refuses the
// connection: the message says host, port, database, user and what to
// check.
var ErrConnect = errors.New("cannot connect to PostgreSQL")
