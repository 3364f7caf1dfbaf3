// Package sqlsource is what the sources that read a SQL database table or
// query share, whatever the database: the options every such registration
// has (url, password_env, table or query, cursor, primary_key) and their
// checks, the password read from the environment and kept out of every
// error, and the order-independent hash of the rows read.
//
// The connectors of each database (connectors/postgres, connectors/mysql)
// keep what is theirs: the connection, the mapping of types to Arrow, the
// quoting of names and the SQL of the incremental cursor.
package sqlsource
