package pipelines

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// PseudoKeyEnv is the environment variable that holds the key of the
// pseudonymisation pipelines datalab ships.
const PseudoKeyEnv = "DATALAB_PSEUDO_KEY"

// MinPseudoKeyBytes is the shortest key a Pseudonymiser accepts: 256 bits,
// the size of HMAC-SHA256's output, so that pseudonyms cannot be found by
// trying keys.
const MinPseudoKeyBytes = 32

// ErrWeakKey is returned for a pseudonymisation key that is too short.
var ErrWeakKey = errors.New("pseudonymisation key too short")

// PseudoEncoding is how a pseudonym is written.
type PseudoEncoding string

// The encodings of pseudonyms.
const (
	// PseudoHex writes the HMAC in lower-case hexadecimal: 64 characters.
	PseudoHex PseudoEncoding = "hex"
	// PseudoBase32 writes it in RFC 4648 base32 without padding: 52
	// characters.
	PseudoBase32 PseudoEncoding = "base32"
)

// Pseudonymiser is a Transformer that replaces the values of some columns
// by their keyed HMAC-SHA256, keeping every other column as it is and each
// column's name: the same value under the same key always gives the same
// pseudonym, so that tables stay joinable, but without the key the value
// cannot be found back, even by trying every possible identifier.
//
// Pseudonymised personal data is still personal data: a pipeline's output
// keeps the level of its input. The key never appears in what a
// Pseudonymiser prints (String, GoString), in logs or in the catalog.
type Pseudonymiser struct {
	key      []byte
	columns  []string
	encoding PseudoEncoding
}

// NewPseudonymiser returns a Pseudonymiser of columns under key, writing
// pseudonyms in encoding (PseudoHex when empty). A key shorter than
// MinPseudoKeyBytes is refused with ErrWeakKey; the key is copied.
func NewPseudonymiser(key []byte, encoding PseudoEncoding, columns ...string) (*Pseudonymiser, error) {
	if len(key) < MinPseudoKeyBytes {
		return nil, fmt.Errorf("%w: %d bytes, at least %d are needed; make one with `openssl rand -hex 32`", ErrWeakKey, len(key), MinPseudoKeyBytes)
	}
	switch encoding {
	case "":
		encoding = PseudoHex
	case PseudoHex, PseudoBase32:
	default:
		return nil, fmt.Errorf("pseudonymiser: encoding %q: use %s or %s", encoding, PseudoHex, PseudoBase32)
	}
	if len(columns) == 0 {
		return nil, errors.New("pseudonymiser: no column; name the columns that identify people")
	}
	return &Pseudonymiser{key: slices.Clone(key), columns: slices.Clone(columns), encoding: encoding}, nil
}

// String describes the Pseudonymiser without its key.
func (p *Pseudonymiser) String() string {
	return fmt.Sprintf("HMAC-SHA256 pseudonymisation of %s (%s)", strings.Join(p.columns, ", "), p.encoding)
}

// GoString describes the Pseudonymiser without its key, for %#v.
func (p *Pseudonymiser) GoString() string { return "pipelines.Pseudonymiser{" + p.String() + "}" }

// Fingerprint identifies the key, the columns and the encoding without
// revealing the key (an HMAC of a fixed text under it), so that a change of
// key computes the pipeline's output again.
func (p *Pseudonymiser) Fingerprint() string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte("datalab pseudonymisation key check"))
	return fmt.Sprintf("hmac-sha256 %s %s key %x", p.encoding, strings.Join(p.columns, ","), m.Sum(nil)[:8])
}

// Schema returns in with each pseudonymised column turned into a string
// column of the same name. Every column named must be there, of a string
// or integer type.
func (p *Pseudonymiser) Schema(in *arrow.Schema) (*arrow.Schema, error) {
	fields := slices.Clone(in.Fields())
	for _, name := range p.columns {
		idx := in.FieldIndices(name)
		if len(idx) == 0 {
			var have []string
			for _, f := range in.Fields() {
				have = append(have, f.Name)
			}
			return nil, fmt.Errorf("pseudonymiser: no column %s to pseudonymise; the columns are %s", name, strings.Join(have, ", "))
		}
		for _, i := range idx {
			f := fields[i]
			if !pseudonymisable(f.Type) {
				return nil, fmt.Errorf("pseudonymiser: column %s is %s; pseudonymise text or integer identifiers", name, f.Type)
			}
			fields[i] = arrow.Field{Name: f.Name, Type: arrow.BinaryTypes.String, Nullable: f.Nullable, Metadata: f.Metadata}
		}
	}
	md := in.Metadata()
	return arrow.NewSchema(fields, &md), nil
}

func pseudonymisable(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW,
		arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return true
	}
	return false
}

// Transform returns batch with the values of the pseudonymised columns
// replaced by their HMAC; nulls stay null.
func (p *Pseudonymiser) Transform(ctx context.Context, batch arrow.RecordBatch, mem memory.Allocator) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	schema, err := p.Schema(batch.Schema())
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, p.key)
	cols := make([]arrow.Array, batch.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, col := range batch.Columns() {
		if !slices.Contains(p.columns, batch.ColumnName(i)) {
			col.Retain()
			cols[i] = col
			continue
		}
		if cols[i], err = p.pseudonymise(mac, col, mem); err != nil {
			return nil, err
		}
	}
	return array.NewRecordBatch(schema, cols, batch.NumRows()), nil
}

// pseudonymise returns the pseudonyms of a column's values.
func (p *Pseudonymiser) pseudonymise(mac hash.Hash, col arrow.Array, mem memory.Allocator) (arrow.Array, error) {
	type valuer interface{ ValueStr(int) string }
	v, ok := col.(valuer)
	if !ok {
		return nil, fmt.Errorf("pseudonymiser: cannot read a column of type %s", col.DataType())
	}
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.Reserve(col.Len())
	var sum [sha256.Size]byte
	text := make([]byte, hex.EncodedLen(sha256.Size))
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding)
	for i := 0; i < col.Len(); i++ {
		if col.IsNull(i) {
			b.AppendNull()
			continue
		}
		mac.Reset()
		mac.Write([]byte(v.ValueStr(i)))
		mac.Sum(sum[:0])
		if p.encoding == PseudoBase32 {
			b.Append(b32.EncodeToString(sum[:]))
			continue
		}
		hex.Encode(text, sum[:])
		b.Append(string(text))
	}
	return b.NewArray(), nil
}
