// Package postgres is the connector of PostgreSQL tables and queries:
// `kind: postgres` in a registration.
//
// New builds a Source from a registration (see Options):
//
//	source:
//	  kind: postgres
//	  url: postgres://datalab@db.example.org:5432/cnaf?sslmode=require
//	  password_env: CNAF_PG_PASSWORD   # the variable's name, never the password
//	  table: public.allocataires       # or query: SELECT ...
//	  cursor: updated_at               # optional: incremental ingests
//	  primary_key: [id]                # optional: updated rows replace loaded ones
//
// A password is never written in a registration: New refuses a URL that
// holds one, and Open reads it from the environment variable that
// password_env names. No error of this package holds the password, even
// when the driver or the server would quote it.
//
// Open connects with pgx, opens a read-only REPEATABLE READ transaction and
// reads the whole result through one streaming binary COPY
// (COPY (SELECT ...) TO STDOUT (FORMAT binary); COPY schema.table TO
// STDOUT for a plain table, which the server reads without running a
// query). Once the COPY is sent,
// the stream reads the server's answer from the connection itself (pgx's
// Hijack): a goroutine reads as much as the server sent into one buffer of
// a few hundred kilobytes, and decodes the binary values in place straight
// into Arrow builders, one batch ahead of Next. Memory holds a few batches
// whatever the size of the table. Next checks the context between batches,
// and cancelling it interrupts a read under way; the stream's last Release
// stops the COPY and closes the connection.
//
// # Types
//
// Columns keep their PostgreSQL name through connectors.ColumnNames, the
// original name in each Arrow field's metadata (connectors.TitleKey).
// Every column is nullable.
//
//	PostgreSQL                     Arrow                 DuckDB
//	smallint (int2)                int16                 SMALLINT
//	integer (int4)                 int32                 INTEGER
//	bigint (int8)                  int64                 BIGINT
//	real (float4)                  float32               FLOAT
//	double precision (float8)      float64               DOUBLE
//	numeric(p,s), p <= 38, s >= 0  decimal128(p,s)       DECIMAL(p,s)
//	numeric, numeric(p,s) p > 38   float64               DOUBLE
//	text, varchar, char(n), name   utf8                  VARCHAR
//	boolean                        bool                  BOOLEAN
//	date                           date32                DATE
//	timestamp                      timestamp[us]         TIMESTAMP
//	timestamptz                    timestamp[us, UTC]    TIMESTAMP WITH TIME ZONE
//	uuid                           utf8 (canonical)      VARCHAR
//	json, jsonb                    utf8 (JSON text)      VARCHAR
//	bytea                          binary                BLOB
//	T[] of any type above          list<T>               T[]
//	anything else                  utf8 (its text form)  VARCHAR
//
// A numeric without a precision has no fixed scale for a decimal column:
// it is read as a double, exact to about 15 significant digits. Declare
// the column numeric(p,s), or cast it in a query (amount::numeric(14,2)),
// to keep it exact. A char(n) keeps its padding. Anything else (interval,
// time, inet, enums, ranges, ...) is read as PostgreSQL writes it as text.
//
// Values that an Arrow column cannot hold stop the stream with a
// *connectors.DataError naming the column and the value: NaN or infinity
// in a numeric(p,s), an infinite date or timestamp, a multi-dimensional
// array.
//
// # Incremental ingests
//
// With a cursor column, New returns an *IncrementalSource, a
// connectors.Incremental (without one, a *Source, which is not): Open reads
// `WHERE cursor > '<last cursor>' ORDER BY cursor` (COPY takes no
// parameter: the value is a quoted literal, checked first as a parameter),
// which the server reads as the column's type (integers, timestamps, text,
// dates, ...), and the stream is a connectors.CursorStream whose Cursor is
// the highest value read, in PostgreSQL's text form (timestamps in UTC).
// Rows whose cursor is NULL are read by a full load only. A row committed
// later with a cursor at or below the last one read is missed: a cursor
// set by the writing transaction's clock can be overtaken by a
// longer-running transaction, so prefer a sequence or an update time set
// by a trigger, and reload (ingest --force) from time to time.
//
// # Fingerprint
//
// A database cannot tell cheaply that a table has not changed: Open never
// returns connectors.ErrUnchanged. The stream's fingerprint holds the
// location (postgres://host:port/database/schema.table, without user or
// password) and, at a clean end, a hash of the rows that does not depend
// on their order, so that the ingest can tell an unchanged table after
// reading it and keep the loaded one.
package postgres
