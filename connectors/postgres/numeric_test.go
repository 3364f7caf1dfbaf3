package postgres

import (
	"math/big"
	"math/rand"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/jackc/pgx/v5/pgtype"
)

// scaled, the fast path of numeric(p,s) columns, gives what the general
// path gives, or leaves the value to it: numerics of every size and
// exponent that pgx's encoder writes, at scales 0 to 8.
func TestScaledMatchesDecimal(t *testing.T) {
	m := pgtype.NewMap()
	rng := rand.New(rand.NewSource(7))
	fast := 0
	for range 200_000 {
		digits := rng.Intn(20) + 1
		mant := new(big.Int).Rand(rng, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil))
		if rng.Intn(2) == 0 {
			mant.Neg(mant)
		}
		exp := int32(rng.Intn(17) - 8)
		v, err := m.Encode(pgtype.NumericOID, pgtype.BinaryFormatCode, pgtype.Numeric{Int: mant, Exp: exp, Valid: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		n, err := parseNumeric(v)
		if err != nil {
			t.Fatal(err)
		}
		for scale := int32(0); scale <= 8; scale++ {
			x, ok := n.scaled(scale)
			if !ok {
				continue
			}
			fast++
			want, wok := n.decimal(scale)
			if !wok || decimal128.FromI64(x) != want {
				t.Fatalf("%se%d at scale %d: scaled %d, decimal %v (%t)", mant, exp, scale, x, want.BigInt(), wok)
			}
		}
	}
	if fast < 100_000 {
		t.Errorf("the fast path took %d values of 1,800,000: too few to tell", fast)
	}
}
