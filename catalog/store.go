package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// SchemaName is the warehouse schema that holds the catalog. No dataset may
// use it.
const SchemaName = "datalab"

// Querier runs SQL: a *sql.DB, a *sql.Conn or a *sql.Tx.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Store is the catalog, kept in the warehouse itself in the schema
// SchemaName. Its methods are safe for concurrent use when its Querier is (a
// *sql.DB is).
type Store struct {
	q Querier
}

// migrations create and evolve the catalog's tables; the catalog records how
// many it applied. Append, never edit.
var migrations = []string{
	`CREATE SCHEMA IF NOT EXISTS datalab;
	CREATE TABLE datalab.datasets (
		id VARCHAR PRIMARY KEY,
		title VARCHAR NOT NULL,
		description VARCHAR,
		publisher VARCHAR NOT NULL,
		contact VARCHAR,
		access VARCHAR NOT NULL,
		license VARCHAR,
		frequency VARCHAR,
		schedule VARCHAR,
		source_kind VARCHAR NOT NULL,
		source JSON NOT NULL,
		schema JSON,
		contract VARCHAR NOT NULL,
		file VARCHAR,
		registered_at TIMESTAMP NOT NULL,
		updated_at TIMESTAMP NOT NULL
	);
	CREATE SEQUENCE datalab.snapshot_ids START 1;
	CREATE TABLE datalab.snapshots (
		id BIGINT PRIMARY KEY DEFAULT nextval('datalab.snapshot_ids'),
		dataset VARCHAR NOT NULL,
		access VARCHAR NOT NULL,
		started_at TIMESTAMP NOT NULL,
		finished_at TIMESTAMP,
		status VARCHAR NOT NULL,
		rows BIGINT,
		rejected BIGINT,
		columns JSON,
		content_hash VARCHAR,
		location VARCHAR,
		fingerprint JSON,
		error VARCHAR
	);
	CREATE SEQUENCE datalab.edge_ids START 1;
	CREATE TABLE datalab.lineage (
		id BIGINT PRIMARY KEY DEFAULT nextval('datalab.edge_ids'),
		src VARCHAR NOT NULL,
		dst VARCHAR NOT NULL,
		kind VARCHAR NOT NULL,
		snapshot BIGINT,
		recorded_at TIMESTAMP NOT NULL
	);`,
	`ALTER TABLE datalab.snapshots ADD COLUMN cursor VARCHAR;`,
	`CREATE SEQUENCE datalab.run_ids START 1;
	CREATE TABLE datalab.runs (
		id BIGINT PRIMARY KEY DEFAULT nextval('datalab.run_ids'),
		kind VARCHAR NOT NULL,
		name VARCHAR NOT NULL,
		trigger VARCHAR NOT NULL,
		cause VARCHAR,
		started_at TIMESTAMP NOT NULL,
		finished_at TIMESTAMP,
		status VARCHAR NOT NULL,
		rows BIGINT,
		attempts INTEGER,
		snapshot BIGINT,
		error VARCHAR
	);`,
}

