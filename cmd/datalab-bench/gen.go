package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"golang.org/x/text/encoding/charmap"
)

// generate writes the input's file, unless it is there already: an integer
// id, a code with leading zeros, two dates, a decimal amount, a category
// (with accents) and a boolean; the same rows for the same number of rows.
func generate(in input) error {
	if info, err := os.Stat(in.Path); err == nil && info.Size() > 0 {
		return nil
	}
	tmp := in.Path + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	var w io.Writer = f
	if in.Encoding == "latin-1" {
		w = charmap.ISO8859_1.NewEncoder().Writer(f)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	categories := []string{"accordée", "refusée", "en cours", "classée sans suite", "irrecevable"}
	d := in.Delimiter
	fmt.Fprintf(bw, "id%scode_commune%sdate_depot%sdate_decision%smontant%scategorie%surgent\n", d, d, d, d, d, d)
	rng := rand.New(rand.NewPCG(42, 7))
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	layout := in.goDateLayout()
	var line []byte
	for i := 1; i <= in.Rows; i++ {
		filed := start.AddDate(0, 0, rng.IntN(2000))
		decided := filed.AddDate(0, 0, rng.IntN(200))
		cents := rng.Int64N(500_000)
		amount := fmt.Sprintf("%d.%02d", cents/100, cents%100)
		if in.Decimal == "," {
			amount = strings.Replace(amount, ".", ",", 1)
		}
		line = line[:0]
		line = fmt.Appendf(line, "%d%s%05d%s%s%s%s%s%s%s%s%s%t\n", i, d, rng.IntN(99_999), d, filed.Format(layout), d,
			decided.Format(layout), d, amount, d, categories[rng.IntN(len(categories))], d, rng.IntN(10) == 0)
		if _, err := bw.Write(line); err != nil {
			f.Close()
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, in.Path)
}

// goDateLayout is the Go layout of the input's dates.
func (in input) goDateLayout() string {
	if in.DateFormat == "%d/%m/%Y" {
		return "02/01/2006"
	}
	return "2006-01-02"
}
