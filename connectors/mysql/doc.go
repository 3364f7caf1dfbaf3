// Package mysql is the connector of MySQL and MariaDB tables and queries:
// `kind: mysql` in a registration.
//
// New builds a Source from a registration (see Options):
//
//	source:
//	  kind: mysql
//	  url: mysql://datalab@db.example.org:3306/aides
//	  password_env: AIDES_MYSQL_PASSWORD  # the variable's name, never the password
//	  table: aides.demandes               # or query: SELECT ...
//	  cursor: id                          # optional: incremental ingests
//	  primary_key: [id]                   # optional: updated rows replace loaded ones
//
// A password is never written in a registration: New refuses a URL that
// holds one, and Open reads it from the environment variable that
// password_env names. No error of this package holds the password.
//
// Open connects with the Go MySQL driver (parseTime, loc=UTC, the session's
// time_zone '+00:00'), starts a read-only transaction and runs the query;
// the stream reads rows as the server sends them (database/sql's
// rows.Next) into Arrow builders, batch by batch, so that memory holds one
// batch whatever the size of the table. A stream released before its end
// drops the connection rather than read the rest.
//
// # Types
//
// Columns keep their MySQL name through connectors.ColumnNames, the
// original name in each Arrow field's metadata (connectors.TitleKey).
// Every column is nullable.
//
//	MySQL                                   Arrow               DuckDB
//	tinyint(1), bool, bit(1) (of a table)   bool                BOOLEAN
//	tinyint, smallint, mediumint, int,      int64               BIGINT
//	  bigint, year, and unsigned but bigint
//	bigint unsigned, bit(n)                 uint64              UBIGINT
//	decimal(p,s), p <= 38                   decimal128(p,s)     DECIMAL(p,s)
//	decimal(p,s), p > 38                    float64             DOUBLE
//	float                                   float32             FLOAT
//	double                                  float64             DOUBLE
//	char, varchar, text, enum, set, time    utf8                VARCHAR
//	json (MariaDB: longtext)                utf8 (JSON text)    VARCHAR
//	date                                    date32              DATE
//	datetime, timestamp                     timestamp[us]       TIMESTAMP
//	binary, varbinary, blob, geometry       binary              BLOB
//
// The protocol does not tell tinyint(1) from tinyint, nor bit(1) from
// bit(n): booleans are recognised from information_schema for a table
// source only; a query's booleans come as integers 0 and 1. The
// information_schema also gives an unsigned decimal's exact precision,
// which the protocol understates by one. TIMESTAMP values are read in UTC
// and DATETIME values as they are written; both become Arrow timestamps
// without time zone. MySQL's zero dates (0000-00-00) are read as NULL.
//
// # Incremental ingests
//
// With a cursor column, New returns an *IncrementalSource, a
// connectors.Incremental (without one, a *Source, which is not): Open reads
// `WHERE cursor > CAST(? AS <the column's type>) ORDER BY cursor` with the
// cursor of the last load (the cast keeps MySQL from comparing a number
// with a string as doubles), and the stream is a connectors.CursorStream
// whose Cursor is the highest value read, written by CAST(cursor AS CHAR).
// Rows whose cursor is NULL are read by a full load only. Text cursors
// compare by the column's collation, often case-insensitive: prefer an id
// or an update time.
//
// # Fingerprint
//
// Open never returns connectors.ErrUnchanged. The stream's fingerprint
// holds the location (mysql://host:port/database/table, without user or
// password) and, at a clean end, a hash of the rows that does not depend
// on their order, so that the ingest can tell an unchanged table after
// reading it.
package mysql