// Open opens the catalog over q, creating or upgrading its tables.
func Open(ctx context.Context, q Querier) (*Store, error) {
	if _, err := q.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS datalab;
		CREATE TABLE IF NOT EXISTS datalab.meta (key VARCHAR PRIMARY KEY, value VARCHAR)`); err != nil {
		return nil, fmt.Errorf("catalog: create schema: %w", err)
	}
	var applied int
	err := q.QueryRowContext(ctx, `SELECT CAST(value AS INTEGER) FROM datalab.meta WHERE key = 'migrations'`).Scan(&applied)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("catalog: read version: %w", err)
	}
	if applied > len(migrations) {
		return nil, fmt.Errorf("catalog: the warehouse was written by a newer datalab (catalog version %d, this one knows %d); upgrade datalab", applied, len(migrations))
	}
	for i := applied; i < len(migrations); i++ {
		if _, err := q.ExecContext(ctx, migrations[i]); err != nil {
			return nil, fmt.Errorf("catalog: migration %d: %w", i+1, err)
		}
		if _, err := q.ExecContext(ctx, `INSERT OR REPLACE INTO datalab.meta VALUES ('migrations', ?)`, fmt.Sprint(i+1)); err != nil {
			return nil, fmt.Errorf("catalog: record migration %d: %w", i+1, err)
		}
	}
	return &Store{q: q}, nil
}

// In returns a Store that runs its statements through q, typically a
// *sql.Tx, so that catalog changes commit or roll back with the data.
func (s *Store) In(q Querier) *Store { return &Store{q: q} }

// Register records datasets, replacing earlier registrations of the same
// ids. Give it a Store bound to a transaction (In) to register several
// datasets all or nothing.
func (s *Store) Register(ctx context.Context, ds ...Dataset) error {
	now := time.Now().UTC()
	for _, d := range ds {
		var schema []byte
		if d.Schema != nil {
			var err error
			if schema, err = json.Marshal(d.Schema); err != nil {
				return fmt.Errorf("catalog: dataset %s: schema: %w", d.ID, err)
			}
		}
		_, err := s.q.ExecContext(ctx, `INSERT INTO datalab.datasets AS d
			(id, title, description, publisher, contact, access, license, frequency, schedule,
			 source_kind, source, schema, contract, file, registered_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET
			 title = excluded.title, description = excluded.description, publisher = excluded.publisher,
			 contact = excluded.contact, access = excluded.access, license = excluded.license,
			 frequency = excluded.frequency, schedule = excluded.schedule, source_kind = excluded.source_kind,
			 source = excluded.source, schema = excluded.schema, contract = excluded.contract,
			 file = excluded.file, updated_at = excluded.updated_at`,
			d.ID, d.Title, d.Description, d.Publisher, d.Contact, d.Access.String(), d.License, d.Frequency,
			d.Schedule, d.Source.Kind, string(d.Source.Options), nullString(schema), string(d.Contract), d.File, now, now)
		if err != nil {
			return fmt.Errorf("catalog: register %s: %w", d.ID, err)
		}
	}
	return nil
}

const datasetColumns = `id, title, description, publisher, contact, access, license, frequency, schedule,
	source_kind, CAST(source AS VARCHAR), CAST(schema AS VARCHAR), contract, file, registered_at, updated_at`

// Dataset returns the registration of id, or an error wrapping ErrNotFound.
func (s *Store) Dataset(ctx context.Context, id string) (Dataset, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+datasetColumns+` FROM datalab.datasets WHERE id = ?`, id)
	if err != nil {
		return Dataset{}, fmt.Errorf("catalog: dataset %s: %w", id, err)
	}
	ds, err := scanDatasets(rows)
	if err != nil {
		return Dataset{}, err
	}
	if len(ds) == 0 {
		return Dataset{}, fmt.Errorf("dataset %s: %w; `datalab dataset list` shows the registered ones", id, ErrNotFound)
	}
	return ds[0], nil
}

// Datasets returns every registered dataset, ordered by id.
func (s *Store) Datasets(ctx context.Context) ([]Dataset, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+datasetColumns+` FROM datalab.datasets ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("catalog: datasets: %w", err)
	}
	return scanDatasets(rows)
}

func scanDatasets(rows *sql.Rows) ([]Dataset, error) {
	defer rows.Close()
	var out []Dataset
	for rows.Next() {
		var d Dataset
		var desc, contact, license, freq, sched, schema, file sql.NullString
		var access, contract, source string
		if err := rows.Scan(&d.ID, &d.Title, &desc, &d.Publisher, &contact, &access, &license, &freq, &sched,
			&d.Source.Kind, &source, &schema, &contract, &file, &d.RegisteredAt, &d.UpdatedAt); err != nil {
			return nil, fmt.Errorf("catalog: read dataset: %w", err)
		}
		d.Description, d.Contact, d.License, d.Frequency, d.Schedule, d.File = desc.String, contact.String, license.String, freq.String, sched.String, file.String
		d.Source.Options = json.RawMessage(source)
		d.Contract = Contract(contract)
		lvl, err := ParseLevel(access)
		if err != nil {
			return nil, fmt.Errorf("catalog: dataset %s: %w", d.ID, err)
		}
		d.Access = lvl
		if schema.Valid {
			d.Schema = &Schema{}
			if err := json.Unmarshal([]byte(schema.String), d.Schema); err != nil {
				return nil, fmt.Errorf("catalog: dataset %s: schema: %w", d.ID, err)
			}
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: read datasets: %w", err)
	}
	return out, nil
}

func nullString(b []byte) sql.NullString {
	return sql.NullString{String: string(b), Valid: b != nil}
}
