// Package csv is the connector of delimited text files: CSV, semicolon- and
// tab-separated files as ministries publish them, local or over http(s).
//
// New builds a Source from a registration (see Options). Opening it reads
// the header and a sample of rows to settle what the registration leaves
// out:
//
//   - the encoding: UTF-8 (a byte order mark is dropped), Windows-1252 or
//     ISO-8859-1, all read into UTF-8;
//   - the delimiter among ";", ",", tab and "|";
//   - each column's type: boolean, integer, number (with a "." or, when the
//     delimiter is not ",", a "," decimal separator and space thousands
//     separators), date (yyyy-mm-dd, dd/mm/yyyy, yyyymmdd), datetime, or
//     string. A number written with a leading zero ("01", "01260") is a
//     code: the column stays a string.
//
// The registration's schema overrides inference column by column, and its
// options override detection. Column names go through
// connectors.ColumnNames; the original header is kept in each Arrow
// field's metadata under connectors.TitleKey.
//
// The stream replays the sample, then reads the rest of the file in chunks,
// parsing fields in place into Arrow builders, one batch ahead of the
// caller in a goroutine of its own: memory holds the sample and two
// batches, whatever the size of the file. A value that breaks its column's
// type further on stops the stream with a *connectors.DataError that names
// the line, the column and the value.
package csv
